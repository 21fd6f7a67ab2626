/**
 * Start images into scaled latents, as diffusers' `retrieve_latents(vae.encode(x), generator)`.
 * ONNX exports differ: some VAE encoders output a latent already sampled (`latent_sample`, 4
 * channels), others the distribution's mean and log-variance (`latent_parameters`, 8 channels).
 */
import { ModelError, NumericalError } from '../errors';
import { rgbaToChw, type RgbaImage } from '../image/rgba';
import type { TorchGenerator } from '../math/random';
import { allFinite, tensor } from '../math/tensor';
import type { Models } from './models';

/**
 * - `export-sampled`: the export draws its own sample inside the graph;
 * - `seeded-sample`: mean + σ·randn from the seeded generator (diffusers' default, `sample_mode="sample"`);
 * - `mean`: the distribution's mean (`sample_mode="argmax"`).
 */
export type EncoderLatents = 'export-sampled' | 'seeded-sample' | 'mean';

export const ENCODER_LATENTS_LABEL: Record<EncoderLatents, string> = {
  'export-sampled': 'sampled by the VAE encoder export',
  'seeded-sample': 'a seeded sample of the VAE posterior (as diffusers)',
  mean: 'the VAE posterior mean',
};

/** An RGBA picture as the VAE takes it: [1, 3, H, W] in [−1, 1]. */
export interface ChwImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function toChw(image: RgbaImage): ChwImage {
  return { width: image.width, height: image.height, data: rgbaToChw(image) };
}

/** [1, 3, H, W] in [−1, 1] → VAE encoder → latents × scaling factor. */
export async function encodeImageLatents(
  models: Models,
  image: ChwImage,
  generator: TorchGenerator,
  sampleMode: 'sample' | 'mean' = 'sample',
): Promise<{ latents: Float32Array; source: EncoderLatents }> {
  if (!models.encode) {
    throw new ModelError('This model has no VAE encoder (vae_encoder/model.onnx), so it cannot start from an image.');
  }
  const out = await models.encode(tensor(image.data, [1, 3, image.height, image.width]));
  if (!allFinite(out.data)) {
    throw new NumericalError(
      'The VAE encoder produced NaN or infinite latents from the start image (the known fp16 VAE overflow), in float32 too where this model allowed it. Use the fp32 VAE, choose WASM as the backend (float32), or a smaller size.',
    );
  }
  const channels = models.info.latentChannels;
  const plane = (image.height / 8) * (image.width / 8);
  const scaling = models.info.vaeScalingFactor;
  if (out.data.length === channels * plane) {
    return { latents: out.data.map((v) => v * scaling), source: 'export-sampled' };
  }
  if (out.data.length !== 2 * channels * plane) {
    throw new ModelError(
      `The VAE encoder returned [${out.dims.join(', ')}]; expected ${channels} or ${2 * channels} channels at ${image.width / 8}×${image.height / 8}.`,
    );
  }
  const n = channels * plane;
  const mean = out.data.subarray(0, n);
  if (sampleMode === 'mean') return { latents: mean.map((v) => v * scaling), source: 'mean' };
  // DiagonalGaussianDistribution.sample: mean + exp(0.5·clamp(logvar, −30, 20))·randn.
  const noise = generator.randn(n);
  const latents = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const logvar = Math.min(Math.max(out.data[n + i]!, -30), 20);
    latents[i] = Math.fround(mean[i]! + Math.fround(Math.exp(0.5 * logvar)) * noise[i]!) * scaling;
  }
  return { latents, source: 'seeded-sample' };
}
