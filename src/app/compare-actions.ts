/** compare mode: build the grid's cells from the settings, run them, export the grid, open a cell. */
import type { LoraActions } from './lora-actions';
import { parseLoraTags, type LoraTag } from '../core/prompt/lora-tags';
import { ValidationError } from '../core/errors';
import { parseScales, validateCells, type CompareCell } from '../core/pipeline/compare';
import { schedulerLabel, isSchedulerName } from '../core/schedulers';
import { validateGenerate } from '../core/validate';
import { cellImage, clearCells, gridImage } from '../canvas/compare-cells';
import { downloadBlob, fileName, pngWithParameters } from '../canvas/png-export';
import type { AppStore } from '../store';
import type { WorkerSession } from './worker-session';
import type { GalleryActions } from './gallery-actions';
import { cellSettings, requestOf, seedForRun, settingsFromStore } from './generation';

export function cellLabel(cell: CompareCell): string {
  return `CFG ${cell.guidanceScale} · ${cell.steps} steps · ${schedulerLabel(cell.scheduler)}`;
}

export type CompareActions = ReturnType<typeof createCompareActions>;

export function createCompareActions({
  store,
  session,
  loras,
  gallery,
}: {
  store: AppStore;
  session: WorkerSession;
  loras: LoraActions;
  gallery: GalleryActions;
}) {
  /** Guidance scales × the optional second axis (steps or scheduler), row by row. */
  function compareCells(): CompareCell[] {
    const s = store.getState();
    const scales = parseScales(s.compareScales);
    const values = s.compareAxisValues
      .split(/[,;\s]+/)
      .map((v) => v.trim())
      .filter(Boolean);
    if (s.compareAxis === 'none' || values.length === 0) {
      return scales.map((g) => ({ guidanceScale: g, steps: s.steps, scheduler: s.scheduler }));
    }
    const cells: CompareCell[] = [];
    for (const value of values) {
      if (s.compareAxis === 'steps') {
        const steps = Number(value);
        if (!Number.isInteger(steps))
          throw new ValidationError(`"${value}" is not a whole number of steps.`, 'compareAxisValues');
        for (const g of scales) cells.push({ guidanceScale: g, steps, scheduler: s.scheduler });
      } else {
        const name = value.toLowerCase();
        if (!isSchedulerName(name)) {
          throw new ValidationError(
            `"${value}" is not a scheduler; use e.g. pndm, euler, dpmpp-2m.`,
            'compareAxisValues',
          );
        }
        for (const g of scales) cells.push({ guidanceScale: g, steps: s.steps, scheduler: name });
      }
    }
    return validateCells(cells);
  }

  async function runCompare(): Promise<void> {
    const s = store.getState();
    let cells: CompareCell[];
    // One seed for the whole grid (−1 drawn once): every cell starts from the same noise.
    const seed = seedForRun(s.seed);
    // A grid compares plain txt2img runs: hires fix is not part of it.
    const gridSettings = () => {
      const { hires: _hires, ...grid } = settingsFromStore(store.getState(), 'txt2img');
      return { ...grid, seed };
    };
    const base = requestOf(gridSettings());
    let tags: LoraTag[] = [];
    try {
      ({ prompt: base.prompt, tags } = parseLoraTags(base.prompt));
      validateGenerate({ ...base });
      cells = compareCells();
    } catch (error) {
      session.failBeforeStart(error);
      return;
    }
    clearCells();
    s.compareStarted(gridSettings(), cells);
    await session.runJob(cells[0]!.steps, async (signal) => {
      // Until the person picks a scheduler, the cells take the model's own, known once it has loaded.
      const scheduler = session.schedulerForRun();
      if (scheduler !== base.scheduler) {
        base.scheduler = scheduler;
        cells = compareCells();
        store.getState().compareStarted(gridSettings(), cells);
      }
      await session.client.request(
        'compare',
        {
          ...base,
          cells,
          loras: await loras.lorasForRun(tags),
          embeddings: await loras.embeddingsForRun(),
          safetyChecker: session.safetyWanted(),
        },
        { signal, onProgress: session.onProgress },
      );
      // Every cell goes to the history too, each with its own guidance, steps and scheduler.
      const grid = gridSettings();
      for (const [i, cell] of cells.entries()) {
        const image = cellImage(i);
        if (image) await gallery.saveToGallery(image, cellSettings(grid, cell));
      }
    });
  }

  async function exportGrid(): Promise<void> {
    const compare = store.getState().compare;
    if (!compare) return;
    const columns = Math.min(
      compare.cells.length,
      Math.max(1, new Set(compare.cells.map((c) => c.guidanceScale)).size),
    );
    const image = gridImage(
      compare.cells.map((c) => cellLabel(c)),
      columns,
    );
    if (!image) return;
    const blob = await pngWithParameters(image, null);
    downloadBlob(blob, fileName(compare.settings, '_grid'));
  }

  /** Makes a cell the current result, with its settings, in txt2img mode. */
  function openCell(index: number): void {
    const s = store.getState();
    const cell = s.compare?.cells[index];
    const image = cellImage(index);
    if (!cell || !image || !s.compare) return;
    s.setSetting('guidanceScale', cell.guidanceScale);
    s.setSetting('steps', cell.steps);
    s.setSetting('scheduler', cell.scheduler);
    s.modeChosen('txt2img', null, null);
    // The cell is in the history already (every cell goes there when the grid is done).
    gallery.showAsResult(image, cellSettings(s.compare.settings, cell));
    s.say(`Opened ${cellLabel(cell)}.`);
  }

  return { compareCells, runCompare, exportGrid, openCell };
}
