/** compare: one prompt and seed over several cells, each sent as progress as soon as it is done. */
import { compareGrid } from '../../core/pipeline/compare';
import { checkSchedulerFor, runSchedulerConfig } from '../../core/schedulers';
import type { ParsedOf } from '../../protocol/request-row';
import type { RequestRows } from '../../protocol/requests';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import { pipelineOptions } from './pipeline-options';
import { activeChecker, passGate } from './safety-gate';

export const compareRunner =
  (slot: ModelSlot) =>
  async (
    { request, cells, additions, preview, safety }: ParsedOf<RequestRows['compare']>,
    ctx: RunContext,
  ): Promise<{ cells: number; totalMs: number }> => {
    // Every cell's scheduler is checked before the first one runs.
    const before = slot.require();
    const karras = request.karras ?? false;
    for (const cell of cells) {
      checkSchedulerFor(cell.scheduler, runSchedulerConfig(cell.scheduler, before.schedulerConfig, karras), cell.steps);
    }
    const model = await slot.withAdditions(additions, ctx.onProgress);
    const started = performance.now();
    // Every cell's scheduler has Karras sigmas when asked for (checked above), so one config serves all.
    const config = runSchedulerConfig(cells[0]!.scheduler, model.schedulerConfig, karras);
    const checker = activeChecker(model, safety);
    const options = pipelineOptions(model, preview, ctx, config, checker);
    await compareGrid(model.models, request, cells, options, async (index, r) => {
      const gated = await passGate(r.image, checker);
      ctx.onProgress({
        kind: 'cell',
        index,
        width: r.image.width,
        height: r.image.height,
        timings: r.timings,
        ...gated,
      });
    });
    return { cells: cells.length, totalMs: performance.now() - started };
  };
