import { StepIndex } from './step-index';
import { SchedulerError } from '../errors';
import { AlphaScheduler } from './ddpm-family';
import { predictionCoefficients } from './prediction';
import { indexForTimestep } from './numpy';
import type { PredictionType, Scheduler, SchedulerConfigJson } from './types';

/**
 * Latent consistency models (Luo et al. 2023), as diffusers' LCMScheduler: each step predicts the
 * clean latent and, except on the last step, re-noises it with fresh noise to the next timestep.
 */
export class LcmScheduler extends AlphaScheduler implements Scheduler {
  readonly name = 'lcm' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly stochastic = true;
  timesteps: number[] = [];

  readonly prediction: PredictionType;
  private readonly originalSteps: number;
  private readonly timestepScaling: number;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private readonly index = new StepIndex((t) => this.indexFor(t));

  constructor(config: SchedulerConfigJson) {
    super(
      config,
      'LCMScheduler',
      { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', setAlphaToOne: true },
      true,
    );
    this.prediction = this.read.predictionType('epsilon', ['epsilon', 'v_prediction', 'sample']);
    this.originalSteps = this.read.integer('original_inference_steps', 50);
    this.timestepScaling = this.read.number('timestep_scaling', 10);
    this.clipSample = this.read.boolean('clip_sample', false);
    this.clipRange = this.read.number('clip_sample_range', 1);
    if (this.read.boolean('thresholding', false)) {
      throw new SchedulerError('LCM dynamic thresholding is for pixel-space models and is not supported here.');
    }
  }

  setTimesteps(numInferenceSteps: number): void {
    this.requireSteps(numInferenceSteps);
    if (this.originalSteps > this.numTrainTimesteps) {
      throw new SchedulerError('original_inference_steps cannot exceed num_train_timesteps.');
    }
    if (numInferenceSteps > this.originalSteps) {
      throw new SchedulerError(
        `LCM runs at most ${this.originalSteps} steps (its original_inference_steps); got ${numInferenceSteps}.`,
      );
    }
    const k = Math.floor(this.numTrainTimesteps / this.originalSteps);
    // Timesteps the consistency model was distilled on, from the last down.
    const origin = Array.from({ length: this.originalSteps }, (_, i) => (i + 1) * k - 1).reverse();
    // np.linspace(0, len, n, endpoint=False) computes i * (len / n): keep that rounding.
    const stride = origin.length / numInferenceSteps;
    this.timesteps = Array.from({ length: numInferenceSteps }, (_, i) => origin[Math.floor(i * stride)]!);
    this.index.reset();
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  needsNoise(t: number): boolean {
    return this.index.peek(t) !== this.timesteps.length - 1;
  }

  private indexFor(t: number): number {
    const index = indexForTimestep(this.timesteps, t);
    if (index === undefined) throw new SchedulerError(`Timestep ${t} is not in the current schedule.`);
    return index;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: Float32Array): Float32Array {
    if (this.timesteps.length === 0) throw new SchedulerError('Call setTimesteps before step.');
    const index = this.index.current(t);
    const last = index === this.timesteps.length - 1;
    const prevT = last ? t : this.timesteps[index + 1]!;
    const alphaT = this.alphaAt(t);
    const alphaPrev = this.alphaAt(prevT);
    const sqrtA = Math.sqrt(alphaT);
    const sqrtB = Math.sqrt(1 - alphaT);
    const scaled = t * this.timestepScaling;
    const sigmaData = 0.5;
    const cSkip = sigmaData ** 2 / (scaled ** 2 + sigmaData ** 2);
    const cOut = scaled / Math.sqrt(scaled ** 2 + sigmaData ** 2);
    if (!last && !noise) {
      throw new SchedulerError('LCM needs noise for every step but the last: draw it from the generator.');
    }
    if (noise && noise.length !== sample.length) {
      throw new SchedulerError(`Noise has ${noise.length} elements; the sample has ${sample.length}.`);
    }
    const sqrtAPrev = Math.sqrt(alphaPrev);
    const sqrtBPrev = Math.sqrt(1 - alphaPrev);
    const { x0Sample, x0Output } = predictionCoefficients(this.prediction, sqrtA, sqrtB);
    const clip = this.clipSample ? this.clipRange : Infinity;
    const stepNoise = last ? null : noise!;
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const s = sample[i]!;
      const x0 = Math.min(Math.max(x0Sample * s + x0Output * modelOutput[i]!, -clip), clip);
      const denoised = cOut * x0 + cSkip * s;
      out[i] = stepNoise ? sqrtAPrev * denoised + sqrtBPrev * stepNoise[i]! : denoised;
    }
    this.index.advance(index);
    return out;
  }
}
