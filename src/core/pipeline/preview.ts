/**
 * Cheap looks at the loop while it runs: the model's current estimate of the clean latents (x0),
 * and a fixed linear latent → RGB map that needs no VAE.
 */
import type { RgbaImage } from '../image/rgba';
import type { Scheduler } from '../schedulers';
import { predictionCoefficients } from '../schedulers/prediction';
import type { Tensor } from '../math/tensor';

/** ᾱ at a (possibly fractional) timestep, interpolated in the train schedule. */
function alphaBarAt(alphas: Float32Array, t: number): number {
  const lo = Math.max(0, Math.min(alphas.length - 1, Math.floor(t)));
  const hi = Math.min(alphas.length - 1, lo + 1);
  const f = Math.min(Math.max(t - lo, 0), 1);
  return alphas[lo]! * (1 - f) + alphas[hi]! * f;
}

/**
 * x0 from the (guided) model output and the scaled model input, which every scheduler puts in the
 * DDPM parameterisation x_t = √ᾱ·x0 + √(1−ᾱ)·ε before the UNet sees it.
 */
export function predictX0(
  scheduler: Scheduler,
  scaledInput: Float32Array,
  t: number,
  modelOutput: Float32Array,
): Float32Array {
  const a = alphaBarAt(scheduler.alphasCumprod, t);
  const { x0Sample, x0Output } = predictionCoefficients(scheduler.prediction, Math.sqrt(a), Math.sqrt(1 - a));
  const out = new Float32Array(modelOutput.length);
  for (let i = 0; i < out.length; i++) out[i] = x0Sample * scaledInput[i]! + x0Output * modelOutput[i]!;
  return out;
}

/**
 * SD 1.x/2.x latents → approximate RGB by a fixed 4×3 linear map (a community-fitted approximation
 * of the VAE decoder's colours), one pixel per latent. No VAE call, so it costs nothing per step.
 */
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
] as const;

/** Takes the loop's own (scaled) latents, where the map was fitted. */
export function latentsToRgbFast(latents: Tensor): RgbaImage {
  const [, channels, height, width] = latents.dims as [number, number, number, number];
  const plane = height * width;
  const pixels = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < Math.min(channels, 4); k++) v += latents.data[k * plane + i]! * LATENT_RGB[k]![c]!;
      pixels[i * 4 + c] = Math.round(Math.min(Math.max((v + 1) / 2, 0), 1) * 255);
    }
    pixels[i * 4 + 3] = 255;
  }
  return { width, height, pixels };
}
