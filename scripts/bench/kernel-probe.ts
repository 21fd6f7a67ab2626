/**
 * `npx tsx scripts/bench/kernel-probe.ts [--precision float16|float32] [--kernels …]`: each fused
 * kernel onnxruntime-web's WebGPU EP offers for SD's blocks, against the graph the app builds
 * without it, at SD 1.5's shapes. Per kernel and shape: the fused and the plain graph on WebGPU,
 * both against float32 numbers from onnxruntime-node's CPU (‖a−b‖∞/‖b‖∞ and the mean relative
 * difference), and the median ms of each. The kernels the builders use are chosen from these
 * figures (see src/worker/runtime/graph-form.ts). LATENT_LAVAPIPE=1 pins lavapipe.
 */
import { parseArgs } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import { Graph, WeightSet, type Precision } from '../../src/core/networks/graph';
import { gelu, scaledDotProductAttention } from '../../src/core/networks/layers';
import { ONNX_FLOAT } from '../../src/core/onnx/writer';
import { LAVAPIPE_ICD } from '../node-gpu/dawn';
import { openNodeGpu } from '../node-gpu/runtime';

interface Case {
  kernel: string;
  shape: string;
  /** Inputs by name with their dims (filled with a seeded pattern scaled by `scale`). */
  inputs: Record<string, number[]>;
  scale: number;
  build: (g: Graph, fused: boolean, x: Record<string, string>) => string;
}

const attention = (tokens: number, contextTokens: number, dim: number, heads: number): Case => ({
  kernel: 'MultiHeadAttention',
  shape: `q [1, ${tokens}, ${dim}], kv ${contextTokens} tokens, ${heads} heads`,
  inputs: { q: [1, tokens, dim], k: [1, contextTokens, dim], v: [1, contextTokens, dim] },
  scale: 2,
  build: (g, fused, { q, k, v }) =>
    fused
      ? g.contribOp('MultiHeadAttention', [q!, k!, v!], [{ name: 'num_heads', i: heads }])[0]!
      : scaledDotProductAttention(g, q!, k!, v!, { heads, headDim: dim / heads }),
});

const geglu = (tokens: number, inner: number): Case => ({
  kernel: 'BiasSplitGelu',
  shape: `[1, ${tokens}, ${2 * inner}]`,
  inputs: { x: [1, tokens, 2 * inner], bias: [2 * inner] },
  scale: 3,
  build: (g, fused, { x, bias }) => {
    if (fused) return g.contribOp('BiasSplitGelu', [x!, bias!])[0]!;
    const [value, gate] = g.opN('Split', [g.op('Add', [x!, bias!]), g.ints([inner, inner])], 2, [
      { name: 'axis', i: -1 },
    ]);
    return g.op('Mul', [value!, gelu(g, gate!)]);
  },
});

const skipLayerNorm = (tokens: number, dim: number): Case => ({
  kernel: 'SkipLayerNormalization',
  shape: `[1, ${tokens}, ${dim}]`,
  inputs: { x: [1, tokens, dim], skip: [1, tokens, dim], gamma: [dim], beta: [dim] },
  scale: 4,
  build: (g, fused, { x, skip, gamma, beta }) =>
    fused
      ? g.contribOp('SkipLayerNormalization', [x!, skip!, gamma!, beta!], [{ name: 'epsilon', f: 1e-5 }])[0]!
      : g.op(
          'LayerNormalization',
          [g.op('Add', [x!, skip!]), gamma!, beta!],
          [
            { name: 'axis', i: -1 },
            { name: 'epsilon', f: 1e-5 },
          ],
        ),
});

// SD 1.5 at 512² (64×64 latents): its three attention widths, self- and cross-attention.
const CASES: Case[] = [
  attention(256, 256, 1280, 8),
  attention(1024, 1024, 640, 8),
  attention(4096, 77, 320, 8),
  attention(1024, 77, 640, 8),
  attention(4096, 4096, 320, 8),
  geglu(4096, 1280),
  geglu(256, 5120),
  skipLayerNorm(4096, 320),
  skipLayerNorm(256, 1280),
];

function pattern(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function graphOf(c: Case, precision: Precision, fused: boolean): Uint8Array {
  const g = new Graph('probe', new WeightSet([]), { precision });
  const x: Record<string, string> = {};
  for (const [name, dims] of Object.entries(c.inputs)) x[name] = g.toCompute(g.input(name, ONNX_FLOAT, dims));
  const out = c.build(g, fused, x);
  g.output('out', g.toFloat32(out), ONNX_FLOAT, ['batch', 'tokens', 'channels']);
  return g.encode();
}

function difference(a: Float32Array, b: Float32Array): { maxRel: number; meanRel: number } {
  let maxDiff = 0;
  let maxRef = 0;
  let sumDiff = 0;
  let sumRef = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    maxDiff = Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
    sumDiff += d;
    sumRef += Math.abs(b[i]!);
  }
  const r = (x: number) => Number(x.toExponential(2));
  return { maxRel: r(maxDiff / maxRef), meanRel: r(sumDiff / sumRef) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      precision: { type: 'string', default: 'float16' },
      kernels: { type: 'string', default: 'MultiHeadAttention,BiasSplitGelu,SkipLayerNormalization' },
      runs: { type: 'string', default: '3' },
    },
  });
  const precision: Precision = values.precision === 'float32' ? 'float32' : 'float16';
  const wanted = values.kernels.split(',');
  const runs = Number(values.runs);
  const gpu = await openNodeGpu(process.env['LATENT_LAVAPIPE'] === '1' ? { icd: LAVAPIPE_ICD } : {});
  console.log(JSON.stringify({ adapter: gpu.adapter.description, precision }));
  for (const c of CASES.filter((k) => wanted.includes(k.kernel))) {
    const feedsOf = <T>(make: (data: Float32Array, dims: number[]) => T) =>
      Object.fromEntries(
        Object.entries(c.inputs).map(([name, dims], i) => {
          const n = dims.reduce((a, b) => a * b, 1);
          return [name, make(pattern(n, 17 + i, c.scale), dims)];
        }),
      );
    const reference = await ortNode.InferenceSession.create(graphOf(c, 'float32', false));
    const want = (await reference.run(feedsOf((d, dims) => new ortNode.Tensor('float32', d, dims)))).out!
      .data as Float32Array;
    const row: Record<string, unknown> = { kernel: c.kernel, shape: c.shape };
    for (const fused of [false, true]) {
      const label = fused ? 'fused' : 'plain';
      try {
        const session = await gpu.session(graphOf(c, precision, fused), []);
        const feeds = feedsOf((d, dims) => new gpu.ort.Tensor('float32', d, dims));
        const got = (await session.run(feeds)).out!.data as Float32Array;
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await session.run(feeds);
          times.push(performance.now() - t);
        }
        await session.release();
        row[label] = { ...difference(got, want), ms: Math.round(median(times) * 10) / 10 };
      } catch (error) {
        row[label] = { error: error instanceof Error ? error.message.slice(0, 600) : String(error) };
      }
    }
    console.log(JSON.stringify(row));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
