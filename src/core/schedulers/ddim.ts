import { SchedulerError } from '../errors';
import { AlphaScheduler } from './ddpm-family';
import { predictionCoefficients } from './prediction';
import { spacedTimesteps } from './numpy';
import type { PredictionType, Scheduler, SchedulerConfigJson, TimestepSpacing } from './types';

/** Denoising diffusion implicit models (Song et al. 2020), deterministic (eta = 0) as in diffusers' pipelines. */
export class DdimScheduler extends AlphaScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly stochastic = false;
  timesteps: number[] = [];

  readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private numInferenceSteps = 0;

  constructor(config: SchedulerConfigJson) {
    super(
      config,
      'DDIMScheduler',
      { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', setAlphaToOne: true },
      true,
    );
    this.prediction = this.read.predictionType('epsilon', ['epsilon', 'v_prediction', 'sample']);
    this.spacing = this.read.timestepSpacing('leading');
    this.stepsOffset = this.read.integer('steps_offset', 0);
    this.clipSample = this.read.boolean('clip_sample', true);
    this.clipRange = this.read.number('clip_sample_range', 1);
    if (this.read.boolean('thresholding', false)) {
      throw new SchedulerError('DDIM dynamic thresholding is for pixel-space models and is not supported here.');
    }
  }

  setTimesteps(numInferenceSteps: number): void {
    this.requireSteps(numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = spacedTimesteps(this.spacing, this.numTrainTimesteps, numInferenceSteps, this.stepsOffset);
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  needsNoise(): boolean {
    return false;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (this.numInferenceSteps === 0) throw new SchedulerError('Call setTimesteps before step.');
    const prevT = t - Math.floor(this.numTrainTimesteps / this.numInferenceSteps);
    const alphaT = this.alphaAt(t);
    const alphaPrev = this.alphaAt(prevT);
    const sqrtA = Math.sqrt(alphaT);
    const sqrtB = Math.sqrt(1 - alphaT);
    const sqrtAPrev = Math.sqrt(alphaPrev);
    const dirCoeff = Math.sqrt(1 - alphaPrev);
    const { x0Sample, x0Output, epsSample, epsOutput } = predictionCoefficients(this.prediction, sqrtA, sqrtB);
    const out = new Float32Array(sample.length);
    const clip = this.clipSample ? this.clipRange : Infinity;
    for (let i = 0; i < out.length; i++) {
      const s = sample[i]!;
      const m = modelOutput[i]!;
      const x0 = Math.min(Math.max(x0Sample * s + x0Output * m, -clip), clip);
      out[i] = sqrtAPrev * x0 + dirCoeff * (epsSample * s + epsOutput * m);
    }
    return out;
  }
}
