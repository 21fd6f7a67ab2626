/**
 * What a load will hold, checked from the plan's sizes before anything is downloaded: a model that
 * cannot fit is refused with the reason in words, not after minutes of downloading.
 */
import { ModelError } from '../../core/errors';
import type { FileRef, LoadPlan } from '../../protocol/load-plan';
import type { AdapterInfo } from '../../protocol/messages';
import { plannedFiles } from './model-files';

/** Chrome cannot allocate one ArrayBuffer much past 2 GiB; the WASM heap stops at 4 GiB. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;
export const WASM_MEMORY_BYTES = 4 * 2 ** 30;
/**
 * The weights SDXL may take on a GPU without shader-f16, where they compute in float32. WebGPU does
 * not say how much memory a GPU has; SDXL in float32 is about 13.8 GB of weights (measured from
 * the hub listing: 6.9 GB in fp16), past most GPUs, so such a load is refused rather than tried.
 */
export const FLOAT32_GPU_BYTES = 4 * 2 ** 30;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** A weights file stored in fp16 (the variant's name, or converted to fp16 on the way). */
const isHalf = (f: FileRef) => f.convert === 'fp16' || /\.fp16[.-]/.test(f.path);

export function checkFit(plan: LoadPlan, backend: 'webgpu' | 'wasm', adapter: AdapterInfo | null): void {
  const c = plan.components;
  // An fp16 ONNX graph needs shader-f16. The graphs the app builds from a checkpoint run on any
  // adapter: float16 where it has shader-f16, float32 (its fp16 weights widened) where not.
  const computesInFp16 = plan.dtype === 'fp16' && c.format === 'onnx';
  if (computesInFp16 && backend === 'webgpu' && adapter && !adapter.shaderF16) {
    throw new ModelError(
      `${plan.name} has fp16 weights and needs WebGPU's shader-f16 feature, which this GPU (${adapter.vendor} ${adapter.architecture}) does not offer. Choose an fp32 model, or another browser or GPU.`,
    );
  }
  const files = plannedFiles(c);
  // What each file takes in memory once here: a file converted to fp16 on the way, half its size.
  const held = (f: FileRef) => (f.size ?? 0) / (f.convert ? 2 : 1);
  // A checkpoint's safetensors arrive as shards of at most SHARD_BYTES (model-files.ts); an ONNX
  // file is handed to the runtime whole.
  const big = files.find((f) => held(f) > MAX_FILE_BYTES && !f.path.endsWith('.safetensors'));
  if (big) {
    throw new ModelError(
      `${big.path} is ${(held(big) / 2 ** 30).toFixed(2)} GiB, more than the ~2 GiB a browser can hold in one buffer. Use an export with external data (model.onnx + model.onnx_data), fp16 weights or a sharded save.`,
    );
  }
  // What the weights take in the type they compute in: a checkpoint's fp16 weights are widened to
  // float32 on WASM and on GPUs without shader-f16.
  const float32 = c.format !== 'onnx' && !(backend === 'webgpu' && adapter?.shaderF16);
  const computed = (f: FileRef) => held(f) * (float32 && isHalf(f) ? 2 : 1);
  const total = files.reduce((s, f) => s + computed(f), 0) || plan.approxBytes || 0;
  const sdxl = c.format === 'safetensors' && c.textEncoder2 !== undefined;
  const inHalf = files.reduce((s, f) => s + held(f) / (isHalf(f) ? 1 : 2), 0);
  if (backend === 'wasm' && total > WASM_MEMORY_BYTES) {
    throw new ModelError(
      sdxl
        ? `${plan.name} is an SDXL model: its weights are about ${gib(total)} in float32, the type WASM computes in, more than WASM's 4 GiB memory. SDXL runs on WebGPU on a GPU with shader-f16, where its weights are about ${gib(inHalf)}. Choose WebGPU in settings, or an SD 1.x/2.x model.`
        : `${plan.name} needs about ${gib(total)}, more than WASM's 4 GiB memory. Use WebGPU or a smaller (fp16) model.`,
    );
  }
  if (backend === 'webgpu' && sdxl && adapter && !adapter.shaderF16 && total > FLOAT32_GPU_BYTES) {
    throw new ModelError(
      `${plan.name} is an SDXL model, and this GPU (${adapter.vendor} ${adapter.architecture}) has no shader-f16: its weights would compute in float32, about ${gib(total)} of GPU memory, which a browser tab cannot count on. SDXL runs on GPUs with shader-f16 (about ${gib(inHalf)}); choose an SD 1.x/2.x model here.`,
    );
  }
}
