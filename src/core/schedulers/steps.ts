/**
 * The one check every scheduler makes of a step count before it builds a schedule. What a given
 * config can run beyond that (PNDM's and DDIM's last timestep) is checkStepsFor in index.ts.
 */
import { SchedulerError } from '../errors';

/** A whole number of steps, at least one, and no more than `limit` when one is given (diffusers' rules). */
export function requireStepCount(steps: number, limit?: { max: number; what: string }): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new SchedulerError(`Number of inference steps must be a positive integer, got ${steps}.`);
  }
  if (limit && steps > limit.max) {
    throw new SchedulerError(`${steps} inference steps cannot exceed ${limit.what}.`);
  }
}
