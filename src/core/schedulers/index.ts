import { SchedulerError, ValidationError } from '../errors';
import { DdimScheduler } from './ddim';
import { DpmSolverMultistepScheduler } from './dpmpp-2m';
import { EulerScheduler } from './euler';
import { EulerAncestralScheduler } from './euler-ancestral';
import { LcmScheduler } from './lcm';
import { LmsScheduler } from './lms';
import { PndmScheduler } from './pndm';
import { SCHEDULER_NAMES, type Scheduler, type SchedulerConfigJson, type SchedulerName } from './types';

export { SCHEDULER_NAMES };
export type { Scheduler, SchedulerConfigJson, SchedulerName };
export { noiseScheduleFromConfig, type NoiseSchedule } from './noise-schedule';

/** One row per scheduler: its diffusers class (`_class_name` in scheduler_config.json), its label, its constructor. */
interface SchedulerEntry {
  className: string;
  label: string;
  /** Whether the diffusers class reads `use_karras_sigmas`. */
  karras: boolean;
  create: (config: SchedulerConfigJson) => Scheduler;
}

/** The registry: every scheduler in SCHEDULER_NAMES has its row (the contract suite runs each one). */
export const SCHEDULERS: Record<SchedulerName, SchedulerEntry> = {
  pndm: { className: 'PNDMScheduler', label: 'PNDM', karras: false, create: (c) => new PndmScheduler(c) },
  ddim: { className: 'DDIMScheduler', label: 'DDIM', karras: false, create: (c) => new DdimScheduler(c) },
  lms: { className: 'LMSDiscreteScheduler', label: 'LMS', karras: true, create: (c) => new LmsScheduler(c) },
  euler: { className: 'EulerDiscreteScheduler', label: 'Euler', karras: true, create: (c) => new EulerScheduler(c) },
  'euler-ancestral': {
    className: 'EulerAncestralDiscreteScheduler',
    label: 'Euler ancestral',
    karras: false,
    create: (c) => new EulerAncestralScheduler(c),
  },
  'dpmpp-2m': {
    className: 'DPMSolverMultistepScheduler',
    label: 'DPM++ 2M',
    karras: true,
    create: (c) => new DpmSolverMultistepScheduler(c),
  },
  lcm: { className: 'LCMScheduler', label: 'LCM', karras: false, create: (c) => new LcmScheduler(c) },
};

/** The name people know a scheduler by (A1111's and diffusers' docs). */
export function schedulerLabel(name: SchedulerName): string {
  return SCHEDULERS[name].label;
}

export function isSchedulerName(value: unknown): value is SchedulerName {
  return typeof value === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(value);
}

/** Builds a scheduler from a diffusers scheduler_config.json object (snake_case, as is). */
export function createScheduler(name: SchedulerName, config: SchedulerConfigJson): Scheduler {
  const factory = SCHEDULERS[name]?.create;
  if (!factory)
    throw new SchedulerError(`Unknown scheduler "${String(name)}". Choose one of ${SCHEDULER_NAMES.join(', ')}.`);
  return factory(config);
}

/** The schedulers that have Karras sigmas, by label, for messages. */
export function karrasLabels(): string {
  return SCHEDULER_NAMES.filter((n) => SCHEDULERS[n].karras)
    .map(schedulerLabel)
    .join(', ');
}

/**
 * The scheduler config a run uses: the model's own, with Karras sigmas when asked for (A1111's
 * "DPM++ 2M Karras" is diffusers' DPMSolverMultistepScheduler with `use_karras_sigmas`).
 */
export function runSchedulerConfig(
  name: SchedulerName,
  config: SchedulerConfigJson,
  karras: boolean,
): SchedulerConfigJson {
  checkKarras(name, karras);
  return karras ? { ...config, use_karras_sigmas: true } : config;
}

/** Refuses Karras sigmas for a scheduler whose diffusers class has none, saying which have them. */
export function checkKarras(name: SchedulerName, karras: boolean): void {
  if (karras && !SCHEDULERS[name].karras) {
    throw new ValidationError(
      `${schedulerLabel(name)} has no Karras sigmas. Karras works with ${karrasLabels()}; pick one of those or turn Karras off.`,
      'karras',
    );
  }
}

/** Our name for the config's own `_class_name`, or null when it is a class we do not have. */
export function schedulerNameForConfig(config: SchedulerConfigJson): SchedulerName | null {
  const className = config['_class_name'];
  return typeof className === 'string'
    ? (SCHEDULER_NAMES.find((n) => SCHEDULERS[n].className === className) ?? null)
    : null;
}

/**
 * The timesteps the img2img pipeline runs for a strength, as diffusers' `get_timesteps`: the
 * last `strength` share of the schedule. Sets the begin index where the scheduler has one.
 */
export function strengthTimesteps(scheduler: Scheduler, numInferenceSteps: number, strength: number): number[] {
  if (!(strength >= 0 && strength <= 1)) {
    throw new SchedulerError(`Strength must be between 0 and 1, got ${strength}.`);
  }
  scheduler.setTimesteps(numInferenceSteps);
  const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - initTimestep, 0);
  const begin = tStart * scheduler.order;
  scheduler.setBeginIndex?.(begin);
  return scheduler.timesteps.slice(begin);
}

/** Why `steps` cannot run with this scheduler and config, or null when it can. */
function stepsProblem(name: SchedulerName, config: SchedulerConfigJson, steps: number): string | null {
  let timesteps: readonly number[];
  try {
    const s = createScheduler(name, config);
    s.setTimesteps(steps);
    timesteps = s.timesteps;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  // steps_offset shifts "leading" schedules up by one: at 1000 steps PNDM and DDIM reach timestep 1000.
  const train = Number(config['num_train_timesteps'] ?? 1000);
  const outside = timesteps.find((t) => t < 0 || t > train - 1);
  if (outside !== undefined) return `its schedule reaches timestep ${outside}, outside the model's 0..${train - 1}`;
  // DPM-Solver divides by the step's length in log-SNR: a timestep repeated back to back (1000
  // steps over 1000 training steps, rounded) makes it zero and the latents NaN. (PNDM repeats one
  // timestep by design, and handles it.)
  if (name !== 'dpmpp-2m') return null;
  for (let i = 1; i < timesteps.length; i++) {
    if (timesteps[i] === timesteps[i - 1]) return `its schedule repeats timestep ${timesteps[i]}, a zero-length step`;
  }
  return null;
}

const maxStepsCache = new Map<string, number>();

/** The most steps (up to `limit`) the scheduler runs with this config, found by bisection. */
export function maxStepsFor(name: SchedulerName, config: SchedulerConfigJson, limit: number): number {
  const key = `${name}:${limit}:${JSON.stringify(config)}`;
  const known = maxStepsCache.get(key);
  if (known !== undefined) return known;
  let lo = 0;
  let hi = limit;
  if (stepsProblem(name, config, limit) === null) lo = limit;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (stepsProblem(name, config, mid) === null) lo = mid;
    else hi = mid - 1;
  }
  maxStepsCache.set(key, lo);
  return lo;
}

/** Throws a ValidationError naming the real limit when `steps` is more than this scheduler can run. */
export function checkStepsFor(name: SchedulerName, config: SchedulerConfigJson, steps: number): void {
  const problem = stepsProblem(name, config, steps);
  if (problem === null) return;
  const max = maxStepsFor(name, config, steps);
  throw new ValidationError(
    `${schedulerLabel(name)} runs at most ${max} steps with this model. Use ${max} steps or fewer, or another scheduler.`,
    'steps',
    `With this model's scheduler config, at ${steps} steps ${problem.replace(/\.$/, '')}.`,
  );
}

/** Whether this scheduler rescaled the config's betas to zero terminal SNR (its last ᾱ is ~0). */
function samplesZeroSnr(name: SchedulerName, config: SchedulerConfigJson): boolean {
  try {
    return (createScheduler(name, config).alphasCumprod.at(-1) ?? 1) < 1e-6;
  } catch {
    return false;
  }
}

/**
 * Throws a ValidationError when the model was trained on zero-terminal-SNR betas
 * (`rescale_betas_zero_snr`) and this scheduler, like diffusers' own, ignores that key: it would
 * sample on the betas as they are, whose last step still keeps √ᾱ = 0.068 of the picture on SD's
 * schedule, where the model was trained on pure noise, with nothing on screen to say why.
 */
function checkZeroSnrFor(name: SchedulerName, config: SchedulerConfigJson): void {
  if (config['rescale_betas_zero_snr'] !== true || samplesZeroSnr(name, config)) return;
  const takes = SCHEDULER_NAMES.filter((n) => samplesZeroSnr(n, config)).map(schedulerLabel);
  throw new ValidationError(
    `This model only works with ${takes.join(', ')}. Choose one of them as the scheduler.`,
    'scheduler',
    `It was trained on zero-terminal-SNR betas (rescale_betas_zero_snr in its scheduler config), which ${schedulerLabel(name)} ignores (as diffusers' does): it would sample a noise schedule the model never saw.`,
  );
}

/** Everything a run checks about its scheduler before it starts: the betas it takes, then its steps. */
export function checkSchedulerFor(name: SchedulerName, config: SchedulerConfigJson, steps: number): void {
  checkZeroSnrFor(name, config);
  checkStepsFor(name, config, steps);
}
