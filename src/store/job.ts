/** The job slice: the run in progress or last finished, the picture it made, its previews and grid. */
import type { StateCreator } from 'zustand';
import type { SerializedError } from '../core/errors';
import { settingPasses } from '../core/validate';
import type { GenerationSettings, Timings } from '../core/generation-settings';
import type { CompareCell } from '../core/pipeline/compare';
import type { EncoderLatents } from '../core/pipeline/image-latents';
import type { PipelinePhase } from '../core/pipeline/options';
import type { Backend, SafetyReport } from '../protocol/messages';

/**
 * What the app knows of the picture it shows. `run` is what the worker reported for it; a picture
 * opened from the gallery or a compare cell has none (its settings say what made it, not how long).
 */
export interface ResultRecord {
  settings: GenerationSettings;
  encoderLatents: EncoderLatents | null;
  /** The part of the prompt cut past CLIP's 77 tokens. */
  truncated: string;
  run: { backend: Backend; totalMs: number; timings: Timings } | null;
  /** What the safety checker said, when it ran; a flagged picture has no pixels anywhere. */
  safety?: SafetyReport;
}

export type JobState = 'idle' | 'loading' | 'generating' | 'done' | 'error' | 'cancelled';

export interface Job {
  /** Counts Generate presses, so a watcher can tell this run's outcome from the last one's. */
  run: number;
  state: JobState;
  phase: PipelinePhase | null;
  step: number;
  totalSteps: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: SerializedError | null;
}

export interface JobSlice {
  job: Job;
  /** The picture on the result canvas (its pixels live there): its settings and how it was made. */
  result: (ResultRecord & { version: number }) | null;
  /** Steps with a preview image in canvas/previews, and which one is shown (null = the final image). */
  previews: { steps: number[]; totalSteps: number; shown: number | null };
  /** The compare grid: what each cell is and whether its image has arrived (pixels in canvas/compare-cells). */
  compare: {
    run: number;
    settings: GenerationSettings;
    cells: (CompareCell & { done: boolean; flagged?: boolean })[];
  } | null;
  /** Generate was pressed: a new run, which watchers tell from the last one by its number. */
  jobCounted: () => void;
  /** A model is loading (before a run, or for explore's tokens or a depth estimate). */
  jobLoading: () => void;
  /**
   * A load outside a run ended: the job goes back to what it was before it (nothing else would move
   * it on from "loading", and Generate would stay disabled), unless a run has moved it since.
   */
  jobLoadSettled: (before: Job) => void;
  /** The model is loaded and the run's work begins. */
  jobStarted: (totalSteps: number) => void;
  /** A pipeline step the worker reported. */
  jobProgressed: (phase: PipelinePhase, step: number, totalSteps: number) => void;
  jobDone: () => void;
  jobCancelled: () => void;
  jobFailed: (error: SerializedError) => void;
  /** A run refused before anything ran (a bad setting): the last run's progress must not speak for it. */
  jobRefused: (error: SerializedError) => void;
  /** A new picture on the result canvas; the final image is shown, not a preview. */
  resultShown: (record: ResultRecord) => void;
  previewsCleared: () => void;
  previewArrived: (step: number, totalSteps: number) => void;
  /** Which preview step is shown (null: the final image). */
  previewChosen: (step: number | null) => void;
  compareStarted: (settings: GenerationSettings, cells: CompareCell[]) => void;
  /** A cell is done; `flagged`: the safety checker flagged it, so it has no picture. */
  compareCellArrived: (index: number, flagged?: boolean) => void;
}

const NO_PREVIEWS = { steps: [], totalSteps: 0, shown: null };

export const createJobSlice: StateCreator<JobSlice, [], [], JobSlice> = (set) => ({
  job: { run: 0, state: 'idle', phase: null, step: 0, totalSteps: 0, startedAt: null, finishedAt: null, error: null },
  result: null,
  previews: NO_PREVIEWS,
  compare: null,
  jobCounted: () => set((s) => ({ job: { ...s.job, run: s.job.run + 1 } })),
  jobLoading: () =>
    set((s) => ({
      job: {
        ...s.job,
        state: 'loading',
        phase: null,
        step: 0,
        totalSteps: 0,
        error: null,
        startedAt: performance.now(),
      },
    })),
  jobLoadSettled: (before) =>
    set((s) => (s.job.state === 'loading' && s.job.run === before.run ? { job: before } : {})),
  jobStarted: (totalSteps) =>
    set((s) => ({
      job: {
        ...s.job,
        state: 'generating',
        phase: 'encode',
        step: 0,
        totalSteps,
        startedAt: performance.now(),
        finishedAt: null,
        error: null,
      },
    })),
  jobProgressed: (phase, step, totalSteps) =>
    set((s) => ({ job: { ...s.job, state: 'generating', phase, step, totalSteps } })),
  jobDone: () => set((s) => ({ job: { ...s.job, state: 'done', finishedAt: performance.now() } })),
  jobCancelled: () =>
    set((s) => ({ job: { ...s.job, state: 'cancelled', error: null, finishedAt: performance.now() } })),
  jobFailed: (error) => set((s) => ({ job: { ...s.job, state: 'error', error, finishedAt: performance.now() } })),
  jobRefused: (error) => {
    const now = performance.now();
    set((s) => ({
      job: { ...s.job, state: 'error', error, step: 0, totalSteps: 0, startedAt: now, finishedAt: now },
    }));
  },
  resultShown: (record) =>
    set((s) => ({
      result: { version: (s.result?.version ?? 0) + 1, ...record },
      previews: { ...s.previews, shown: null },
    })),
  previewsCleared: () => set({ previews: NO_PREVIEWS }),
  previewArrived: (step, totalSteps) =>
    set((s) => ({ previews: { steps: [...s.previews.steps, step], totalSteps, shown: step } })),
  previewChosen: (shown) => set((s) => ({ previews: { ...s.previews, shown } })),
  compareStarted: (settings, cells) =>
    set((s) => ({ compare: { run: s.job.run, settings, cells: cells.map((c) => ({ ...c, done: false })) } })),
  compareCellArrived: (index, flagged = false) =>
    set((s) =>
      s.compare
        ? {
            compare: {
              ...s.compare,
              cells: s.compare.cells.map((c, i) =>
                i === index ? { ...c, done: true, ...(flagged ? { flagged } : {}) } : c,
              ),
            },
          }
        : {},
    ),
});

/**
 * The job with its error cleared when it was about `field` and the new `value` passes that field's
 * check (see settingPasses): a fixed setting takes its message away without a run.
 */
export function jobAfterFix(job: Job, field: string, value: unknown): Partial<Pick<JobSlice, 'job'>> {
  if (job.state !== 'error' || job.error?.field !== field || !settingPasses(field, value)) return {};
  return { job: { ...job, state: 'idle', error: null } };
}

/** The job without an error about a setting (one from the worker, a crash say, stays). */
export function jobWithoutSettingError(job: Job): Partial<Pick<JobSlice, 'job'>> {
  if (job.state !== 'error' || job.error?.field === undefined) return {};
  return { job: { ...job, state: 'idle', error: null } };
}
