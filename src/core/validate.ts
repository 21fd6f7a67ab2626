import { ValidationError } from './errors';
import { MAX_SEED } from './random';
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from './schedulers';

export const MIN_SIZE = 64;
export const MAX_SIZE = 2048;
export const MAX_STEPS = 1000;
export const MAX_GUIDANCE = 100;

/** What txt2img needs; the same shape crosses the worker boundary (seed as a decimal string). */
export interface Txt2ImgParams {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  steps: number;
  seed: bigint;
  width: number;
  height: number;
  scheduler: SchedulerName;
}

function nearestMultipleOf8(value: number): number {
  return Math.max(8, Math.round(value / 8) * 8);
}

export function validateSize(value: unknown, field: 'width' | 'height'): number {
  const label = field === 'width' ? 'Width' : 'Height';
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${label} must be a number.`, field);
  }
  if (!Number.isInteger(value) || value % 8 !== 0) {
    throw new ValidationError(
      `${label} must be a multiple of 8 (the VAE works in 8×8 blocks); the nearest is ${nearestMultipleOf8(value)}.`,
      field,
    );
  }
  if (value < MIN_SIZE || value > MAX_SIZE) {
    throw new ValidationError(`${label} must be between ${MIN_SIZE} and ${MAX_SIZE} pixels, got ${value}.`, field);
  }
  return value;
}

export function validateSteps(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_STEPS) {
    throw new ValidationError(`Steps must be a whole number from 1 to ${MAX_STEPS}.`, 'steps');
  }
  return value;
}

export function validateGuidance(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ValidationError('Guidance scale must be a number.', 'guidanceScale');
  }
  if (value < 0 || value > MAX_GUIDANCE || !Number.isFinite(value)) {
    throw new ValidationError(
      `Guidance scale must be between 0 and ${MAX_GUIDANCE} (7.5 is typical; 1 or less turns guidance off).`,
      'guidanceScale',
    );
  }
  return value;
}

export function validateSeed(value: unknown): bigint {
  let seed: bigint | null = null;
  if (typeof value === 'bigint') seed = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) seed = BigInt(value);
  else if (typeof value === 'string' && /^\d{1,20}$/.test(value.trim())) seed = BigInt(value.trim());
  if (seed === null || seed < 0n || seed > MAX_SEED) {
    throw new ValidationError('Seed must be a whole number from 0 to 18446744073709551615 (2^64 − 1).', 'seed');
  }
  return seed;
}

export function validatePrompt(value: unknown, field: 'prompt' | 'negativePrompt'): string {
  if (typeof value !== 'string') throw new ValidationError('Prompts must be text.', field);
  return value;
}

export function validateScheduler(value: unknown): SchedulerName {
  if (!isSchedulerName(value)) {
    throw new ValidationError(`Scheduler must be one of ${SCHEDULER_NAMES.join(', ')}.`, 'scheduler');
  }
  return value;
}

/** Checks every txt2img parameter; throws a ValidationError naming the first one at fault. */
export function validateTxt2Img(params: Record<string, unknown>): Txt2ImgParams {
  return {
    prompt: validatePrompt(params['prompt'], 'prompt'),
    negativePrompt: validatePrompt(params['negativePrompt'] ?? '', 'negativePrompt'),
    guidanceScale: validateGuidance(params['guidanceScale']),
    steps: validateSteps(params['steps']),
    seed: validateSeed(params['seed']),
    width: validateSize(params['width'], 'width'),
    height: validateSize(params['height'], 'height'),
    scheduler: validateScheduler(params['scheduler']),
  };
}
