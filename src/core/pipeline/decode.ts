/** The last step of every pipeline: latents → checked RGBA pixels. */
import { NumericalError } from '../errors';
import { chwToRgba, pixelStats, type RgbaImage } from '../image/rgba';
import { allFinite, scale, tensor, type Tensor } from '../math/tensor';
import type { Models } from './models';
import { throwIfAborted, type PipelineOptions } from './options';

/** Unscale the latents, decode, check for NaN/black output, convert to RGBA. */
async function decodeLatents(models: Models, latents: Tensor): Promise<RgbaImage> {
  if (!allFinite(latents.data)) {
    throw new NumericalError(
      models.info.unetPrecision === 'float16'
        ? 'The latents became NaN or infinite during denoising, so there is no image to show. The UNet computes in float16 on this GPU, and a value overflowed float16’s range (65504): choose WASM as the backend to compute in float32, or try a smaller size or another scheduler.'
        : 'The latents became NaN or infinite during denoising, so there is no image to show. The usual causes are fp16 weights overflowing (try the fp32 weights or a smaller size) and a scheduler setting that divides by zero (try another scheduler or fewer steps).',
    );
  }
  const unscaled = tensor(scale(1 / models.info.vaeScalingFactor, latents.data), latents.dims);
  const decoded = await models.decode(unscaled);
  const [, , height, width] = decoded.dims as [number, number, number, number];
  if (!allFinite(decoded.data)) {
    throw new NumericalError(
      'The VAE decoder produced NaN or infinite pixels (the known fp16 VAE overflow), in float32 too where this model allowed it. Use the fp32 VAE, choose WASM as the backend (float32), or a smaller size.',
    );
  }
  const image = chwToRgba(decoded.data, width, height);
  const { mean, std } = pixelStats(image.pixels);
  if (mean < 1 && std < 1) {
    throw new NumericalError(
      'The decoded image is entirely black, which means the VAE overflowed rather than drew anything. Use the fp32 VAE or a smaller size.',
    );
  }
  return image;
}

/** The decode step as every pipeline runs it: after a last cancel check, with its progress and its time. */
export async function decodeStep(
  models: Models,
  latents: Tensor,
  options: PipelineOptions,
  totalSteps: number,
): Promise<{ image: RgbaImage; decodeMs: number }> {
  throwIfAborted(options.signal);
  const mark = performance.now();
  options.onProgress?.({ phase: 'decode', step: totalSteps, totalSteps });
  const image = await decodeLatents(models, latents);
  return { image, decodeMs: performance.now() - mark };
}
