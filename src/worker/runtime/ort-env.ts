/**
 * onnxruntime-web's environment, set before anything else imports it. @huggingface/transformers
 * points ORT at a CDN when no WASM path is set; the app serves its own copy instead, so nothing
 * is fetched from anywhere but the app's origin. One ORT version serves both (npm overrides).
 *
 * Two builds of it: WebGPU needs the asyncify build (its GPU calls are async), whose instrumented
 * code also makes the CPU kernels slower; the WASM backend therefore loads the plain build,
 * only when it is chosen (see `ortFor`).
 */
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type OrtWeb = typeof ort;

export function pinWasmPaths(): void {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
}

pinWasmPaths();

let wasmOnly: Promise<OrtWeb> | null = null;

/** The ORT build for a backend; the WASM one takes the thread count and log level set on `ort`. */
export function ortFor(backend: 'webgpu' | 'wasm'): Promise<OrtWeb> {
  if (backend === 'webgpu') return Promise.resolve(ort);
  wasmOnly ??= import('onnxruntime-web/wasm').then((plain) => {
    plain.env.wasm.wasmPaths = { wasm: new URL(plainWasmUrl, self.location.href).href };
    if (ort.env.wasm.numThreads !== undefined) plain.env.wasm.numThreads = ort.env.wasm.numThreads;
    if (ort.env.logLevel !== undefined) plain.env.logLevel = ort.env.logLevel;
    return plain;
  });
  return wasmOnly;
}

export { ort };
