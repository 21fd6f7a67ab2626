/** The scheduler contract every file in this folder implements (diffusers' API on flat arrays). */

export const SCHEDULER_NAMES = ['pndm', 'ddim', 'lms', 'euler', 'euler-ancestral', 'dpmpp-2m', 'lcm'] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** A diffusers `scheduler_config.json` object as is: snake_case keys, unknown keys ignored. */
export type SchedulerConfigJson = Readonly<Record<string, unknown>>;

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

export interface Scheduler {
  readonly name: SchedulerName;
  /** Timesteps of the current schedule, in the order the loop visits them. */
  readonly timesteps: readonly number[];
  readonly initNoiseSigma: number;
  readonly order: number;
  /** True when `step` needs fresh noise from the caller (drawn from the TorchGenerator). */
  readonly stochastic: boolean;
  /** The train-time cumulative alphas (float32), shared with the explore views. */
  readonly alphasCumprod: Float32Array;
  /** What the model predicts, from its config (`prediction_type`). */
  readonly prediction: PredictionType;
  /** Sigmas of the current schedule, for sigma-based schedulers. */
  readonly sigmas?: Float32Array;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Float32Array, t: number): Float32Array;
  /** Returns prev_sample. Stochastic schedulers require `noise` with the sample's element count. */
  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: Float32Array): Float32Array;
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array;
  /** Whether the step at `t` draws noise (LCM's last step does not). */
  needsNoise(t: number): boolean;
  setBeginIndex?(index: number): void;
}
