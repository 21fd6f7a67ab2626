/** The denoising loop every pipeline runs, and the guided noise prediction inside it. */
import type { TorchGenerator } from '../math/random';
import type { Scheduler } from '../schedulers';
import { linearPlan } from '../schedulers/linear-plan';
import { tensor, type Tensor } from '../math/tensor';
import { ControlSteps, type ControlCall } from './control';
import { combineGuidance } from './guidance';
import type { Models, TextTime, UnetExtras } from './models';
import { defaultTimeIds, textTimeFor } from './text-time';
import { throwIfAborted, type PipelineOptions } from './options';
import { predictX0 } from './preview';
import { duplicateBatch, type PromptEmbeddings } from './prompt';
import { guidanceWeights } from './step-graph';

/** What a UNet call takes besides latents, timestep and text, for the batch one call runs. */
type ExtrasFor = (call: ControlCall) => Promise<UnetExtras>;

/**
 * One noise prediction with classifier-free guidance: both halves in one batch-2 UNet call when
 * the model allows it, two calls otherwise, and the conditional half alone when g ≤ 1.
 */
async function predictNoise(
  models: Models,
  latentInput: Tensor,
  t: number,
  embeddings: PromptEmbeddings,
  guidanceScale: number,
  extras: ExtrasFor,
): Promise<Float32Array> {
  const { cond, uncond, batched } = embeddings;
  if (!uncond) {
    if (!batched) return (await models.unet(latentInput, t, cond, await extras('cond'))).data;
    const pair = duplicateBatch(latentInput, embeddings);
    const both = await models.unet(pair, t, batched, await extras('both'));
    return both.data.subarray(both.data.length / 2);
  }
  if (!batched) {
    const u = await models.unet(latentInput, t, uncond, await extras('uncond'));
    const c = await models.unet(latentInput, t, cond, await extras('cond'));
    // In place: each UNet output is a fresh array, so this allocates nothing per step.
    return combineGuidance(u.data, c.data, guidanceScale, u.data);
  }
  // The output has the latent channels only, fewer than the input when conditioning channels ride along.
  const pair = duplicateBatch(latentInput, embeddings);
  const out = await models.unet(pair, t, batched, await extras('both'));
  const n = out.data.length / 2;
  const uncondHalf = out.data.subarray(0, n);
  return combineGuidance(uncondHalf, out.data.subarray(n), guidanceScale, uncondHalf);
}

/**
 * SDXL's added conditions for each kind of call, made once per run (the time ids follow from the
 * latent size); null for UNets that take none.
 */
function textTimeCalls(
  embeddings: PromptEmbeddings,
  dims: readonly number[],
): ((call: ControlCall) => TextTime) | null {
  const pooled = embeddings.pooled;
  if (!pooled) return null;
  const ids = defaultTimeIds(dims[2]!, dims[3]!);
  const made = new Map<ControlCall, TextTime>();
  return (call) => {
    let hit = made.get(call);
    if (!hit) {
      const text = call === 'cond' ? pooled.cond : call === 'uncond' ? pooled.uncond : pooled.batched;
      if (!text) throw new RangeError(`SDXL: no pooled text for the ${call} call.`);
      hit = textTimeFor(text, ids);
      made.set(call, hit);
    }
    return hit;
  };
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

/**
 * One denoising run: the loop over `timesteps` from `start`, with guidance and the scheduler's
 * steps, plus what image-conditioned pipelines add to it.
 */
export interface DenoiseJob {
  models: Models;
  scheduler: Scheduler;
  timesteps: readonly number[];
  start: Tensor;
  embeddings: PromptEmbeddings;
  guidanceScale: number;
  /** The generator that drew the start: stochastic steps continue its stream, as in diffusers. */
  generator: TorchGenerator;
  options: PipelineOptions;
  /**
   * Channels appended to the scaled latents on every UNet call, in diffusers' order: mask then
   * masked-image latents (9-channel inpainting), or depth (5-channel depth2img). One image's worth.
   */
  condition?: Float32Array;
  /** Runs after each scheduler step with the step's index (the 4-channel inpainting blend). */
  afterStep?: (latents: Float32Array, index: number) => Float32Array;
  /**
   * Makes a scheduler set up as `scheduler` is at the start of the loop, for the adapter's own
   * (GPU-resident) loop to measure its linear steps on. Without it the plain loop runs.
   */
  twin?: () => Scheduler;
}

/** The denoising loop: the adapter's own loop when it can take the job, the plain one otherwise. */
export async function denoise(job: DenoiseJob): Promise<Tensor> {
  const resident = residentLoop(job);
  if (resident) return resident;
  const { models, scheduler, timesteps, start, embeddings, guidanceScale, generator, options } = job;
  let latents = start.data;
  const dims = start.dims;
  const withCondition = job.condition ? conditionedInput(job.condition, dims) : null;
  const control = options.control?.units.length ? new ControlSteps(options.control, timesteps.length) : null;
  const textTime = textTimeCalls(embeddings, dims);
  options.onProgress?.({ phase: 'denoise', step: 0, totalSteps: timesteps.length });
  for (const [i, t] of timesteps.entries()) {
    throwIfAborted(options.signal);
    const scaled = scheduler.scaleModelInput(latents, t);
    const input = withCondition ? withCondition(scaled) : tensor(scaled, dims);
    // The ControlNets take the scaled latents alone, before any conditioning channels (as diffusers).
    const extras = async (call: ControlCall): Promise<UnetExtras> => ({
      ...(embeddings.timestepCond ? { timestepCond: embeddings.timestepCond } : {}),
      ...(control ? { control: await control.residuals(i, call, tensor(scaled, dims), t, embeddings) } : {}),
      ...(textTime ? { textTime: textTime(call) } : {}),
    });
    const noisePred = await predictNoise(models, input, t, embeddings, guidanceScale, extras);
    throwIfAborted(options.signal);
    // Step noise continues the same generator stream that drew the initial latents, as in diffusers.
    const noise = scheduler.needsNoise(t) ? generator.randn(latents.length) : undefined;
    const preview = options.preview;
    const wantPreview = preview && ((i + 1) % Math.max(1, preview.every) === 0 || i === timesteps.length - 1);
    const x0 = wantPreview ? predictX0(scheduler, scaled, t, noisePred) : null;
    latents = scheduler.step(noisePred, t, latents, noise);
    if (job.afterStep) latents = job.afterStep(latents, i);
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
function residentLoop(job: DenoiseJob): Promise<Tensor> | null {
  const { models, timesteps, start, embeddings, guidanceScale, generator, options, twin } = job;
  if (!twin || !models.denoiseLinear || options.preview || job.condition || job.afterStep || options.control) {
    return null;
  }
  // The resident loop feeds the text alone: LCM's guidance embedding and SDXL's pooled text and
  // time ids go through the plain loop (at 1024² SDXL's latents are 256 KB a step, small beside
  // its UNet).
  if (embeddings.timestepCond || embeddings.pooled) {
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
