/** Image to image, as diffusers' StableDiffusionImg2ImgPipeline, in its numbered steps. */
import { TorchGenerator } from '../math/random';
import { createScheduler, strengthTimesteps, type Scheduler, type SchedulerConfigJson } from '../schedulers';
import { tensor, type Tensor } from '../math/tensor';
import type { Img2ImgParams } from '../validate';
import { latentShape, requireUnetChannels } from './checks';
import { decodeStep } from './decode';
import { denoise } from './denoise';
import { encodeImageLatents, toChw, type ChwImage, type EncoderLatents } from './image-latents';
import type { Models } from './models';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { encodePrompt } from './prompt';

/** The schedule of an image mode: the last `strength` share of the timesteps. */
export interface StrengthSchedule {
  scheduler: Scheduler;
  timesteps: number[];
  /**
   * A second scheduler in the state `scheduler` is in when the loop starts (for the GPU loop's
   * linear plan): add_noise may move a scheduler's step index, so the twin calls it too.
   */
  twin: () => Scheduler;
}

export function strengthSchedule(
  params: Pick<Img2ImgParams, 'scheduler' | 'steps' | 'strength'>,
  config: SchedulerConfigJson,
): StrengthSchedule {
  const setUp = (): { scheduler: Scheduler; timesteps: number[] } => {
    const s = createScheduler(params.scheduler, config);
    return { scheduler: s, timesteps: strengthTimesteps(s, params.steps, params.strength) };
  };
  const { scheduler, timesteps } = setUp();
  const twin = (): Scheduler => {
    const s = setUp().scheduler;
    s.addNoise(new Float32Array(1), new Float32Array(1), timesteps[0]!);
    return s;
  };
  return { scheduler, timesteps, twin };
}

/** The image's latents (sampled with the generator), then noise from it, added at timestep `t`. */
export async function noisedImageLatents(
  models: Models,
  image: ChwImage,
  generator: TorchGenerator,
  scheduler: Scheduler,
  t: number,
  shape: readonly number[],
): Promise<{ start: Tensor; source: EncoderLatents }> {
  const { latents, source } = await encodeImageLatents(models, image, generator);
  const noise = generator.randn(latents.length);
  return { start: tensor(scheduler.addNoise(latents, noise, t), shape), source };
}

/**
 * Strength 1 still starts from add_noise, which is not pure noise: √ᾱ·x0 remains (as diffusers).
 */
export async function img2img(
  models: Models,
  params: Img2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Check inputs.
  requireUnetChannels(models, 'img2img');
  const shape = latentShape(models, params, true);
  throwIfAborted(options.signal);

  // 2. Encode the prompt.
  let mark = performance.now();
  const { timesteps, scheduler, twin } = strengthSchedule(params, options.schedulerConfig);
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: timesteps.length });
  const embeddings = await encodePrompt(models, params);
  const encodeMs = performance.now() - mark;

  // 3. Preprocess the image (RGBA → CHW in [−1, 1]); 4. timesteps for the strength (above).
  const image = toChw(params.image);

  // 5. Image latents (sampled with the generator), noised to the first timestep.
  const generator = new TorchGenerator(params.seed);
  const { start, source } = await noisedImageLatents(models, image, generator, scheduler, timesteps[0]!, shape);

  // 6. Denoising loop over the truncated schedule.
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
  const denoiseMs = performance.now() - mark;

  // 7. Decode.
  const { image: decoded, decodeMs } = await decodeStep(models, latents, options, timesteps.length);
  return {
    image: decoded,
    truncated: embeddings.truncated,
    encoderLatents: source,
    timings: { encodeMs, denoiseMs, decodeMs },
  };
}
