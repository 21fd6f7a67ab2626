import { SchedulerError } from '../errors';
import type { PredictionType, SchedulerConfigJson, TimestepSpacing } from './types';

/** Typed reads of a snake_case scheduler config, falling back to the class's own defaults. */
export class ConfigReader {
  constructor(
    private readonly json: SchedulerConfigJson,
    private readonly className: string,
  ) {}

  number(key: string, fallback: number): number {
    const value = this.json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SchedulerError(`${this.className}: "${key}" must be a number, got ${JSON.stringify(value)}.`);
    }
    return value;
  }

  integer(key: string, fallback: number): number {
    const value = this.number(key, fallback);
    if (!Number.isInteger(value)) {
      throw new SchedulerError(`${this.className}: "${key}" must be an integer, got ${value}.`);
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      throw new SchedulerError(`${this.className}: "${key}" must be true or false, got ${JSON.stringify(value)}.`);
    }
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw new SchedulerError(
        `${this.className}: "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`,
      );
    }
    return value as T;
  }

  numbers(key: string): number[] | null {
    const value = this.json[key];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new SchedulerError(`${this.className}: "${key}" must be a list of numbers.`);
    }
    return value as number[];
  }

  predictionType(fallback: PredictionType, allowed: readonly PredictionType[]): PredictionType {
    return this.oneOf('prediction_type', allowed, fallback);
  }

  timestepSpacing(fallback: TimestepSpacing): TimestepSpacing {
    return this.oneOf('timestep_spacing', ['linspace', 'leading', 'trailing'], fallback);
  }
}
