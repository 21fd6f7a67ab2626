import { CancelledError, NumericalError, ValidationError } from '../errors';
import { chwToRgba, pixelStats, type RgbaImage } from '../image';
import type { Plane } from '../image-ops';
import type { EncoderLatents } from './image-latents';
import type { Timings } from '../generation-settings';
import { TorchGenerator } from '../random';
import { createScheduler, type Scheduler, type SchedulerConfigJson } from '../schedulers';
import { allFinite, scale, tensor, type Tensor } from '../tensor';
import type { Txt2ImgParams } from '../validate';
import { combineGuidance, guidanceScaleEmbedding, usesGuidance } from './guidance';
import type { Models, TokenizedPrompt } from './models';
import { predictX0 } from './preview';
import { linearPlan } from '../schedulers/linear-plan';
import { guidanceWeights } from './step-graph';

export type PipelinePhase = 'tokenize' | 'depth' | 'encode' | 'denoise' | 'decode';

export interface PipelineProgress {
  phase: PipelinePhase;
  /** Steps done in the denoising loop (0 before it starts). */
  step: number;
  totalSteps: number;
}

export interface PipelineOptions {
  schedulerConfig: SchedulerConfigJson;
  signal?: AbortSignal;
  onProgress?: (progress: PipelineProgress) => void;
  /** Every `every` steps (and after the last), the model's estimate of the clean latents. */
  preview?: {
    every: number;
    onPreview(step: number, totalSteps: number, x0: Tensor): Promise<void> | void;
  };
}

export interface GenerationResult {
  image: RgbaImage;
  /** What the tokenizer cut from the prompt past 77 tokens ('' when nothing). */
  truncated: string;
  timings: Timings;
  /** How the start image became latents (image-conditioned modes). */
  encoderLatents?: EncoderLatents;
  /** The depth map the UNet was conditioned on, at its given size (depth2img). */
  depth?: Plane;
}

/** Text embeddings for guidance: the negative (unconditional) half first, as diffusers orders them. */
export interface PromptEmbeddings {
  cond: Tensor;
  uncond: Tensor | null;
  /** The batch-2 text the UNet takes every step when it runs both halves in one call, built once. */
  batched: Tensor | null;
  /** Reused every step for the batch-2 latent input, so the loop allocates no latent-sized pair. */
  pair?: Float32Array;
  truncated: string;
  /** An LCM UNet's guidance embedding [1, dim] (its guidance instead of an unconditional half). */
  timestepCond?: Tensor;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Step 2 of the pipeline: tokenize and encode the prompt, and the negative prompt when guided. */
export async function encodePrompt(
  models: Models,
  prompt: string,
  negativePrompt: string,
  guidanceScale: number,
): Promise<PromptEmbeddings> {
  const positive: TokenizedPrompt = await models.tokenize(prompt);
  const cond = await models.encodeText(positive.ids);
  // An LCM UNet was distilled with guidance built in: one call with the scale's embedding, and no
  // negative prompt, as LatentConsistencyModelPipeline.
  const embedDim = models.info.guidanceEmbedDim;
  if (embedDim)
    return withGuidanceEmbedding(
      models,
      { cond, uncond: null, batched: null, truncated: positive.truncated },
      guidanceScale,
    );
  // diffusers encodes "" when there is no negative prompt.
  const uncond = usesGuidance(guidanceScale)
    ? await models.encodeText((await models.tokenize(negativePrompt)).ids)
    : null;
  // A batch-2 export takes [uncond; cond] (or [cond; cond] unguided); a batch-1 export takes the halves apart.
  const batch = models.info.unetBatch;
  const batched = uncond
    ? batch === 1
      ? null
      : concatBatch(uncond, cond)
    : batch === 2
      ? concatBatch(cond, cond)
      : null;
  return { cond, uncond, batched, truncated: positive.truncated };
}

/** The embeddings of an LCM UNet for one guidance scale: the conditional half with the scale's embedding. */
function withGuidanceEmbedding(models: Models, embeddings: PromptEmbeddings, guidanceScale: number): PromptEmbeddings {
  const dim = models.info.guidanceEmbedDim!;
  const { cond, truncated } = embeddings;
  return {
    cond,
    uncond: null,
    batched: models.info.unetBatch === 2 ? concatBatch(cond, cond) : null,
    truncated,
    timestepCond: tensor(guidanceScaleEmbedding(guidanceScale, dim), [1, dim]),
  };
}

/** [a; b] along the batch axis. */
function concatBatch(a: Tensor, b: Tensor): Tensor {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return tensor(data, [a.dims[0]! + b.dims[0]!, ...a.dims.slice(1)]);
}

/** [x; x] in the embeddings' reusable buffer (the UNet has copied it in before the call returns). */
function duplicateBatch(x: Tensor, embeddings: PromptEmbeddings): Tensor {
  const n = x.data.length;
  if (embeddings.pair?.length !== 2 * n) embeddings.pair = new Float32Array(2 * n);
  embeddings.pair.set(x.data, 0);
  embeddings.pair.set(x.data, n);
  return tensor(embeddings.pair, [2 * x.dims[0]!, ...x.dims.slice(1)]);
}

/**
 * One noise prediction with classifier-free guidance: both halves in one batch-2 UNet call when
 * the model allows it, two calls otherwise, and the conditional half alone when g ≤ 1.
 */
export async function predictNoise(
  models: Models,
  latentInput: Tensor,
  t: number,
  embeddings: PromptEmbeddings,
  guidanceScale: number,
): Promise<Float32Array> {
  const { cond, uncond, batched, timestepCond } = embeddings;
  if (!uncond) {
    if (!batched) return (await models.unet(latentInput, t, cond, timestepCond)).data;
    const both = await models.unet(duplicateBatch(latentInput, embeddings), t, batched, timestepCond);
    return both.data.subarray(both.data.length / 2);
  }
  if (!batched) {
    const u = await models.unet(latentInput, t, uncond);
    const c = await models.unet(latentInput, t, cond);
    // In place: each UNet output is a fresh array, so this allocates nothing per step.
    return combineGuidance(u.data, c.data, guidanceScale, u.data);
  }
  // The output has the latent channels only, fewer than the input when conditioning channels ride along.
  const out = await models.unet(duplicateBatch(latentInput, embeddings), t, batched);
  const n = out.data.length / 2;
  const uncondHalf = out.data.subarray(0, n);
  return combineGuidance(uncondHalf, out.data.subarray(n), guidanceScale, uncondHalf);
}

/** Step 6: unscale the latents, decode, check for NaN/black output, convert to RGBA. */
export async function decodeLatents(models: Models, latents: Tensor): Promise<RgbaImage> {
  if (!allFinite(latents.data)) {
    throw new NumericalError(
      'The latents became NaN or infinite during denoising, so there is no image to show. The usual causes are fp16 weights overflowing (try the fp32 weights or a smaller size) and a scheduler setting that divides by zero (try another scheduler or fewer steps).',
    );
  }
  const unscaled = tensor(scale(1 / models.info.vaeScalingFactor, latents.data), latents.dims);
  const decoded = await models.decode(unscaled);
  const [, , height, width] = decoded.dims as [number, number, number, number];
  if (!allFinite(decoded.data)) {
    throw new NumericalError(
      'The VAE decoder produced NaN or infinite pixels (the known fp16 VAE overflow). Use the fp32 VAE or a smaller size.',
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

const UNET_CHANNELS_FOR: Record<'txt2img' | 'img2img' | 'depth2img', number> = { txt2img: 4, img2img: 4, depth2img: 5 };

/** A mode runs only on a UNet with its number of input channels (inpaint takes 9, or 4 by blending). */
export function requireUnetChannels(models: Models, mode: 'txt2img' | 'img2img' | 'inpaint' | 'depth2img'): void {
  const have = models.info.unetInChannels;
  const ok = mode === 'inpaint' ? have === 9 || have === 4 : have === UNET_CHANNELS_FOR[mode];
  if (ok) return;
  const kind =
    have === 9
      ? 'an inpainting model (9-channel UNet)'
      : have === 5
        ? 'a depth model (5-channel UNet)'
        : `a ${have}-channel UNet`;
  const wants =
    mode === 'depth2img'
      ? 'a depth model (5-channel UNet)'
      : mode === 'inpaint'
        ? 'an inpainting (9-channel) or plain (4-channel) UNet'
        : 'a plain 4-channel UNet';
  throw new ValidationError(
    `This model is ${kind}; ${mode} needs ${wants}. Choose another model for this mode.`,
    'model',
  );
}

/** The latent size for an image size, checked against a fixed-size export. */
export function latentShape(models: Models, width: number, height: number): [number, number, number, number] {
  const h = height / 8;
  const w = width / 8;
  const fixed = models.info.fixedLatentSize;
  if (fixed && (fixed.height !== h || fixed.width !== w)) {
    throw new ValidationError(
      `This model only makes ${fixed.width * 8}×${fixed.height * 8} images (its export has a fixed size).`,
      'width',
    );
  }
  return [1, models.info.latentChannels, h, w];
}

/** What image-conditioned pipelines add to the loop. */
export interface DenoiseExtras {
  /**
   * Channels appended to the scaled latents on every UNet call, in diffusers' order: mask then
   * masked-image latents (9-channel inpainting), or depth (5-channel depth2img). One image's worth.
   */
  condition?: Float32Array;
  /** Runs after each scheduler step with the step's index (the 4-channel inpainting blend). */
  afterStep?: (latents: Float32Array, index: number) => Float32Array;
}

/**
 * [latents; condition] along the channel axis of a batch-1 tensor, in one buffer made once per
 * run: the condition is copied in at the start, each step writes only the scaled latents.
 */
function conditionedInput(condition: Float32Array, dims: readonly number[]): (scaled: Float32Array) => Tensor {
  const [, channels, height, width] = dims as [number, number, number, number];
  const plane = height * width;
  if (condition.length % plane !== 0) throw new RangeError('Conditioning channels do not match the latent size.');
  const latentCount = channels * plane;
  const data = new Float32Array(latentCount + condition.length);
  data.set(condition, latentCount);
  const shape = [1, channels + condition.length / plane, height, width];
  return (scaled) => {
    data.set(scaled, 0);
    return tensor(data, shape);
  };
}

/** Step 5: the denoising loop from given latents over the scheduler's timesteps. */
export async function denoise(
  models: Models,
  scheduler: Scheduler,
  timesteps: readonly number[],
  start: Tensor,
  embeddings: PromptEmbeddings,
  guidanceScale: number,
  generator: TorchGenerator,
  options: PipelineOptions,
  extras: DenoiseExtras = {},
  twin?: () => Scheduler,
): Promise<Tensor> {
  const resident =
    twin && residentLoop({ models, timesteps, start, embeddings, guidanceScale, generator, options, extras }, twin);
  if (resident) return resident;
  let latents = start.data;
  const dims = start.dims;
  const configured = options.schedulerConfig['prediction_type'];
  const predictionType = typeof configured === 'string' ? configured : 'epsilon';
  const withCondition = extras.condition ? conditionedInput(extras.condition, dims) : null;
  options.onProgress?.({ phase: 'denoise', step: 0, totalSteps: timesteps.length });
  for (const [i, t] of timesteps.entries()) {
    throwIfAborted(options.signal);
    const scaled = scheduler.scaleModelInput(latents, t);
    const input = withCondition ? withCondition(scaled) : tensor(scaled, dims);
    const noisePred = await predictNoise(models, input, t, embeddings, guidanceScale);
    throwIfAborted(options.signal);
    // Step noise continues the same generator stream that drew the initial latents, as in diffusers.
    const noise = scheduler.needsNoise(t) ? generator.randn(latents.length) : undefined;
    const preview = options.preview;
    const wantPreview = preview && ((i + 1) % Math.max(1, preview.every) === 0 || i === timesteps.length - 1);
    const x0 = wantPreview ? predictX0(scheduler, scaled, t, noisePred, predictionType) : null;
    latents = scheduler.step(noisePred, t, latents, noise);
    if (extras.afterStep) latents = extras.afterStep(latents, i);
    options.onProgress?.({ phase: 'denoise', step: i + 1, totalSteps: timesteps.length });
    if (x0 && preview) await preview.onPreview(i + 1, timesteps.length, tensor(x0, dims));
  }
  return tensor(latents, dims);
}

/**
 * The loop as the model adapter's own (on WebGPU, latents stay on the GPU), when it has one and
 * nothing needs the latents on the CPU between steps: no previews, no image conditioning, one UNet
 * call per step, and a scheduler that is linear in its inputs. `twin` makes a scheduler set up like
 * the loop's, which the measurement of the linear steps uses up. Null means: run the plain loop.
 */
function residentLoop(
  loop: {
    models: Models;
    timesteps: readonly number[];
    start: Tensor;
    embeddings: PromptEmbeddings;
    guidanceScale: number;
    generator: TorchGenerator;
    options: PipelineOptions;
    extras: DenoiseExtras;
  },
  twin: () => Scheduler,
): Promise<Tensor> | null {
  const { models, timesteps, start, embeddings, guidanceScale, generator, options, extras } = loop;
  if (!models.denoiseLinear || options.preview || extras.condition || extras.afterStep || embeddings.timestepCond) {
    return null;
  }
  const { cond, uncond, batched } = embeddings;
  // A batch-1 export with guidance needs two calls per step: that stays on the plain loop.
  if (uncond && !batched) return null;
  const text = batched ?? cond;
  const batch = batched ? 2 : 1;
  const plan = linearPlan(twin(), timesteps);
  if (!plan) return null;
  options.onProgress?.({ phase: 'denoise', step: 0, totalSteps: timesteps.length });
  return models.denoiseLinear({
    plan,
    start,
    text,
    guidance: guidanceWeights(batch, uncond !== null, guidanceScale),
    noise: (count) => generator.randn(count),
    ...(options.signal ? { signal: options.signal } : {}),
    onStep: (done) => options.onProgress?.({ phase: 'denoise', step: done, totalSteps: timesteps.length }),
  });
}

/**
 * Text to image, as diffusers' StableDiffusionPipeline:
 * 1. check inputs 2. encode prompt 3. timesteps 4. initial latents 5. denoising loop 6. decode.
 */
export async function txt2img(
  models: Models,
  params: Txt2ImgParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Inputs are validated by the caller (validateTxt2Img); the model adds its own rules.
  requireUnetChannels(models, 'txt2img');
  latentShape(models, params.width, params.height);
  throwIfAborted(options.signal);

  // 2. Prompt embeddings.
  const mark = performance.now();
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: params.steps });
  const embeddings = await encodePrompt(models, params.prompt, params.negativePrompt, params.guidanceScale);
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
  const shape = latentShape(models, params.width, params.height);

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
  let mark = performance.now();
  const latents = await denoise(
    models,
    scheduler,
    scheduler.timesteps,
    start,
    embeddings,
    params.guidanceScale,
    generator,
    options,
    {},
    setUp,
  );
  const denoiseMs = performance.now() - mark;

  // 6. Decode.
  throwIfAborted(options.signal);
  mark = performance.now();
  options.onProgress?.({ phase: 'decode', step: params.steps, totalSteps: params.steps });
  const image = await decodeLatents(models, latents);
  return {
    image,
    truncated: embeddings.truncated,
    timings: { encodeMs, denoiseMs, decodeMs: performance.now() - mark },
  };
}

/**
 * The embeddings one guidance scale needs, cut from an encoding made for the largest scale: the
 * unconditional half only when this scale uses guidance, as encodePrompt would have made them.
 */
export function embeddingsForGuidance(models: Models, full: PromptEmbeddings, guidanceScale: number): PromptEmbeddings {
  if (models.info.guidanceEmbedDim) return withGuidanceEmbedding(models, full, guidanceScale);
  if (usesGuidance(guidanceScale) || !full.uncond) return full;
  const batched = models.info.unetBatch === 2 ? concatBatch(full.cond, full.cond) : null;
  return { cond: full.cond, uncond: null, batched, truncated: full.truncated };
}
