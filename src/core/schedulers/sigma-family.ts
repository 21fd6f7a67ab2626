import { requireStepCount } from './steps';
import { StepIndex } from './step-index';
import { sigmaPredictionCoefficients } from './prediction';
import { SchedulerError } from '../errors';
import { assertSameLength } from '../math/tensor';
import { ConfigReader } from './config';
import { noiseScheduleFromConfig } from './noise-schedule';
import {
  arange,
  indexForTimestep,
  interpAtPositions,
  linspace,
  roundHalfEven,
  scheduleSigmas,
  trainSigmas,
} from './numpy';
import type { PredictionType, SchedulerConfigJson, TimestepSpacing } from './types';

const f32 = Math.fround;

export interface SigmaOptions {
  className: string;
  predictions: readonly PredictionType[];
  /** Whether the class reads use_karras_sigmas. */
  karras: boolean;
  /** Whether the class reads final_sigmas_type. */
  finalSigmasType: boolean;
  zeroSnr: boolean;
}

/**
 * What Euler, Euler ancestral and LMS share (k-diffusion style): sigmas interpolated at the
 * spaced timesteps, input scaling by 1/sqrt(σ²+1), a step index found from the first timestep
 * or set by img2img's begin index, and add_noise as x + σ·n.
 */
export abstract class SigmaScheduler {
  readonly alphasCumprod: Float32Array;
  readonly order = 1;
  timesteps: number[] = [];
  sigmas: Float32Array = new Float32Array(0);
  initNoiseSigma = 1;

  protected readonly read: ConfigReader;
  readonly prediction: PredictionType;
  protected readonly numTrainTimesteps: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly useKarras: boolean;
  private readonly finalSigma: 'zero' | 'sigma_min';
  private readonly sigmaMin: number | null;
  private readonly sigmaMax: number | null;
  private readonly trainSigmaTable: Float32Array;
  protected readonly index = new StepIndex((t) => this.indexFor(t));

  protected constructor(config: SchedulerConfigJson, options: SigmaOptions) {
    this.read = new ConfigReader(config, options.className);
    const schedule = noiseScheduleFromConfig(
      this.read,
      { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' },
      { allowZeroSnr: options.zeroSnr },
    );
    this.alphasCumprod = schedule.alphasCumprod;
    this.numTrainTimesteps = this.read.integer('num_train_timesteps', 1000);
    this.prediction = this.read.predictionType('epsilon', options.predictions);
    this.spacing = this.read.timestepSpacing('linspace');
    this.stepsOffset = this.read.integer('steps_offset', 0);
    this.useKarras = options.karras && this.read.boolean('use_karras_sigmas', false);
    this.finalSigma = options.finalSigmasType
      ? this.read.oneOf('final_sigmas_type', ['zero', 'sigma_min'], 'zero')
      : 'zero';
    this.sigmaMin = options.karras ? nullableNumber(this.read, 'sigma_min') : null;
    this.sigmaMax = options.karras ? nullableNumber(this.read, 'sigma_max') : null;
    for (const key of ['use_exponential_sigmas', 'use_beta_sigmas']) {
      if (this.read.boolean(key, false)) throw new SchedulerError(`${options.className}: ${key} is not supported.`);
    }
    if (this.read.oneOf('interpolation_type', ['linear', 'log_linear'], 'linear') !== 'linear') {
      throw new SchedulerError(`${options.className}: only linear sigma interpolation is supported.`);
    }
    if (this.read.oneOf('timestep_type', ['discrete', 'continuous'], 'discrete') !== 'discrete') {
      throw new SchedulerError(`${options.className}: only discrete timesteps are supported.`);
    }
    this.trainSigmaTable = trainSigmas(this.alphasCumprod);
    this.setTimesteps(this.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    requireStepCount(numInferenceSteps);
    const n = numInferenceSteps;
    const train = this.numTrainTimesteps;
    let timesteps: number[];
    if (this.spacing === 'linspace') {
      timesteps = linspace(0, train - 1, n)
        .map(f32)
        .reverse();
    } else if (this.spacing === 'leading') {
      const ratio = Math.floor(train / n);
      timesteps = Array.from({ length: n }, (_, i) => i * ratio + this.stepsOffset).reverse();
    } else {
      timesteps = arange(train, 0, -train / n).map((t) => roundHalfEven(t) - 1);
    }
    // Karras's range defaults to the interpolated schedule's own ends.
    const ends = () => [0, timesteps.length - 1].map((i) => interpAtPositions(timesteps[i]!, this.trainSigmaTable));
    const karras = this.useKarras
      ? { min: this.sigmaMin ?? ends()[1]!, max: this.sigmaMax ?? ends()[0]!, round: f32 }
      : null;
    ({ timesteps: this.timesteps, sigmas: this.sigmas } = scheduleSigmas(
      timesteps,
      this.trainSigmaTable,
      this.finalSigma,
      karras,
    ));
    let max = 0;
    for (const s of this.sigmas) max = Math.max(max, s);
    this.initNoiseSigma = this.spacing === 'leading' ? f32(Math.sqrt(f32(f32(max * max) + 1))) : max;
    this.index.reset();
    this.onSetTimesteps();
  }

  /** Hook for per-schedule state (LMS's derivative history). */
  protected onSetTimesteps(): void {}

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  protected indexFor(t: number): number {
    const index = indexForTimestep(this.timesteps, t);
    if (index === undefined) throw new SchedulerError(`Timestep ${t} is not in the current schedule.`);
    return index;
  }

  protected currentIndex(t: number): number {
    return this.index.current(t);
  }

  scaleModelInput(sample: Float32Array, t: number): Float32Array {
    const sigma = this.sigmas[this.currentIndex(t)]!;
    const denom = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
    // A plain loop: TypedArray.map with a callback is several times slower on the hot path.
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sample[i]! / denom;
    return out;
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    assertSameLength(original, noise);
    const index = this.index.forNoise(t);
    const sigma = this.sigmas[index]!;
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = original[i]! + f32(noise[i]! * sigma);
    return out;
  }

  /** x0 = x0Sample·sample + x0Output·output at σ (k-diffusion parameterisation). */
  protected x0At(sigma: number): { x0Sample: number; x0Output: number } {
    return sigmaPredictionCoefficients(this.prediction, sigma);
  }
}

function nullableNumber(read: ConfigReader, key: string): number | null {
  const value = read.number(key, Number.NaN);
  return Number.isNaN(value) ? null : value;
}
