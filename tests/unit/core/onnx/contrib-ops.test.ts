/**
 * onnxruntime's contrib operators in a built graph: the node carries its domain and the model
 * imports `com.microsoft`, so a runtime finds the kernel (here onnxruntime-node's CPU BiasGelu,
 * against the same sum and GELU written in plain ONNX).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, WeightSet } from '../../../../src/core/networks/graph';
import { gelu } from '../../../../src/core/networks/layers';
import { ONNX_FLOAT } from '../../../../src/core/onnx/writer';

function graph(fused: boolean): Uint8Array {
  const g = new Graph('contrib', new WeightSet([]));
  const x = g.input('x', ONNX_FLOAT, [2, 3, 4]);
  const bias = g.floatsConst([0.5, -1, 2, 0], [4]);
  const out = fused ? g.contribOp('BiasGelu', [x, bias])[0]! : gelu(g, g.op('Add', [x, bias]));
  g.output('y', out, ONNX_FLOAT, [2, 3, 4]);
  return g.encode();
}

describe('contrib operators', () => {
  it('are written in the com.microsoft domain and run as the plain graph does', async () => {
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3),
      [2, 3, 4],
    );
    const results: Float32Array[] = [];
    for (const fused of [false, true]) {
      const session = await ort.InferenceSession.create(graph(fused));
      results.push((await session.run({ x }))['y']!.data as Float32Array);
      await session.release();
    }
    const [plain, fused] = results as [Float32Array, Float32Array];
    for (let i = 0; i < plain.length; i++) expect(fused[i]).toBeCloseTo(plain[i]!, 5);
    expect(Buffer.from(graph(true)).includes('com.microsoft')).toBe(true);
    expect(Buffer.from(graph(false)).includes('com.microsoft')).toBe(false);
  });
});
