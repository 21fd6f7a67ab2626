/**
 * onnxruntime-web's environment, set before anything else imports it. @huggingface/transformers
 * points ORT at a CDN when no WASM path is set; the app serves its own copy instead, so nothing
 * is fetched from anywhere but the app's origin. One ORT build serves both (npm overrides).
 */
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

export function pinWasmPaths(): void {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
}

pinWasmPaths();

export { ort };
