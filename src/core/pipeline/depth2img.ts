/** Depth-guided image to image, as diffusers' StableDiffusionDepth2ImgPipeline, in its numbered steps. */
import { normalizeToUnitRange, resizeBicubic, type Plane } from '../image/planes';
import { ValidationError } from '../errors';
import { TorchGenerator } from '../math/random';
import type { Depth2ImgParams } from '../validate';
import { latentShape, requireUnetChannels } from './checks';
import { decodeStep } from './decode';
import { denoise } from './denoise';
import { toChw } from './image-latents';
import { noisedImageLatents, strengthSchedule } from './img2img';
import type { Models } from './models';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { encodePrompt } from './prompt';

/** diffusers' `prepare_depth_map`: bicubic to latent size (align_corners=False), then [−1, 1] per image. */
export function prepareDepth(depth: Plane, width: number, height: number): Plane {
  return normalizeToUnitRange(resizeBicubic(depth, width / 8, height / 8));
}

export async function depth2img(
  models: Models,
  params: Depth2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Check inputs.
  requireUnetChannels(models, 'depth2img');
  if (!params.depth) throw new ValidationError('depth2img needs a depth map: estimate one or upload one.', 'depth');
  const shape = latentShape(models, params, true);
  throwIfAborted(options.signal);

  // 2. Encode the prompt.
  let mark = performance.now();
  const { scheduler, timesteps } = strengthSchedule(params, options.schedulerConfig);
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: timesteps.length });
  const embeddings = await encodePrompt(models, params);
  const encodeMs = performance.now() - mark;

  // 3. The depth map at latent size; 4. preprocess the image; 5. timesteps for the strength (above).
  const depthLatent = prepareDepth(params.depth, params.width, params.height);
  const image = toChw(params.image);

  // 6. Image latents (sampled with the generator), noised to the first timestep.
  const generator = new TorchGenerator(params.seed);
  const { start, source } = await noisedImageLatents(models, image, generator, scheduler, timesteps[0]!, shape);

  // 7. Denoising loop, [latents, depth] into the 5-channel UNet.
  mark = performance.now();
  const latents = await denoise({
    models,
    scheduler,
    timesteps,
    start,
    embeddings,
    guidanceScale: params.guidanceScale,
    generator,
    options,
    condition: depthLatent.data,
  });
  const denoiseMs = performance.now() - mark;

  // 8. Decode.
  const { image: decoded, decodeMs } = await decodeStep(models, latents, options, timesteps.length);
  return {
    image: decoded,
    truncated: embeddings.truncated,
    encoderLatents: source,
    timings: { encodeMs, denoiseMs, decodeMs },
    depth: params.depth,
  };
}
