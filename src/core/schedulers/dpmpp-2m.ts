import { requireStepCount } from './steps';
import { StepIndex } from './step-index';
import { predictionCoefficients } from './prediction';
import { SchedulerError } from '../errors';
import { assertSameLength } from '../math/tensor';
import { ConfigReader } from './config';
import { noiseScheduleFromConfig } from './noise-schedule';
import { arange, indexForTimestep, linspace, roundHalfEven, scheduleSigmas, trainSigmas } from './numpy';
import type { PredictionType, Scheduler, SchedulerConfigJson, TimestepSpacing } from './types';

const f32 = Math.fround;

/**
 * DPM-Solver++ multistep (Lu et al. 2022), diffusers' DPMSolverMultistepScheduler with
 * `algorithm_type: dpmsolver++`: the data-prediction form, order 2 by default ("DPM++ 2M").
 */
export class DpmSolverMultistepScheduler implements Scheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly stochastic = false;
  readonly alphasCumprod: Float32Array;
  timesteps: number[] = [];
  sigmas: Float32Array = new Float32Array(0);

  private readonly numTrain: number;
  readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly solverOrder: number;
  private readonly solverType: 'midpoint' | 'heun';
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly useKarras: boolean;
  private readonly finalSigma: 'zero' | 'sigma_min';
  private readonly lambdaMinClipped: number;
  private readonly betaSchedule: string;
  private readonly trainSigmaTable: Float32Array;
  private modelOutputs: (Float32Array | null)[] = [];
  private lowerOrderNums = 0;
  // DPM-Solver falls back to the last step for a timestep it does not have.
  private readonly index = new StepIndex((t) => indexForTimestep(this.timesteps, t) ?? this.timesteps.length - 1);

  constructor(config: SchedulerConfigJson) {
    const read = new ConfigReader(config, 'DPMSolverMultistepScheduler');
    this.alphasCumprod = noiseScheduleFromConfig(
      read,
      { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' },
      { allowZeroSnr: true },
    ).alphasCumprod;
    this.betaSchedule = read.oneOf('beta_schedule', ['linear', 'scaled_linear', 'squaredcos_cap_v2'], 'linear');
    this.numTrain = read.integer('num_train_timesteps', 1000);
    this.prediction = read.predictionType('epsilon', ['epsilon', 'v_prediction', 'sample']);
    this.spacing = read.timestepSpacing('linspace');
    this.stepsOffset = read.integer('steps_offset', 0);
    this.solverOrder = read.integer('solver_order', 2);
    if (this.solverOrder < 1 || this.solverOrder > 3) throw new SchedulerError('solver_order must be 1, 2 or 3.');
    // diffusers maps the multistep "deis" alias onto dpmsolver++ and "bh1/bh2/logrho" onto midpoint.
    const algorithm = read.oneOf(
      'algorithm_type',
      ['dpmsolver++', 'deis', 'dpmsolver', 'sde-dpmsolver', 'sde-dpmsolver++'],
      'dpmsolver++',
    );
    if (algorithm !== 'dpmsolver++' && algorithm !== 'deis') {
      throw new SchedulerError(`DPM++ 2M runs algorithm_type "dpmsolver++"; "${algorithm}" is not supported.`);
    }
    const solver = read.oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'], 'midpoint');
    this.solverType = solver === 'heun' ? 'heun' : 'midpoint';
    this.lowerOrderFinal = read.boolean('lower_order_final', true);
    this.eulerAtFinal = read.boolean('euler_at_final', false);
    this.useKarras = read.boolean('use_karras_sigmas', false);
    this.finalSigma = read.oneOf('final_sigmas_type', ['zero', 'sigma_min'], 'zero');
    this.lambdaMinClipped = read.number('lambda_min_clipped', Number.NEGATIVE_INFINITY);
    for (const key of [
      'use_exponential_sigmas',
      'use_beta_sigmas',
      'use_lu_lambdas',
      'use_flow_sigmas',
      'thresholding',
    ]) {
      if (read.boolean(key, false)) throw new SchedulerError(`DPMSolverMultistepScheduler: ${key} is not supported.`);
    }
    if (config['variance_type'] != null) {
      throw new SchedulerError('DPMSolverMultistepScheduler: learned variance is for pixel models and not supported.');
    }
    this.trainSigmaTable = trainSigmas(this.alphasCumprod);
    this.setTimesteps(this.numTrain);
  }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    requireStepCount(n);
    // λ_t = log α_t − log σ_t is decreasing in t; clip the schedule where it falls below the floor.
    let clipped = 0;
    const lambdas = this.alphasCumprod.map((a) =>
      f32(Math.log(f32(Math.sqrt(a))) - Math.log(f32(Math.sqrt(f32(1 - a))))),
    );
    for (let i = lambdas.length - 1; i >= 0 && lambdas[i]! < this.lambdaMinClipped; i--) clipped++;
    const lastTimestep = this.numTrain - clipped;
    let timesteps: number[];
    if (this.spacing === 'linspace') {
      timesteps = linspace(0, lastTimestep - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, -1);
    } else if (this.spacing === 'leading') {
      const ratio = Math.floor(lastTimestep / (n + 1));
      timesteps = Array.from({ length: n + 1 }, (_, i) => i * ratio)
        .reverse()
        .slice(0, -1)
        .map((t) => t + this.stepsOffset);
    } else {
      timesteps = arange(lastTimestep, 0, -this.numTrain / n).map((t) => roundHalfEven(t) - 1);
    }
    const table = this.trainSigmaTable;
    const karras = this.useKarras
      ? {
          min: table[0]!,
          max: table[table.length - 1]!,
          round: this.betaSchedule === 'squaredcos_cap_v2' ? Math.trunc : roundHalfEven,
        }
      : null;
    ({ timesteps: this.timesteps, sigmas: this.sigmas } = scheduleSigmas(timesteps, table, this.finalSigma, karras));
    this.modelOutputs = Array.from({ length: this.solverOrder }, () => null);
    this.lowerOrderNums = 0;
    this.index.reset();
  }

  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  needsNoise(): boolean {
    return false;
  }

  /** α_t and σ_t of the VP process for a k-diffusion sigma. */
  private static alphaSigma(sigma: number): [alpha: number, sigmaT: number] {
    const alpha = 1 / Math.sqrt(sigma * sigma + 1);
    return [alpha, sigma * alpha];
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (this.timesteps.length === 0) throw new SchedulerError('Call setTimesteps before step.');
    if (modelOutput.length !== sample.length) throw new SchedulerError('Model output and sample differ in size.');
    const index = this.index.current(t);
    const count = this.timesteps.length;
    const lowerOrderFinal =
      index === count - 1 && (this.eulerAtFinal || (this.lowerOrderFinal && count < 15) || this.finalSigma === 'zero');
    const lowerOrderSecond = index === count - 2 && this.lowerOrderFinal && count < 15;

    const x0 = this.convertModelOutput(modelOutput, sample, this.sigmas[index]!);
    this.modelOutputs.shift();
    this.modelOutputs.push(x0);

    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrder(x0, sample, index);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrder(sample, index);
    } else {
      prev = this.thirdOrder(sample, index);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.index.advance(index);
    return prev;
  }

  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const [alpha, sigmaT] = DpmSolverMultistepScheduler.alphaSigma(sigma);
    const { x0Sample, x0Output } = predictionCoefficients(this.prediction, alpha, sigmaT);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = x0Sample * sample[i]! + x0Output * modelOutput[i]!;
    return out;
  }

  private lambdaAt(index: number): { alpha: number; sigma: number; lambda: number } {
    const [alpha, sigma] = DpmSolverMultistepScheduler.alphaSigma(this.sigmas[index]!);
    return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
  }

  private firstOrder(x0: Float32Array, sample: Float32Array, index: number): Float32Array {
    const t = this.lambdaAt(index + 1);
    const s = this.lambdaAt(index);
    const h = t.lambda - s.lambda;
    const a = t.sigma / s.sigma;
    const b = t.alpha * (Math.exp(-h) - 1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = a * sample[i]! - b * x0[i]!;
    return out;
  }

  private secondOrder(sample: Float32Array, index: number): Float32Array {
    const t = this.lambdaAt(index + 1);
    const s0 = this.lambdaAt(index);
    const s1 = this.lambdaAt(index - 1);
    const m0 = this.modelOutputs[this.modelOutputs.length - 1]!;
    const m1 = this.modelOutputs[this.modelOutputs.length - 2]!;
    const h = t.lambda - s0.lambda;
    const r0 = (s0.lambda - s1.lambda) / h;
    const a = t.sigma / s0.sigma;
    const phi = t.alpha * (Math.exp(-h) - 1);
    const d1Coeff = this.solverType === 'midpoint' ? -0.5 * phi : t.alpha * ((Math.exp(-h) - 1) / h + 1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const d1 = (m0[i]! - m1[i]!) / r0;
      out[i] = a * sample[i]! - phi * m0[i]! + d1Coeff * d1;
    }
    return out;
  }

  private thirdOrder(sample: Float32Array, index: number): Float32Array {
    const t = this.lambdaAt(index + 1);
    const s0 = this.lambdaAt(index);
    const s1 = this.lambdaAt(index - 1);
    const s2 = this.lambdaAt(index - 2);
    const len = this.modelOutputs.length;
    const m0 = this.modelOutputs[len - 1]!;
    const m1 = this.modelOutputs[len - 2]!;
    const m2 = this.modelOutputs[len - 3]!;
    const h = t.lambda - s0.lambda;
    const r0 = (s0.lambda - s1.lambda) / h;
    const r1 = (s1.lambda - s2.lambda) / h;
    const eh = Math.exp(-h) - 1;
    const a = t.sigma / s0.sigma;
    const c0 = t.alpha * eh;
    const c1 = t.alpha * (eh / h + 1);
    const c2 = t.alpha * ((eh + h) / (h * h) - 0.5);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const d10 = (m0[i]! - m1[i]!) / r0;
      const d11 = (m1[i]! - m2[i]!) / r1;
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (d10 - d11) / (r0 + r1);
      out[i] = a * sample[i]! - c0 * m0[i]! + c1 * d1 - c2 * d2;
    }
    return out;
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    assertSameLength(original, noise);
    const index = this.index.forNoise(t);
    const [alpha, sigma] = DpmSolverMultistepScheduler.alphaSigma(this.sigmas[index]!);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = alpha * original[i]! + sigma * noise[i]!;
    return out;
  }
}
