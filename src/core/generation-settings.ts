/**
 * One picture's settings, the one shape of that idea: what the person set for it, as the result
 * view shows them, the gallery keeps them and the PNG's parameters text carries them. The wire
 * request (GenerateParams) and the result record are made from it in src/app/generation.ts.
 */
import type { SchedulerName } from './schedulers/types';
import type { Mode } from './modes';

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
}

export interface GenerationSettings extends SamplingSettings {
  /** The catalog id (or custom id) of the model that made it. */
  model: string;
  mode: Mode;
  /** Image modes: how far from the start image the run went (0..1). */
  strength?: number;
}

/** How long a picture's phases took, in milliseconds. */
export interface Timings {
  encodeMs: number;
  denoiseMs: number;
  decodeMs: number;
}
