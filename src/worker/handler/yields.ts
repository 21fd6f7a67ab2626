/**
 * ONNX Runtime's WASM run never returns to the event loop, so a cancel sent during a job waited for
 * the whole job. Each network call now first takes one turn of the event loop (`yieldNow`), and a
 * cancel that arrived meanwhile stops the job before the call, not after it.
 */
import { CancelledError } from '../../core/errors';
import type { Models } from '../../core/pipeline/models';
import type { Tensor } from '../../core/math/tensor';

export function withYields(m: Models, yieldNow: () => Promise<void>, cancelled: () => boolean): Models {
  const pause = async (): Promise<void> => {
    await yieldNow();
    if (cancelled()) throw new CancelledError();
  };
  return {
    ...m,
    tokenize: m.tokenize.bind(m),
    // Every argument passes through (dropping one lost clip skip, then a ControlNet's residuals).
    encodeText: async (...args) => (await pause(), m.encodeText(...args)),
    unet: async (...args) => (await pause(), m.unet(...args)),
    decode: async (latents) => (await pause(), m.decode(latents)),
    ...(m.encode ? { encode: async (image: Tensor) => (await pause(), m.encode!(image)) } : {}),
  };
}
