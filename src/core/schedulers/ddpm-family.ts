import { requireStepCount } from './steps';
import { SchedulerError } from '../errors';
import { assertSameLength } from '../math/tensor';
import { ConfigReader } from './config';
import { noiseScheduleFromConfig, type BetaSchedule } from './noise-schedule';
import type { SchedulerConfigJson } from './types';

const f32 = Math.fround;

/** What PNDM, DDIM and LCM share: the ᾱ table, the final ᾱ and DDPM's add_noise. */
export abstract class AlphaScheduler {
  readonly alphasCumprod: Float32Array;
  readonly betas: Float32Array;
  readonly finalAlphaCumprod: number;
  readonly numTrainTimesteps: number;
  protected readonly read: ConfigReader;

  protected constructor(
    config: SchedulerConfigJson,
    className: string,
    defaults: { betaStart: number; betaEnd: number; betaSchedule: BetaSchedule; setAlphaToOne: boolean },
    allowZeroSnr: boolean,
  ) {
    this.read = new ConfigReader(config, className);
    this.numTrainTimesteps = this.read.integer('num_train_timesteps', 1000);
    const schedule = noiseScheduleFromConfig(this.read, defaults, { allowZeroSnr });
    this.betas = schedule.betas;
    this.alphasCumprod = schedule.alphasCumprod;
    this.finalAlphaCumprod = this.read.boolean('set_alpha_to_one', defaults.setAlphaToOne) ? 1 : this.alphasCumprod[0]!;
  }

  /** ᾱ at a timestep, or the final ᾱ before the first train step. */
  protected alphaAt(t: number): number {
    if (t < 0) return this.finalAlphaCumprod;
    const value = this.alphasCumprod[t];
    if (value === undefined || !Number.isInteger(t)) {
      throw new SchedulerError(`Timestep ${t} is outside 0..${this.numTrainTimesteps - 1}.`);
    }
    return value;
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    assertSameLength(original, noise);
    const alpha = this.alphaAt(t);
    const a = f32(Math.sqrt(alpha));
    const b = f32(Math.sqrt(f32(1 - alpha)));
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = f32(a * original[i]!) + f32(b * noise[i]!);
    return out;
  }

  protected requireSteps(numInferenceSteps: number): void {
    requireStepCount(numInferenceSteps, {
      max: this.numTrainTimesteps,
      what: `the ${this.numTrainTimesteps} steps the model was trained with`,
    });
  }
}
