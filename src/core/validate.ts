import { ValidationError } from './errors';
import { isRecord } from './json';
import { DEFAULT_STRENGTH, isMode, MODES } from './modes';
import type { RgbaImage } from './image/rgba';
import { bytesToPlane, type Plane } from './image/planes';
import { MAX_SEED } from './math/random';
import { isSchedulerName, SCHEDULER_NAMES, type SchedulerName } from './schedulers';
import { HIRES_UPSCALERS, isHiresUpscaler, type HiresSettings } from './generation-settings';
import { isPromptSyntax, PROMPT_SYNTAXES, type PromptSyntax } from './prompt/syntax';

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
  /** Karras sigmas (see SamplingSettings.karras); only ever true here. */
  karras?: true;
  /** Present only when the prompt is read literally (A1111's syntax is the default). */
  promptSyntax?: 'plain';
  /** A1111's clip skip, present only from 2 up. */
  clipSkip?: number;
}

function nearestMultipleOf8(value: number): number {
  return Math.max(8, Math.round(value / 8) * 8);
}

export function validateSize(value: unknown, field: 'width' | 'height'): number {
  const label = field === 'width' ? 'Width' : 'Height';
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${label} must be a number.`, field);
  }
  // The range first: a multiple of 8 near 99999999999 is no help.
  if (value < MIN_SIZE || value > MAX_SIZE) {
    throw new ValidationError(`${label} must be between ${MIN_SIZE} and ${MAX_SIZE} pixels, got ${value}.`, field);
  }
  if (!Number.isInteger(value) || value % 8 !== 0) {
    throw new ValidationError(
      `${label} must be a multiple of 8 (the VAE works in 8×8 blocks); the nearest is ${nearestMultipleOf8(value)}.`,
      field,
    );
  }
  return value;
}

export function validateSteps(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_STEPS) {
    throw new ValidationError(`Steps must be a whole number from 1 to ${MAX_STEPS}.`, 'steps');
  }
  return value;
}

/** A1111's batch count: up to 16 pictures, one after another, per Generate. */
export const MAX_BATCH_COUNT = 16;

export function validateBatchCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_BATCH_COUNT) {
    throw new ValidationError(`Batch count must be a whole number from 1 to ${MAX_BATCH_COUNT}.`, 'batchCount');
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

/**
 * Whether a setting's new value passes the check that refused it (the page clears that error as
 * soon as it does, without a run). Settings without a check of their own count as fixed once
 * changed: the next run checks them again.
 */
export function settingPasses(field: string, value: unknown): boolean {
  const checks: Record<string, (v: unknown) => unknown> = {
    width: (v) => validateSize(v, 'width'),
    height: (v) => validateSize(v, 'height'),
    steps: validateSteps,
    guidanceScale: validateGuidance,
    // −1 is A1111's "random", drawn at Generate.
    seed: (v) => (typeof v === 'string' && v.trim() === '-1' ? 0 : validateSeed(v)),
    batchCount: validateBatchCount,
    clipSkip: validateClipSkip,
  };
  const check = checks[field];
  if (!check) return true;
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
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
    ...(validateKarras(params['karras']) ? { karras: true as const } : {}),
    ...(validatePromptSyntax(params['promptSyntax']) === 'plain' ? { promptSyntax: 'plain' as const } : {}),
    ...clipSkipParam(validateClipSkip(params['clipSkip'])),
  };
}

export function validatePromptSyntax(value: unknown): PromptSyntax {
  if (value === undefined) return 'a1111';
  if (isPromptSyntax(value)) return value;
  throw new ValidationError(`Prompt syntax must be one of ${PROMPT_SYNTAXES.join(', ')}.`, 'promptSyntax');
}

/** A1111's clip skip slider: 1 (the last layer) to 12. */
export const MAX_CLIP_SKIP = 12;

export function validateClipSkip(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CLIP_SKIP) {
    throw new ValidationError(
      `Clip skip must be a whole number from 1 (the last layer) to ${MAX_CLIP_SKIP}.`,
      'clipSkip',
    );
  }
  return value;
}

function clipSkipParam(clipSkip: number): { clipSkip?: number } {
  return clipSkip > 1 ? { clipSkip } : {};
}

export function validateKarras(value: unknown): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  throw new ValidationError('karras must be true or false.', 'karras');
}

export interface Img2ImgParams extends Txt2ImgParams {
  strength: number;
  /** RGBA at exactly width×height (the UI crops or fits the picture to the output size). */
  image: RgbaImage;
}

export interface InpaintParams extends Img2ImgParams {
  /** One byte per pixel, white (≥ 128) = repaint; resized to the image when its size differs. */
  mask: Plane;
  /** Paste the original pixels back outside the (feathered) mask after decoding. */
  pasteBack: boolean;
}

export interface Depth2ImgParams extends Img2ImgParams {
  /** Depth at any size, larger = nearer or farther as the estimator has it; null = estimate it. */
  depth: Plane | null;
}

/** txt2img, with A1111's hires fix when `hires` is there. */
export interface Txt2ImgRequest extends Txt2ImgParams {
  hires?: HiresSettings;
}

export type GenerationRequest =
  | ({ mode: 'txt2img' } & Txt2ImgRequest)
  | ({ mode: 'img2img' } & Img2ImgParams)
  | ({ mode: 'inpaint' } & InpaintParams)
  | ({ mode: 'depth2img' } & Depth2ImgParams);

export function validateStrength(value: unknown, steps: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw new ValidationError('Strength must be between 0 and 1 (0 keeps the image, 1 replaces it).', 'strength');
  }
  // diffusers rejects a strength that leaves no step to run.
  if (Math.trunc(steps * value) < 1) {
    throw new ValidationError(
      `Strength ${value} with ${steps} steps leaves no denoising step (steps × strength must be at least 1). Raise the strength or the steps.`,
      'strength',
    );
  }
  return value;
}

function dimension(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 8192 ? value : null;
}

/** An RGBA picture as it crosses the worker boundary: {width, height, pixels: ArrayBuffer}. */
export function validateImage(value: unknown, width: number, height: number): RgbaImage {
  if (!isRecord(value)) throw new ValidationError('This mode starts from an image: choose one first.', 'image');
  const w = dimension(value['width']);
  const h = dimension(value['height']);
  const pixels = value['pixels'];
  if (w === null || h === null || !(pixels instanceof ArrayBuffer) || pixels.byteLength !== w * h * 4) {
    throw new ValidationError('The input image is damaged (its size and pixel data disagree).', 'image');
  }
  if (w !== width || h !== height) {
    throw new ValidationError(
      `The input image is ${w}×${h} but the output size is ${width}×${height}; crop or fit it to the output size first.`,
      'image',
    );
  }
  return { width: w, height: h, pixels: new Uint8ClampedArray(pixels) };
}

/** A mask (one byte per pixel) or depth map (one float per pixel) as {width, height, pixels|data}. */
function validatePlane(value: unknown, field: 'mask' | 'depth', what: string): Plane {
  if (!isRecord(value)) throw new ValidationError(`${what} is missing.`, field);
  const w = dimension(value['width']);
  const h = dimension(value['height']);
  if (w === null || h === null) throw new ValidationError(`${what} has no valid size.`, field);
  if (field === 'mask') {
    const pixels = value['pixels'];
    if (!(pixels instanceof ArrayBuffer) || pixels.byteLength !== w * h) {
      throw new ValidationError(`${what} is damaged (its size and data disagree).`, field);
    }
    return bytesToPlane(new Uint8Array(pixels), w, h);
  }
  const data = value['data'];
  if (!(data instanceof ArrayBuffer) || data.byteLength !== w * h * 4) {
    throw new ValidationError(`${what} is damaged (its size and data disagree).`, field);
  }
  const floats = new Float32Array(data);
  if (!floats.every(Number.isFinite)) throw new ValidationError(`${what} contains values that are not numbers.`, field);
  return { width: w, height: h, data: floats };
}

/** Checks a whole generation request for its mode; throws a ValidationError naming the first fault. */
export function validateGenerate(params: Record<string, unknown>): GenerationRequest {
  const mode = params['mode'] ?? 'txt2img';
  if (!isMode(mode)) throw new ValidationError(`Mode must be one of ${MODES.join(', ')}.`, 'mode');
  const base = validateTxt2Img(params);
  if (mode === 'txt2img') {
    const hires = validateHires(params['hires'], base);
    return { mode, ...base, ...(hires ? { hires } : {}) };
  }
  const m = mode;
  const strength = validateStrength(params['strength'] ?? DEFAULT_STRENGTH[m], base.steps);
  const image = validateImage(params['image'], base.width, base.height);
  if (m === 'img2img') return { mode: m, ...base, strength, image };
  if (m === 'inpaint') {
    const mask = validatePlane(params['mask'], 'mask', 'The mask');
    const pasteBack = params['pasteBack'] ?? true;
    if (typeof pasteBack !== 'boolean') throw new ValidationError('pasteBack must be true or false.', 'pasteBack');
    return { mode: m, ...base, strength, image, mask, pasteBack };
  }
  const depth =
    params['depth'] === undefined || params['depth'] === null
      ? null
      : validatePlane(params['depth'], 'depth', 'The depth map');
  return { mode: m, ...base, strength, image, depth };
}

/** A1111's hires fix limits: an upscale of 1 to 4 and up to 150 second-pass steps (0: the first pass's). */
export const MAX_HIRES_SCALE = 4;
export const MAX_HIRES_STEPS = 150;

/** The picture hires fix makes: the set size times the scale, down to a multiple of 8 (as A1111). */
export function hiresSize(size: { width: number; height: number }, scale: number): { width: number; height: number } {
  return { width: Math.floor((size.width * scale) / 8) * 8, height: Math.floor((size.height * scale) / 8) * 8 };
}

/** Checks hires fix's settings against the first pass's; null when it is off. */
export function validateHires(
  value: unknown,
  base: Pick<Txt2ImgParams, 'width' | 'height' | 'steps'>,
): HiresSettings | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw new ValidationError('Hires fix settings are damaged.', 'hiresScale');
  const { scale, steps, denoise, upscaler } = value;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 1 || scale > MAX_HIRES_SCALE) {
    throw new ValidationError(`Hires upscale must be between 1 and ${MAX_HIRES_SCALE}.`, 'hiresScale');
  }
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0 || steps > MAX_HIRES_STEPS) {
    throw new ValidationError(
      `Hires steps must be a whole number from 0 (as many as the first pass) to ${MAX_HIRES_STEPS}.`,
      'hiresSteps',
    );
  }
  if (typeof denoise !== 'number' || Number.isNaN(denoise) || denoise <= 0 || denoise > 1) {
    throw new ValidationError(
      'Hires denoising strength must be above 0 and at most 1 (0.7 is usual for the latent upscaler).',
      'hiresDenoise',
    );
  }
  const secondSteps = steps === 0 ? base.steps : steps;
  if (Math.trunc(secondSteps * denoise) < 1) {
    throw new ValidationError(
      `Hires denoising strength ${denoise} with ${secondSteps} steps leaves no step for the second pass (steps × strength must be at least 1).`,
      'hiresDenoise',
    );
  }
  if (!isHiresUpscaler(upscaler)) {
    throw new ValidationError(`Hires upscaler must be one of ${HIRES_UPSCALERS.join(', ')}.`, 'hiresUpscaler');
  }
  const size = hiresSize(base, scale);
  if (size.width > MAX_SIZE || size.height > MAX_SIZE) {
    throw new ValidationError(
      `Hires fix would make ${size.width}×${size.height}, past the ${MAX_SIZE}-pixel limit: lower the upscale or the size.`,
      'hiresScale',
    );
  }
  return { scale, steps, denoise, upscaler };
}
