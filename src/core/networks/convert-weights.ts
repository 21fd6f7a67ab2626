/**
 * Weights converted to the type a graph computes in, tensor by tensor, into new buffers of at most
 * `SHARD_BYTES` each, so no graph needs a Cast per weight. Files already in that type pass through
 * untouched: an fp16 file for a float16 graph (the usual case on a GPU with shader-f16) is handed
 * to the runtime as it was downloaded, with no copy in JS.
 *
 * Why not Cast in the graph: ORT folds a Cast of an initializer when it creates the session, on
 * the CPU, inside the WASM heap (4 GiB at most): the source bytes and their result together.
 * Measured with SD 1.5's UNet (860M parameters, 1.72 GB of fp16) on WebGPU: session creation failed
 * with std::bad_alloc. Converted here, the shards go to the GPU as external data directly.
 */
import { bfloat16ToFloat32, type SafetensorsEntry, type SafetensorsHeader } from '../formats/safetensors';
import { narrowToHalves, widenHalves } from '../math/float16';
import type { Precision, WeightFile } from './graph';

/** Under Chrome's ~2 GiB per ArrayBuffer, and small enough to allocate on a fragmented heap. */
export const SHARD_BYTES = 1 << 30;

export interface ConvertedWeights {
  files: WeightFile[];
  /** The bytes behind each file's location, for the runtime's externalData. */
  external: { path: string; data: Uint8Array }[];
}

const FLOATS = new Set<SafetensorsEntry['dtype']>(['F32', 'F16', 'BF16']);

/** A float tensor's values as float32 (a view where the bytes are float32 and aligned). */
export function tensorAsFloat32(bytes: Uint8Array, e: SafetensorsEntry): Float32Array {
  const count = e.shape.reduce((a, b) => a * b, 1);
  const offset = bytes.byteOffset + e.begin;
  if (e.dtype === 'F32') {
    return offset % 4 === 0
      ? new Float32Array(bytes.buffer, offset, count)
      : new Float32Array(bytes.slice(e.begin, e.end).buffer);
  }
  const halves =
    offset % 2 === 0
      ? new Uint16Array(bytes.buffer, offset, count)
      : new Uint16Array(bytes.slice(e.begin, e.end).buffer);
  if (e.dtype === 'BF16') return bfloat16ToFloat32(halves);
  const out = new Float32Array(count);
  widenHalves(halves, out);
  return out;
}

/**
 * `files` with every float tensor in `precision`'s type: files already all of it pass through; any
 * other file's tensors are converted into shards named `<location>.f32.<n>` or `<location>.f16.<n>`.
 */
export function convertWeights(
  files: { file: WeightFile; bytes: Uint8Array }[],
  precision: Precision,
  shardBytes = SHARD_BYTES,
): ConvertedWeights {
  const target: SafetensorsEntry['dtype'] = precision === 'float16' ? 'F16' : 'F32';
  const width = target === 'F16' ? 2 : 4;
  const tag = target === 'F16' ? 'f16' : 'f32';
  const out: ConvertedWeights = { files: [], external: [] };
  for (const { file, bytes } of files) {
    const entries = [...file.header.tensors.values()];
    if (entries.every((e) => e.dtype === target || !FLOATS.has(e.dtype))) {
      out.files.push(file);
      out.external.push({ path: file.location, data: bytes });
      continue;
    }
    const shards: { location: string; entries: SafetensorsEntry[]; bytes: number }[] = [];
    // Every tensor starts 8-byte aligned in its shard, so typed views on it are legal.
    const align = (n: number) => Math.ceil(n / 8) * 8;
    const size = (e: SafetensorsEntry) =>
      FLOATS.has(e.dtype) ? e.shape.reduce((a, b) => a * b, 1) * width : e.end - e.begin;
    for (const e of entries) {
      let shard = shards[shards.length - 1];
      if (!shard || (shard.bytes + align(size(e)) > shardBytes && shard.entries.length > 0)) {
        shard = { location: `${file.location}.${tag}.${shards.length}`, entries: [], bytes: 0 };
        shards.push(shard);
      }
      shard.entries.push(e);
      shard.bytes += align(size(e));
    }
    for (const shard of shards) {
      const data = new Uint8Array(shard.bytes);
      const tensors = new Map<string, SafetensorsEntry>();
      let at = 0;
      for (const e of shard.entries) {
        const length = size(e);
        if (!FLOATS.has(e.dtype) || e.dtype === target) {
          data.set(bytes.subarray(e.begin, e.end), at);
        } else {
          const values = tensorAsFloat32(bytes, e);
          if (target === 'F32') new Float32Array(data.buffer, at, values.length).set(values);
          else narrowToHalves(values, new Uint16Array(data.buffer, at, values.length));
        }
        tensors.set(e.name, { ...e, dtype: FLOATS.has(e.dtype) ? target : e.dtype, begin: at, end: at + length });
        at += align(length);
      }
      const header: SafetensorsHeader = {
        file: file.header.file,
        dataStart: 0,
        size: data.length,
        tensors,
        metadata: file.header.metadata,
      };
      out.files.push({ header, location: shard.location });
      out.external.push({ path: shard.location, data });
    }
  }
  return out;
}
