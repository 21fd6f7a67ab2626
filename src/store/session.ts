import type { StateCreator } from 'zustand';
import type { SerializedError } from '../core/errors';
import type { PipelinePhase } from '../core/pipeline/txt2img';
import type { Backend, Capabilities, LoadModelResult } from '../protocol/messages';
import type { AppState } from './index';

export type JobState = 'idle' | 'loading' | 'generating' | 'done' | 'error' | 'cancelled';

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

/** The model in the worker and the job running on it: handles and numbers only, never pixels. */
export interface SessionSlice {
  capabilities: Capabilities | null;
  model: LoadModelResult | null;
  download: DownloadProgress | null;
  job: {
    /** Counts Generate presses, so a watcher can tell this run's outcome from the last one's. */
    run: number;
    state: JobState;
    phase: PipelinePhase | null;
    step: number;
    totalSteps: number;
    startedAt: number | null;
    finishedAt: number | null;
    error: SerializedError | null;
  };
  /** The last image's parameters; its pixels live on the result canvas. */
  result: {
    version: number;
    width: number;
    height: number;
    seed: string;
    prompt: string;
    backend: Backend;
    truncated: string;
    totalMs: number;
    timings: { encodeMs: number; denoiseMs: number; decodeMs: number };
  } | null;
  patchJob(patch: Partial<SessionSlice['job']>): void;
  setSession(patch: Partial<Pick<SessionSlice, 'capabilities' | 'model' | 'download' | 'result'>>): void;
}

export const createSessionSlice: StateCreator<AppState, [], [], SessionSlice> = (set) => ({
  capabilities: null,
  model: null,
  download: null,
  job: { run: 0, state: 'idle', phase: null, step: 0, totalSteps: 0, startedAt: null, finishedAt: null, error: null },
  result: null,
  patchJob: (patch) => set((s) => ({ job: { ...s.job, ...patch } })),
  setSession: (patch) => set(patch),
});
