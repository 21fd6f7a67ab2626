/**
 * A1111's hires fix: txt2img at the set size, the result upscaled (its latents resized bilinearly,
 * A1111's default "Latent", or the decoded picture with Lanczos and encoded again), then img2img
 * from it at the hires denoising strength with the same seed. The second pass counts steps as this
 * app's img2img (diffusers): `steps × denoise` of them run.
 */
import type { HiresSettings } from '../generation-settings';
import { resizePil } from '../image/resample';
import { interpolateBilinear } from '../math/interpolate';
import { TorchGenerator } from '../math/random';
import { tensor, type Tensor } from '../math/tensor';
import { hiresSize, type Txt2ImgParams } from '../validate';
import { latentShape, requireUnetChannels } from './checks';
import { decodeStep } from './decode';
import { denoise } from './denoise';
import { toChw, type EncoderLatents } from './image-latents';
import { noisedImageLatents, strengthSchedule } from './img2img';
import type { Models } from './models';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { encodePrompt } from './prompt';
import { txt2imgLatents } from './txt2img';

export async function hiresFix(
  models: Models,
  params: Txt2ImgParams & { hires: HiresSettings },
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Check inputs: the first pass's size, and the final size (which the runtime must hold too).
  const { hires } = params;
  requireUnetChannels(models, 'txt2img');
  latentShape(models, params, false);
  const second = {
    ...params,
    ...hiresSize(params, hires.scale),
    steps: hires.steps === 0 ? params.steps : hires.steps,
    strength: hires.denoise,
  };
  const byPicture = hires.upscaler === 'lanczos';
  const shape = latentShape(models, second, byPicture);
  throwIfAborted(options.signal);

  // 2. Encode the prompt, once for both passes.
  let mark = performance.now();
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: params.steps });
  const embeddings = await encodePrompt(models, params);
  const encodeMs = performance.now() - mark;

  // 3. The first pass: txt2img's timesteps, noise and loop at the set size.
  const first = await txt2imgLatents(models, params, embeddings, options);

  // 4. The second pass's timesteps: the last `denoise` share of its steps.
  const { timesteps, scheduler, twin } = strengthSchedule(second, options.schedulerConfig);
  const generator = new TorchGenerator(params.seed);

  // 5. Upscale, then noise to the first timestep with a generator seeded again.
  let start: Tensor;
  let source: EncoderLatents | undefined;
  let decodeMs = 0;
  if (byPicture) {
    const decoded = await decodeStep(models, first.latents, options, params.steps);
    decodeMs += decoded.decodeMs;
    const image = toChw(resizePil(decoded.image, second.width, second.height, 'lanczos'));
    ({ start, source } = await noisedImageLatents(models, image, generator, scheduler, timesteps[0]!, shape));
  } else {
    const up = interpolateBilinear(first.latents, shape[2], shape[3]);
    const noise = generator.randn(up.data.length);
    start = tensor(scheduler.addNoise(up.data, noise, timesteps[0]!), shape);
  }

  // 6. The second pass's denoising loop.
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
    twin,
  });
  const denoiseMs = first.denoiseMs + performance.now() - mark;

  // 7. Decode.
  const { image, decodeMs: lastDecodeMs } = await decodeStep(models, latents, options, timesteps.length);
  return {
    image,
    truncated: embeddings.truncated,
    timings: { encodeMs, denoiseMs, decodeMs: decodeMs + lastDecodeMs },
    ...(source ? { encoderLatents: source } : {}),
  };
}
