import { TorchGenerator } from '../random';
import { createScheduler, strengthTimesteps, type Scheduler } from '../schedulers';
import { tensor, type Tensor } from '../tensor';
import type { Img2ImgParams } from '../validate';
import { encodeImageLatents, toChw, type EncoderLatents } from './image-latents';
import type { Models } from './models';
import {
  decodeLatents,
  denoise,
  encodePrompt,
  latentShape,
  requireUnetChannels,
  throwIfAborted,
  type DenoiseExtras,
  type GenerationResult,
  type PipelineOptions,
} from './txt2img';

/** Where an image-conditioned run starts: the noised image latents and what made them. */
export interface ImageStart {
  scheduler: Scheduler;
  timesteps: number[];
  /** Scaled image latents before noise. */
  imageLatents: Float32Array;
  /** The noise drawn for the start (reused by the 4-channel inpainting blend). */
  noise: Float32Array;
  start: Tensor;
  source: EncoderLatents;
  /** A second scheduler in the same state as `scheduler` at the start of the loop (for the GPU loop). */
  twin?: () => Scheduler;
}

/**
 * Steps 4–5 of diffusers' img2img: the last `strength` share of the schedule, then the image
 * latents (encoded with the generator) noised by `add_noise` to the first of those timesteps.
 * Strength 1 still starts from add_noise, which is not pure noise: √ᾱ·x0 remains.
 */
export async function prepareImageStart(
  models: Models,
  params: Img2ImgParams,
  generator: TorchGenerator,
  options: PipelineOptions,
): Promise<ImageStart> {
  const shape = latentShape(models, params.width, params.height);
  const setUp = (): { scheduler: Scheduler; timesteps: number[] } => {
    const s = createScheduler(params.scheduler, options.schedulerConfig);
    return { scheduler: s, timesteps: strengthTimesteps(s, params.steps, params.strength) };
  };
  const { scheduler, timesteps } = setUp();
  const { latents: imageLatents, source } = await encodeImageLatents(models, toChw(params.image), generator);
  const noise = generator.randn(imageLatents.length);
  const start = tensor(scheduler.addNoise(imageLatents, noise, timesteps[0]!), shape);
  const twin = (): Scheduler => {
    const s = setUp().scheduler;
    // add_noise may move a scheduler's state (its step index), so the twin calls it too.
    s.addNoise(new Float32Array(1), new Float32Array(1), timesteps[0]!);
    return s;
  };
  return { scheduler, timesteps, imageLatents, noise, start, source, twin };
}

/** Shared tail of the image modes: the loop over the truncated schedule, then decode. */
export async function denoiseFromImage(
  models: Models,
  params: Img2ImgParams,
  prepared: ImageStart,
  generator: TorchGenerator,
  options: PipelineOptions,
  extras: DenoiseExtras = {},
): Promise<GenerationResult> {
  let mark = performance.now();
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: prepared.timesteps.length });
  const embeddings = await encodePrompt(models, params.prompt, params.negativePrompt, params.guidanceScale);
  const encodeMs = performance.now() - mark;
  mark = performance.now();
  const latents = await denoise(
    models,
    prepared.scheduler,
    prepared.timesteps,
    prepared.start,
    embeddings,
    params.guidanceScale,
    generator,
    options,
    extras,
    prepared.twin,
  );
  const denoiseMs = performance.now() - mark;
  throwIfAborted(options.signal);
  mark = performance.now();
  const total = prepared.timesteps.length;
  options.onProgress?.({ phase: 'decode', step: total, totalSteps: total });
  const image = await decodeLatents(models, latents);
  return {
    image,
    truncated: embeddings.truncated,
    encoderLatents: prepared.source,
    timings: { encodeMs, denoiseMs, decodeMs: performance.now() - mark },
  };
}

/**
 * Image to image, as diffusers' StableDiffusionImg2ImgPipeline:
 * 1. check inputs 2. encode prompt 3. preprocess image 4. timesteps for the strength
 * 5. noised image latents 6. denoising loop 7. decode.
 */
export async function img2img(
  models: Models,
  params: Img2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  requireUnetChannels(models, 'img2img');
  throwIfAborted(options.signal);
  const generator = new TorchGenerator(params.seed);
  const prepared = await prepareImageStart(models, params, generator, options);
  return denoiseFromImage(models, params, prepared, generator, options);
}
