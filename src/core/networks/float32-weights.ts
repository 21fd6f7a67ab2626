/**
 * fp16 and bf16 weights widened to float32 tensor by tensor, into new buffers of at most
 * `SHARD_BYTES` each, so the graphs compute in float32 without a Cast node per weight.
 *
 * Why not Cast in the graph: ORT folds a Cast of an initializer when it creates the session, on
 * the CPU, inside the WASM heap (4 GiB at most): the fp16 bytes and their float32 result together.
 * Measured with SD 1.5's UNet (860M parameters, 1.72 GB of fp16) on WebGPU: session creation failed
 * with std::bad_alloc. Widened here, the float32 shards go to the GPU as external data directly.
 */
import { bfloat16ToFloat32, type SafetensorsEntry, type SafetensorsHeader } from '../formats/safetensors';
import { widenHalves } from '../math/float16';
import type { WeightFile } from './graph';

/** Under Chrome's ~2 GiB per ArrayBuffer, and small enough to allocate on a fragmented heap. */
export const SHARD_BYTES = 1 << 30;

export interface WidenedWeights {
  files: WeightFile[];
  /** The bytes behind each file's location, for the runtime's externalData. */
  external: { path: string; data: Uint8Array }[];
}

/**
 * `files` as float32: files whose tensors are all F32 pass through untouched (no copy); any other
 * file's float tensors are widened into float32 shards named `<location>.f32.<n>`.
 */
export function widenToFloat32(
  files: { file: WeightFile; bytes: Uint8Array }[],
  shardBytes = SHARD_BYTES,
): WidenedWeights {
  const out: WidenedWeights = { files: [], external: [] };
  for (const { file, bytes } of files) {
    const entries = [...file.header.tensors.values()];
    if (entries.every((e) => e.dtype === 'F32')) {
      out.files.push(file);
      out.external.push({ path: file.location, data: bytes });
      continue;
    }
    const shards: { location: string; entries: SafetensorsEntry[]; bytes: number }[] = [];
    // Every tensor starts 8-byte aligned in its shard, so float32 views on it are legal.
    const align = (n: number) => Math.ceil(n / 8) * 8;
    const wide = (e: SafetensorsEntry) =>
      e.dtype === 'F16' || e.dtype === 'BF16' ? (e.end - e.begin) * 2 : e.end - e.begin;
    for (const e of entries) {
      let shard = shards[shards.length - 1];
      if (!shard || (shard.bytes + align(wide(e)) > shardBytes && shard.entries.length > 0)) {
        shard = { location: `${file.location}.f32.${shards.length}`, entries: [], bytes: 0 };
        shards.push(shard);
      }
      shard.entries.push(e);
      shard.bytes += align(wide(e));
    }
    for (const shard of shards) {
      const data = new Uint8Array(shard.bytes);
      const tensors = new Map<string, SafetensorsEntry>();
      let at = 0;
      for (const e of shard.entries) {
        const raw = bytes.subarray(e.begin, e.end);
        const size = wide(e);
        if (e.dtype === 'F16' || e.dtype === 'BF16') {
          // Halves read in place when aligned (safetensors' writer aligns them), else from a copy;
          // float32 written straight into the shard (every offset there is a multiple of 4).
          const offset = bytes.byteOffset + e.begin;
          const halves =
            offset % 2 === 0
              ? new Uint16Array(bytes.buffer, offset, raw.length / 2)
              : new Uint16Array(raw.slice().buffer);
          const target = new Float32Array(data.buffer, at, halves.length);
          if (e.dtype === 'F16') widenHalves(halves, target);
          else target.set(bfloat16ToFloat32(halves));
        } else {
          data.set(raw, at);
        }
        tensors.set(e.name, {
          ...e,
          dtype: e.dtype === 'F16' || e.dtype === 'BF16' ? 'F32' : e.dtype,
          begin: at,
          end: at + size,
        });
        at += align(size);
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
