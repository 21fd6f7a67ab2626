/**
 * Text to image, as diffusers' StableDiffusionPipeline, in its numbered steps. The machinery the
 * steps share is in prompt.ts, denoise.ts and decode.ts.
 */
import { TorchGenerator } from '../math/random';
import { createScheduler, type Scheduler } from '../schedulers';
import { scale, tensor, type Tensor } from '../math/tensor';
import type { Txt2ImgParams } from '../validate';
import { latentShape, requireUnetChannels } from './checks';
import { decodeStep } from './decode';
import { denoise } from './denoise';
import type { Models } from './models';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { encodePrompt, type PromptEmbeddings } from './prompt';

export async function txt2img(
  models: Models,
  params: Txt2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Check inputs: validated by the caller (validateTxt2Img); the model adds its own rules.
  requireUnetChannels(models, 'txt2img');
  latentShape(models, params, false);
  throwIfAborted(options.signal);

  // 2. Encode the prompt (and the negative prompt when guided).
  const mark = performance.now();
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: params.steps });
  const embeddings = await encodePrompt(models, params);
  return txt2imgFromEmbeddings(models, params, embeddings, options, performance.now() - mark);
}

/** Steps 3–6 of txt2img with the prompt already encoded (compare reuses one encoding for every cell). */
export async function txt2imgFromEmbeddings(
  models: Models,
  params: Txt2ImgParams,
  embeddings: PromptEmbeddings,
  options: PipelineOptions,
  encodeMs = 0,
): Promise<GenerationResult> {
  const { latents, denoiseMs } = await txt2imgLatents(models, params, embeddings, options);

  // 6. Decode.
  const { image, decodeMs } = await decodeStep(models, latents, options, params.steps);
  return { image, truncated: embeddings.truncated, timings: { encodeMs, denoiseMs, decodeMs } };
}

/** Steps 3–5 of txt2img: the denoised latents, not yet decoded (hires fix upscales them). */
export async function txt2imgLatents(
  models: Models,
  params: Txt2ImgParams,
  embeddings: PromptEmbeddings,
  options: PipelineOptions,
): Promise<{ latents: Tensor; denoiseMs: number }> {
  const shape = latentShape(models, params, false);

  // 3. Timesteps.
  const setUp = (): Scheduler => {
    const s = createScheduler(params.scheduler, options.schedulerConfig);
    s.setTimesteps(params.steps);
    return s;
  };
  const scheduler = setUp();

  // 4. Initial latents: torch.randn with the seed, times the scheduler's initial sigma.
  const generator = new TorchGenerator(params.seed);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = tensor(scale(scheduler.initNoiseSigma, generator.randn(count)), shape);

  // 5. Denoising loop.
  const mark = performance.now();
  const latents = await denoise({
    models,
    scheduler,
    timesteps: scheduler.timesteps,
    start,
    embeddings,
    guidanceScale: params.guidanceScale,
    generator,
    options,
    twin: setUp,
  });
  return { latents, denoiseMs: performance.now() - mark };
}
