import { SchedulerError } from '../errors';
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

const FACTORIES: Record<SchedulerName, (config: SchedulerConfigJson) => Scheduler> = {
  pndm: (c) => new PndmScheduler(c),
  ddim: (c) => new DdimScheduler(c),
  lms: (c) => new LmsScheduler(c),
  euler: (c) => new EulerScheduler(c),
  'euler-ancestral': (c) => new EulerAncestralScheduler(c),
  'dpmpp-2m': (c) => new DpmSolverMultistepScheduler(c),
  lcm: (c) => new LcmScheduler(c),
};

/** diffusers class names in `scheduler_config.json` (`_class_name`) and ours. */
const CLASS_NAMES: Record<string, SchedulerName> = {
  PNDMScheduler: 'pndm',
  DDIMScheduler: 'ddim',
  LMSDiscreteScheduler: 'lms',
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler-ancestral',
  DPMSolverMultistepScheduler: 'dpmpp-2m',
  LCMScheduler: 'lcm',
};

export const SCHEDULER_LABELS: Record<SchedulerName, string> = {
  pndm: 'PNDM',
  ddim: 'DDIM',
  lms: 'LMS',
  euler: 'Euler',
  'euler-ancestral': 'Euler ancestral',
  'dpmpp-2m': 'DPM++ 2M',
  lcm: 'LCM',
};

export function isSchedulerName(value: unknown): value is SchedulerName {
  return typeof value === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(value);
}

/** Builds a scheduler from a diffusers scheduler_config.json object (snake_case, as is). */
export function createScheduler(name: SchedulerName, config: SchedulerConfigJson): Scheduler {
  const factory = FACTORIES[name];
  if (!factory)
    throw new SchedulerError(`Unknown scheduler "${String(name)}". Choose one of ${SCHEDULER_NAMES.join(', ')}.`);
  return factory(config);
}

/** Our name for the config's own `_class_name`, or null when it is a class we do not have. */
export function schedulerNameForConfig(config: SchedulerConfigJson): SchedulerName | null {
  const className = config['_class_name'];
  return typeof className === 'string' ? (CLASS_NAMES[className] ?? null) : null;
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
