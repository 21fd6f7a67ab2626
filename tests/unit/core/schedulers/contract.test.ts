import { afterAll, describe, expect, it } from 'vitest';
import { createScheduler, SCHEDULER_NAMES, strengthTimesteps } from '../../../../src/core/schedulers';
import { maxRelativeError, normRelativeError, readGolden } from '../../../helpers/goldens';

interface TrajectoryStep {
  t: number;
  sample: number[];
  scaled: number[];
  model_output: number[];
  prev_sample: number[];
  noise?: number[];
}
interface GoldenCase {
  variant: string;
  steps: number;
  config: Record<string, unknown>;
  error?: string;
  timesteps: number[];
  init_noise_sigma: number;
  order: number;
  sigmas?: number[];
  trajectory: TrajectoryStep[];
}
interface Img2ImgCase {
  variant: string;
  config: Record<string, unknown>;
  strength: number;
  steps: number;
  timesteps: number[];
  original: number[];
  noise: number[];
  noisy: number[];
}
interface GoldenFile {
  scheduler: string;
  shape: number[];
  cases: GoldenCase[];
  img2img: Img2ImgCase[];
}

/** The issue's bound: relative error ≤ 1e-4 against diffusers' float32 numbers. */
const TOLERANCE = 1e-4;
/**
 * Schedules (timesteps, sigmas) are compared value by value, relative to each value; this floor
 * only keeps the exact zeros (t = 0, the final sigma) from dividing by zero. Sample tensors are
 * compared as tensors, ‖a−b‖∞ / ‖b‖∞: float32 sums of O(1) terms that cancel to near zero carry
 * an absolute rounding error of the large terms, so an elementwise ratio there measures nothing.
 */
const FLOOR = 1e-6;

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

/** Largest error seen per scheduler, printed at the end for the issue note. */
const worst = new Map<string, number>();
function track(name: string, error: number): number {
  worst.set(name, Math.max(worst.get(name) ?? 0, error));
  return error;
}

// Every scheduler in the registry, so a new one cannot skip the suite: it needs its diffusers golden.
describe.each(SCHEDULER_NAMES)('scheduler %s matches diffusers', (name) => {
  const golden = readGolden<GoldenFile>(`scheduler-${name}.json`);

  it.each(golden.cases.map((c) => [`${c.variant} × ${c.steps} steps`, c] as const))('%s', (_label, c) => {
    if (c.error !== undefined) {
      expect(() => {
        const s = createScheduler(name, c.config);
        s.setTimesteps(c.steps);
      }).toThrow();
      return;
    }
    const scheduler = createScheduler(name, c.config);
    scheduler.setTimesteps(c.steps);
    expect(track(name, maxRelativeError(scheduler.timesteps, c.timesteps, FLOOR))).toBeLessThanOrEqual(TOLERANCE);
    expect(scheduler.order).toBe(c.order);
    expect(track(name, maxRelativeError([scheduler.initNoiseSigma], [c.init_noise_sigma], FLOOR))).toBeLessThanOrEqual(
      TOLERANCE,
    );
    if (c.sigmas) {
      expect(scheduler.sigmas).toBeDefined();
      expect(track(name, maxRelativeError(scheduler.sigmas!, c.sigmas, FLOOR))).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(c.trajectory.length).toBe(scheduler.timesteps.length);
    // Walk our own trajectory from the recorded start so errors accumulate as they would in use.
    let sample = f32(c.trajectory[0]!.sample);
    for (const [i, step] of c.trajectory.entries()) {
      expect(scheduler.timesteps[i]).toBeCloseTo(step.t, 3);
      expect(track(name, normRelativeError(sample, step.sample)), `sample at step ${i}`).toBeLessThanOrEqual(TOLERANCE);
      const scaled = scheduler.scaleModelInput(sample, step.t);
      expect(track(name, normRelativeError(scaled, step.scaled)), `scaled at step ${i}`).toBeLessThanOrEqual(TOLERANCE);
      expect(scheduler.needsNoise(step.t)).toBe(step.noise !== undefined);
      sample = scheduler.step(f32(step.model_output), step.t, sample, step.noise ? f32(step.noise) : undefined);
      expect(track(name, normRelativeError(sample, step.prev_sample)), `prev_sample at step ${i}`).toBeLessThanOrEqual(
        TOLERANCE,
      );
    }
  });

  it.each(golden.img2img.map((c) => [`${c.variant} × ${c.steps} steps at strength ${c.strength}`, c] as const))(
    'img2img %s',
    (_label, c) => {
      const scheduler = createScheduler(name, c.config);
      const timesteps = strengthTimesteps(scheduler, c.steps, c.strength);
      expect(track(name, maxRelativeError(timesteps, c.timesteps, FLOOR))).toBeLessThanOrEqual(TOLERANCE);
      const noisy = scheduler.addNoise(f32(c.original), f32(c.noise), timesteps[0]!);
      expect(track(name, normRelativeError(noisy, c.noisy))).toBeLessThanOrEqual(TOLERANCE);
    },
  );

  it('needs noise from the caller when it is stochastic', () => {
    const scheduler = createScheduler(name, golden.cases[0]!.config);
    scheduler.setTimesteps(4);
    const t = scheduler.timesteps[0]!;
    const x = new Float32Array(16).fill(0.5);
    const scaled = scheduler.scaleModelInput(x, t);
    if (scheduler.stochastic) {
      expect(() => scheduler.step(scaled, t, x)).toThrow(/noise/i);
    } else {
      expect(scheduler.step(scaled, t, x)).toHaveLength(16);
    }
  });
});

// A report, not a test: every comparison above asserts the bound itself.
afterAll(() => {
  const report = Object.fromEntries([...worst].map(([k, v]) => [k, Number(v.toExponential(2))]));
  console.info('largest relative error per scheduler:', JSON.stringify(report));
});

describe('Karras sigmas (no diffusers golden here: checked by their definition)', () => {
  const config = {
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    use_karras_sigmas: true,
  };
  it.each(['euler', 'lms', 'dpmpp-2m'] as const)('%s: from the largest train sigma to the smallest, then 0', (name) => {
    const karras = createScheduler(name, config);
    karras.setTimesteps(10);
    const sigmas = karras.sigmas!;
    expect(sigmas).toHaveLength(11);
    // The ends are the train schedule's largest and smallest sigmas, √((1−ᾱ)/ᾱ) at t = 999 and t = 0.
    const trainSigma = (t: number) => Math.sqrt((1 - karras.alphasCumprod[t]!) / karras.alphasCumprod[t]!);
    expect(sigmas[0]).toBeCloseTo(trainSigma(999), 3);
    expect(sigmas[9]).toBeCloseTo(trainSigma(0), 4);
    expect(sigmas[10]).toBe(0);
    for (let i = 1; i < 10; i++) expect(sigmas[i]!).toBeLessThan(sigmas[i - 1]!);
    // ρ = 7: σ_i^(1/7) is evenly spaced.
    const roots = Array.from(sigmas.subarray(0, 10), (s) => s ** (1 / 7));
    for (let i = 2; i < 10; i++) expect(roots[i]! - roots[i - 1]!).toBeCloseTo(roots[1]! - roots[0]!, 4);
    // Each timestep is where its sigma falls in the train schedule, descending.
    for (let i = 1; i < 10; i++) expect(karras.timesteps[i]!).toBeLessThan(karras.timesteps[i - 1]!);
  });
});
