import { ValidationError } from '../errors';
import { isRecord } from '../json';
import { validateGuidance, validateScheduler, validateSteps, type Txt2ImgParams } from '../validate';
import type { SchedulerName } from '../schedulers';
import type { Models } from './models';
import { requireUnetChannels } from './checks';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { embeddingsForGuidance, encodePrompt } from './prompt';
import { txt2imgFromEmbeddings } from './txt2img';

/** What varies from cell to cell; everything else (prompt, seed, size) is shared. */
export interface CompareCell {
  guidanceScale: number;
  steps: number;
  scheduler: SchedulerName;
}

export const MAX_COMPARE_CELLS = 16;

/** "1.1, 8, 12" → [1.1, 8, 12], each checked as a guidance scale. */
export function parseScales(text: string): number[] {
  const parts = text
    .split(/[,;\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0)
    throw new ValidationError('List at least one guidance scale, e.g. "1.1, 8, 12".', 'compareScales');
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n))
      throw new ValidationError(`"${p}" is not a number; list scales like "1.1, 8, 12".`, 'compareScales');
    try {
      return validateGuidance(n);
    } catch (error) {
      throw new ValidationError((error as Error).message, 'compareScales');
    }
  });
}

export function validateCells(value: unknown): CompareCell[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ValidationError('Compare needs at least one cell.', 'compareScales');
  if (value.length > MAX_COMPARE_CELLS) {
    throw new ValidationError(
      `Compare makes at most ${MAX_COMPARE_CELLS} images at once; got ${value.length}.`,
      'compareScales',
    );
  }
  return value.map((cell: unknown) => {
    const c = isRecord(cell) ? cell : {};
    return {
      guidanceScale: validateGuidance(c['guidanceScale']),
      steps: validateSteps(c['steps']),
      scheduler: validateScheduler(c['scheduler']),
    };
  });
}

/**
 * One prompt and seed over several settings, as the seed notebook's guidance comparison: the
 * prompt is encoded once (with the negative half when any cell uses guidance) and every cell
 * starts from the same seeded noise, so each cell equals a txt2img run with its settings.
 */
export async function compareGrid(
  models: Models,
  base: Txt2ImgParams,
  cells: readonly CompareCell[],
  options: PipelineOptions,
  onCell: (index: number, result: GenerationResult) => void | Promise<void>,
): Promise<void> {
  requireUnetChannels(models, 'txt2img');
  const largest = Math.max(...cells.map((c) => c.guidanceScale));
  const mark = performance.now();
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: cells[0]?.steps ?? 0 });
  const full = await encodePrompt(models, { ...base, guidanceScale: largest });
  const encodeMs = performance.now() - mark;
  for (const [index, cell] of cells.entries()) {
    throwIfAborted(options.signal);
    const embeddings = embeddingsForGuidance(models, full, cell.guidanceScale);
    const result = await txt2imgFromEmbeddings(
      models,
      { ...base, ...cell },
      embeddings,
      options,
      index === 0 ? encodeMs : 0,
    );
    await onCell(index, result);
  }
}
