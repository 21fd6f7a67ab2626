import { normalizeToUnitRange, resizeBicubic, type Plane } from '../image-ops';
import { ValidationError } from '../errors';
import { TorchGenerator } from '../random';
import type { Depth2ImgParams } from '../validate';
import { denoiseFromImage, prepareImageStart } from './img2img';
import type { Models } from './models';
import { requireUnetChannels, throwIfAborted, type GenerationResult, type PipelineOptions } from './txt2img';

/** diffusers' `prepare_depth_map`: bicubic to latent size (align_corners=False), then [−1, 1] per image. */
export function prepareDepth(depth: Plane, width: number, height: number): Plane {
  return normalizeToUnitRange(resizeBicubic(depth, width / 8, height / 8));
}

/**
 * Depth-guided image to image, as diffusers' StableDiffusionDepth2ImgPipeline:
 * 1. check inputs 2. encode prompt 3. depth map at latent size 4. preprocess image 5. timesteps for
 * the strength 6. noised image latents 7. loop with [latents, depth] into a 5-channel UNet 8. decode.
 */
export async function depth2img(
  models: Models,
  params: Depth2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  requireUnetChannels(models, 'depth2img');
  if (!params.depth) throw new ValidationError('depth2img needs a depth map: estimate one or upload one.', 'depth');
  throwIfAborted(options.signal);
  const depthLatent = prepareDepth(params.depth, params.width, params.height);
  const generator = new TorchGenerator(params.seed);
  const prepared = await prepareImageStart(models, params, generator, options);
  const result = await denoiseFromImage(models, params, prepared, generator, options, { condition: depthLatent.data });
  return { ...result, depth: params.depth };
}
