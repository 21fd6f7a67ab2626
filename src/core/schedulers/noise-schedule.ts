import { SchedulerError } from '../errors';
import type { ConfigReader } from './config';

const f32 = Math.fround;

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';

export interface NoiseSchedule {
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
}

/**
 * torch.linspace in float32 as its CPU kernel computes it: blocks of 8 lanes (AVX2), each block's
 * base counted up from `start` in the first half or down from `end` in the second, and lanes
 * stepped from that base; the tail that does not fill two blocks goes element by element.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalar = (i: number): number => (i < halfway ? s + f32(step * i) : e - f32(step * (steps - i - 1)));
  const lanes = 8;
  const vectorEnd = steps - (steps % (2 * lanes));
  for (let base = 0; base < vectorEnd; base += lanes) {
    // The compiler fuses the base into one multiply-add: a single rounding.
    const origin = f32(base < halfway ? s + step * base : e - step * (steps - base - 1));
    for (let k = 0; k < lanes; k++) out[base + k] = origin + f32(k * step);
  }
  for (let i = vectorEnd; i < steps; i++) out[i] = scalar(i);
  return out;
}

/** diffusers' betas_for_alpha_bar with the cosine transform (squaredcos_cap_v2). */
function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float32Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** Rescales betas to zero terminal SNR (Lin et al. 2023), as diffusers' rescale_zero_terminal_snr. */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const sqrtBar = new Float32Array(n);
  let cumprod = 1;
  for (let i = 0; i < n; i++) {
    cumprod = f32(cumprod * f32(1 - betas[i]!));
    sqrtBar[i] = Math.sqrt(cumprod);
  }
  const first = sqrtBar[0]!;
  const last = sqrtBar[n - 1]!;
  const scale = f32(first / f32(first - last));
  const alphasBar = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const shifted = f32(f32(sqrtBar[i]! - last) * scale);
    alphasBar[i] = shifted * shifted;
  }
  const out = new Float32Array(n);
  out[0] = 1 - alphasBar[0]!;
  for (let i = 1; i < n; i++) out[i] = 1 - f32(alphasBar[i]! / alphasBar[i - 1]!);
  return out;
}

/** Betas and cumulative alphas in float32, from the config keys every scheduler shares. */
export function noiseScheduleFromConfig(
  read: ConfigReader,
  defaults: { betaStart: number; betaEnd: number; betaSchedule: BetaSchedule },
  options: { allowZeroSnr: boolean },
): NoiseSchedule {
  const numTrainTimesteps = read.integer('num_train_timesteps', 1000);
  if (numTrainTimesteps < 2) throw new SchedulerError('num_train_timesteps must be at least 2.');
  const trained = read.numbers('trained_betas');
  const betaStart = read.number('beta_start', defaults.betaStart);
  const betaEnd = read.number('beta_end', defaults.betaEnd);
  const schedule = read.oneOf<BetaSchedule>(
    'beta_schedule',
    ['linear', 'scaled_linear', 'squaredcos_cap_v2'],
    defaults.betaSchedule,
  );
  let betas: Float32Array;
  if (trained) {
    betas = Float32Array.from(trained);
  } else if (schedule === 'linear') {
    betas = torchLinspaceF32(betaStart, betaEnd, numTrainTimesteps);
  } else if (schedule === 'scaled_linear') {
    betas = torchLinspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps).map((b) => b * b);
  } else {
    betas = cosineBetas(numTrainTimesteps);
  }
  const zeroSnr = options.allowZeroSnr && read.boolean('rescale_betas_zero_snr', false);
  if (zeroSnr) betas = rescaleZeroTerminalSnr(betas);
  const alphasCumprod = cumulativeAlphas(betas);
  // diffusers nudges the last value off zero so sigma stays finite.
  if (zeroSnr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphasCumprod };
}

/** torch.cumprod(1 - betas) in float32. */
export function cumulativeAlphas(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  // torch accumulates a float32 cumprod in double and rounds each output.
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f32(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}
