/**
 * One picture's settings, the one shape of that idea: what the person set for it, as the result
 * view shows them, the gallery keeps them and the PNG's parameters text carries them. The wire
 * request (GenerateParams) and the result record are made from it in src/app/generation.ts.
 */
import type { SchedulerName } from './schedulers/types';
import type { Mode } from './modes';
import type { PromptSyntax } from './prompt/syntax';

/** What every mode sets: the prompt, guidance, steps, seed, size and scheduler. */
export interface SamplingSettings {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  steps: number;
  /** Decimal text: seeds go up to 2^64 − 1, past what a JSON number holds exactly. */
  seed: string;
  width: number;
  height: number;
  scheduler: SchedulerName;
  /**
   * Karras sigmas (diffusers' `use_karras_sigmas`, A1111's "… Karras" samplers) for the schedulers
   * that have them; absent or false runs the model's own scheduler config.
   */
  karras?: boolean;
  /** How the prompt is read (see PromptSyntax); absent: A1111's syntax, the default. */
  promptSyntax?: PromptSyntax;
  /** A1111's clip skip: 1 (absent) is the text encoder's last layer, 2 the one before, … */
  clipSkip?: number;
}

/** How A1111's hires fix upscales the first pass: its latents resized (bilinear), or the picture with Lanczos. */
export const HIRES_UPSCALERS = ['latent', 'lanczos'] as const;
export type HiresUpscaler = (typeof HIRES_UPSCALERS)[number];

export function isHiresUpscaler(value: unknown): value is HiresUpscaler {
  return HIRES_UPSCALERS.some((u) => u === value);
}

/**
 * A1111's hires fix: txt2img at the set size, upscaled by `scale`, then img2img at `denoise` with
 * the same seed for `steps` steps (0: as many as the first pass).
 */
export interface HiresSettings {
  scale: number;
  steps: number;
  denoise: number;
  upscaler: HiresUpscaler;
}

/** The preprocessors a ControlNet's picture goes through (see the worker's control pictures). */
export const CONTROL_PREPROCESSORS = ['none', 'canny', 'depth', 'scribble'] as const;
export type ControlPreprocessorName = (typeof CONTROL_PREPROCESSORS)[number];

/** One ControlNet a picture was guided by, as A1111's "ControlNet N" field records it. */
export interface ControlNetRecord {
  module: ControlPreprocessorName;
  /** The ControlNet's name (its repo or file). */
  model: string;
  weight: number;
  start: number;
  end: number;
  cannyLow?: number;
  cannyHigh?: number;
}

export interface GenerationSettings extends SamplingSettings {
  /** The catalog id (or custom id) of the model that made it. */
  model: string;
  mode: Mode;
  /** Image modes: how far from the start image the run went (0..1). */
  strength?: number;
  /** txt2img with A1111's hires fix: the picture is `scale` times the set width and height. */
  hires?: HiresSettings;
  /** The ControlNets that guided it, in order (their pictures are not kept). */
  controlnets?: ControlNetRecord[];
  /** ControlNet guess mode (A1111's Control Mode "My prompt is more important" is not this; see docs). */
  guessMode?: boolean;
}

/** How long a picture's phases took, in milliseconds. */
export interface Timings {
  encodeMs: number;
  denoiseMs: number;
  decodeMs: number;
}
