import { predictionCoefficients } from './prediction';
import { SchedulerError } from '../errors';
import { AlphaScheduler } from './ddpm-family';
import { spacedTimesteps } from './numpy';
import type { PredictionType, Scheduler, SchedulerConfigJson, TimestepSpacing } from './types';

/**
 * Pseudo numerical methods for diffusion models (Liu et al. 2022), as diffusers' PNDMScheduler:
 * Runge-Kutta warm-up steps unless `skip_prk_steps`, then linear multistep (PLMS).
 */
export class PndmScheduler extends AlphaScheduler implements Scheduler {
  readonly name = 'pndm' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly stochastic = false;
  timesteps: number[] = [];

  readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly skipPrk: boolean;
  private readonly stepsOffset: number;
  private numInferenceSteps = 0;
  private prkTimesteps: number[] = [];
  private ets: Float32Array[] = [];
  private counter = 0;
  private curSample: Float32Array | null = null;
  private curModelOutput: Float32Array | null = null;

  constructor(config: SchedulerConfigJson) {
    super(
      config,
      'PNDMScheduler',
      { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', setAlphaToOne: false },
      false,
    );
    this.prediction = this.read.predictionType('epsilon', ['epsilon', 'v_prediction']);
    this.spacing = this.read.timestepSpacing('leading');
    this.skipPrk = this.read.boolean('skip_prk_steps', false);
    this.stepsOffset = this.read.integer('steps_offset', 0);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.requireSteps(numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
    const ascending = spacedTimesteps(
      this.spacing,
      this.numTrainTimesteps,
      numInferenceSteps,
      this.stepsOffset,
    ).reverse();
    if (this.skipPrk) {
      this.prkTimesteps = [];
      const n = ascending.length;
      this.timesteps = [
        ...ascending.slice(0, n - 1),
        ...ascending.slice(Math.max(0, n - 2), n - 1),
        ...ascending.slice(n - 1),
      ].reverse();
    } else {
      if (ascending.length < 4) {
        throw new SchedulerError('PNDM without skip_prk_steps needs at least 4 inference steps.');
      }
      const half = Math.floor(Math.floor(this.numTrainTimesteps / numInferenceSteps) / 2);
      const lastFour = ascending.slice(-4).flatMap((t) => [t, t + half]);
      const doubled = lastFour.slice(0, -1).flatMap((t) => [t, t]);
      this.prkTimesteps = doubled.slice(1, -1).reverse();
      this.timesteps = [...this.prkTimesteps, ...ascending.slice(0, -3).reverse()];
    }
    this.ets = [];
    this.counter = 0;
    this.curSample = null;
    this.curModelOutput = null;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  needsNoise(): boolean {
    return false;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (this.numInferenceSteps === 0) throw new SchedulerError('Call setTimesteps before step.');
    if (this.counter < this.prkTimesteps.length && !this.skipPrk) return this.stepPrk(modelOutput, t, sample);
    return this.stepPlms(modelOutput, t, sample);
  }

  private stepPrk(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    const diffToPrev =
      this.counter % 2 ? 0 : Math.floor(Math.floor(this.numTrainTimesteps / this.numInferenceSteps) / 2);
    const prevT = t - diffToPrev;
    const timestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    let output = modelOutput;
    const phase = this.counter % 4;
    if (phase === 0) {
      this.curModelOutput = accumulate(this.curModelOutput, modelOutput, 1 / 6);
      this.ets.push(modelOutput);
      this.curSample = sample;
    } else if (phase === 1 || phase === 2) {
      this.curModelOutput = accumulate(this.curModelOutput, modelOutput, 1 / 3);
    } else {
      output = accumulate(this.curModelOutput, modelOutput, 1 / 6);
      this.curModelOutput = null;
    }
    const prev = this.prevSample(this.curSample ?? sample, timestep, prevT, output);
    this.counter++;
    return prev;
  }

  private stepPlms(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (!this.skipPrk && this.ets.length < 3) {
      throw new SchedulerError('PLMS steps need at least 3 Runge-Kutta warm-up outputs.');
    }
    const stride = Math.floor(this.numTrainTimesteps / this.numInferenceSteps);
    let timestep = t;
    let prevT = t - stride;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(modelOutput);
    } else {
      prevT = t;
      timestep = t + stride;
    }
    const ets = this.ets;
    const e = (k: number): Float32Array => ets[ets.length - k]!;
    let output: Float32Array;
    let input = sample;
    if (ets.length === 1 && this.counter === 0) {
      output = modelOutput;
      this.curSample = sample;
    } else if (ets.length === 1 && this.counter === 1) {
      output = combine([modelOutput, e(1)], [1 / 2, 1 / 2]);
      input = this.curSample ?? sample;
      this.curSample = null;
    } else if (ets.length === 2) {
      output = combine([e(1), e(2)], [3 / 2, -1 / 2]);
    } else if (ets.length === 3) {
      output = combine([e(1), e(2), e(3)], [23 / 12, -16 / 12, 5 / 12]);
    } else {
      output = combine([e(1), e(2), e(3), e(4)], [55 / 24, -59 / 24, 37 / 24, -9 / 24]);
    }
    const prev = this.prevSample(input, timestep, prevT, output);
    this.counter++;
    return prev;
  }

  /** Formula (9) of the PNDM paper: x_{t-δ} from x_t and ε. */
  private prevSample(sample: Float32Array, t: number, prevT: number, modelOutput: Float32Array): Float32Array {
    const alphaT = this.alphaAt(t);
    const alphaPrev = this.alphaAt(prevT);
    const betaT = 1 - alphaT;
    const betaPrev = 1 - alphaPrev;
    const sampleCoeff = Math.sqrt(alphaPrev / alphaT);
    const denom = alphaT * Math.sqrt(betaPrev) + Math.sqrt(alphaT * betaT * alphaPrev);
    const outCoeff = (alphaPrev - alphaT) / denom;
    // ε as a multiply-add of the sample and the output, folded into the step's own.
    const { epsSample, epsOutput } = predictionCoefficients(this.prediction, Math.sqrt(alphaT), Math.sqrt(betaT));
    const outputWeight = -outCoeff * epsOutput;
    const sampleWeight = sampleCoeff - outCoeff * epsSample;
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sampleWeight * sample[i]! + outputWeight * modelOutput[i]!;
    return out;
  }
}

function accumulate(acc: Float32Array | null, x: Float32Array, weight: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (acc ? acc[i]! : 0) + weight * x[i]!;
  return out;
}

/** Σ wₖ·xₖ in one pass. */
function combine(xs: Float32Array[], weights: number[]): Float32Array {
  const n = xs[0]!.length;
  const out = new Float32Array(n);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    const w = weights[k]!;
    for (let i = 0; i < n; i++) out[i] = out[i]! + w * x[i]!;
  }
  return out;
}
