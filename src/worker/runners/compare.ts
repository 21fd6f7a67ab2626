/** compare: one prompt and seed over several cells, each sent as progress as soon as it is done. */
import { compareGrid } from '../../core/pipeline/compare';
import { checkSchedulerFor } from '../../core/schedulers';
import type { ParsedOf } from '../../protocol/request-row';
import type { RequestRows } from '../../protocol/requests';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import { pipelineOptions } from './pipeline-options';

export const compareRunner =
  (slot: ModelSlot) =>
  async (
    { request, cells, additions, preview }: ParsedOf<RequestRows['compare']>,
    ctx: RunContext,
  ): Promise<{ cells: number; totalMs: number }> => {
    // Every cell's scheduler is checked before the first one runs.
    const before = slot.require();
    for (const cell of cells) checkSchedulerFor(cell.scheduler, before.schedulerConfig, cell.steps);
    const model = await slot.withAdditions(additions, ctx.onProgress);
    const started = performance.now();
    await compareGrid(model.models, request, cells, pipelineOptions(model, preview, ctx), (index, r) =>
      ctx.onProgress({
        kind: 'cell',
        index,
        width: r.image.width,
        height: r.image.height,
        pixels: r.image.pixels.buffer as ArrayBuffer,
        timings: r.timings,
      }),
    );
    return { cells: cells.length, totalMs: performance.now() - started };
  };
