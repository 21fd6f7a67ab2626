/**
 * Tensors in and out of ONNX Runtime sessions: the specs of a session's inputs, our float32 data in
 * the dtype an input wants, outputs read back as float32. Shared by the model adapter and the
 * GPU-resident loop.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { ModelError } from '../../core/errors';
import { float16ToFloat32, float32ToFloat16 } from '../../core/math/float16';
import { tensor, type Tensor } from '../../core/math/tensor';

/** The part of an onnxruntime module this adapter uses. */
export interface OrtModule {
  Tensor: new (type: OrtTensor.Type, data: OrtTensor.DataType, dims?: readonly number[]) => OrtTensor;
}

export interface InputSpec {
  name: string;
  type: string;
  /** Static sizes as numbers, symbolic ones as names (or -1). */
  shape: readonly (number | string)[];
}

export function inputSpecs(session: InferenceSession): InputSpec[] {
  return session.inputMetadata.map((m) => {
    if (!m.isTensor) throw new ModelError(`Input "${m.name}" is not a tensor.`);
    return { name: m.name, type: m.type, shape: m.shape };
  });
}

export function findInput(specs: InputSpec[], part: string, names: string[]): InputSpec {
  const spec = specs.find((s) => names.includes(s.name));
  if (!spec) {
    throw new ModelError(
      `The ${part} model has no input named ${names.map((n) => `"${n}"`).join(' or ')} (it has ${specs.map((s) => s.name).join(', ')}).`,
    );
  }
  return spec;
}

export function pickOutput(session: InferenceSession, part: string, names: string[]): string {
  const name = names.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];
  if (!name) throw new ModelError(`The ${part} model has no outputs.`);
  return name;
}

/** Our float32 data in the dtype a model input wants. */
export function floatInput(ort: OrtModule, spec: InputSpec, data: Float32Array, dims: readonly number[]): OrtTensor {
  if (spec.type === 'float32') return new ort.Tensor('float32', data, dims);
  if (spec.type === 'float16') return new ort.Tensor('float16', float32ToFloat16(data), dims);
  throw new ModelError(`Input "${spec.name}" has type ${spec.type}; float32 or float16 was expected.`);
}

/** An output read to the CPU: GPU-located outputs are downloaded and their buffer freed. */
export async function readOutput(t: OrtTensor): Promise<Tensor> {
  if (t.location === 'cpu') return floatOutput(t.type, t.data, t.dims);
  const data = await t.getData(true);
  t.dispose();
  return floatOutput(t.type, data, t.dims);
}

function floatOutput(type: OrtTensor.Type, data: OrtTensor.DataType, outDims: readonly number[]): Tensor {
  const dims = [...outDims];
  // ORT hands back a fresh array for outputs: used as is, not copied again.
  if (type === 'float32') return tensor(data as Float32Array, dims);
  if (type === 'float16') {
    const bits = data instanceof Uint16Array ? data : new Uint16Array((data as unknown as ArrayBufferView).buffer);
    return tensor(float16ToFloat32(bits), dims);
  }
  throw new ModelError(`An output has type ${type}; float32 or float16 was expected.`);
}

/** The timestep as the export wants it: dtype from metadata, a scalar, [1] or one per batch item. */
export function timestepTensor(ort: OrtModule, spec: InputSpec, t: number): OrtTensor {
  const rank = spec.shape.length;
  const first = spec.shape[0];
  const count = rank === 0 ? 1 : typeof first === 'number' && first > 0 ? first : 1;
  const dims = rank === 0 ? [] : [count];
  switch (spec.type) {
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(Math.round(t))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(count).fill(Math.round(t)), dims);
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(count).fill(t), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToFloat16(new Float32Array(count).fill(t)), dims);
    default:
      throw new ModelError(`The UNet's timestep has type ${spec.type}, which this app cannot feed.`);
  }
}
