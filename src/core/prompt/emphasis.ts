/**
 * A1111's default emphasis ("Original"): each token's embedding multiplied by its weight, then the
 * whole chunk rescaled so that its mean is what it was before.
 */
import type { Tensor } from '../math/tensor';
import { tensor } from '../math/tensor';

/** `z` is one chunk's encoding [1, tokens, hidden]; `weights` has one weight per token. */
export function applyEmphasis(z: Tensor, weights: Float32Array): Tensor {
  // A chunk without emphasis is returned as it is: rescaling by mean/mean can be off by one ulp.
  if (weights.every((w) => w === 1)) return z;
  const hidden = z.dims[2]!;
  const mean = (data: Float32Array) => data.reduce((sum, v) => sum + v, 0) / data.length;
  const before = mean(z.data);
  const out = new Float32Array(z.data.length);
  for (let t = 0; t < weights.length; t++) {
    const w = weights[t]!;
    for (let j = t * hidden; j < (t + 1) * hidden; j++) out[j] = z.data[j]! * w;
  }
  const ratio = before / mean(out);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * ratio;
  return tensor(out, z.dims);
}
