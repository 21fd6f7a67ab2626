/**
 * The one place generation settings change shape: from the store's settings to a picture's
 * GenerationSettings, from those to the worker's request, and from the worker's answer to the
 * result record the page shows and the gallery keeps.
 */
import type { GenerationSettings, SamplingSettings } from '../core/generation-settings';
import { MAX_SEED, randomSeed } from '../core/math/random';
import type { CompareCell } from '../core/pipeline/compare';
import type { Mode } from '../core/modes';
import type { GenerateParams, GenerateResult } from '../protocol/messages';
import type { ResultRecord } from '../store/job';
import type { SettingsSlice } from '../store/settings';

type StoredSettings = SamplingSettings &
  Pick<
    SettingsSlice,
    | 'modelId'
    | 'strength'
    | 'karras'
    | 'promptSyntax'
    | 'clipSkip'
    | 'hiresFix'
    | 'hiresScale'
    | 'hiresSteps'
    | 'hiresDenoise'
    | 'hiresUpscaler'
  >;

/** The settings a run in `mode` takes from what the person set (the image modes' strength included). */
export function settingsFromStore(s: StoredSettings, mode: Mode): GenerationSettings {
  return {
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    guidanceScale: s.guidanceScale,
    steps: s.steps,
    seed: s.seed,
    width: s.width,
    height: s.height,
    scheduler: s.scheduler,
    ...(s.karras ? { karras: true } : {}),
    ...(s.promptSyntax === 'plain' ? { promptSyntax: 'plain' } : {}),
    ...(s.clipSkip !== 1 ? { clipSkip: s.clipSkip } : {}),
    model: s.modelId,
    mode,
    ...(mode !== 'txt2img' ? { strength: s.strength[mode] } : {}),
    ...(mode === 'txt2img' && s.hiresFix
      ? { hires: { scale: s.hiresScale, steps: s.hiresSteps, denoise: s.hiresDenoise, upscaler: s.hiresUpscaler } }
      : {}),
  };
}

/**
 * The seed a run starts from: A1111's −1 is a new random seed each Generate (the one used is shown
 * with the result and kept in its record); anything else is the seed as typed, checked later.
 */
export function seedForRun(typed: string, random: () => bigint = randomSeed): string {
  return typed.trim() === '-1' ? random().toString() : typed;
}

/** The seeds of a batch, as A1111 makes them: seed, seed + 1, … (wrapping past 2^64 − 1 to 0). */
export function batchSeeds(first: string, count: number): string[] {
  const base = BigInt(first.trim());
  return Array.from({ length: count }, (_, i) => ((base + BigInt(i)) % (MAX_SEED + 1n)).toString());
}

/** The worker's request for these settings; the image inputs (picture, mask, depth) are added by the caller. */
export function requestOf(settings: GenerationSettings): GenerateParams {
  const { model: _model, ...request } = settings;
  return request;
}

/** One compare cell's settings: the grid's, with the cell's guidance, steps and scheduler. */
export function cellSettings(grid: GenerationSettings, cell: CompareCell): GenerationSettings {
  return { ...grid, guidanceScale: cell.guidanceScale, steps: cell.steps, scheduler: cell.scheduler };
}

/** The record of a picture the worker just made: the seed and size it reports are the ones it used. */
export function resultRecord(settings: GenerationSettings, result: GenerateResult): ResultRecord {
  const { totalMs, ...timings } = result.timings;
  return {
    // Hires fix's picture is larger than the set size, which is what its record keeps (as A1111's Size).
    settings: {
      ...settings,
      seed: result.seed,
      ...(settings.hires ? {} : { width: result.width, height: result.height }),
    },
    encoderLatents: result.encoderLatents ?? null,
    truncated: result.truncated,
    run: { backend: result.backend, totalMs, timings },
    ...(result.safety ? { safety: result.safety } : {}),
  };
}

/** The record of a picture made earlier and shown again (gallery, compare cell): no run to report. */
export function shownRecord(settings: GenerationSettings): ResultRecord {
  return { settings, encoderLatents: null, truncated: '', run: null };
}
