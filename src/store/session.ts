import type { StateCreator } from 'zustand';
import type { SerializedError } from '../core/errors';
import type { PipelinePhase } from '../core/pipeline/options';
import type { EncoderLatents } from '../core/pipeline/image-latents';
import type { GenerationSettings, Timings } from '../core/generation-settings';
import type { CompareCell } from '../core/pipeline/compare';
import type { TokenView } from '../protocol/messages';
import type { GalleryEntry } from '../storage/gallery-db';
import type { CachedModelRecord } from '../storage/model-cache';
import type { InitImageInfo } from '../canvas/init-image';
import type { Backend, Capabilities, LoadModelResult } from '../protocol/messages';
import type { AppState } from './index';

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
}

export type JobState = 'idle' | 'loading' | 'generating' | 'done' | 'error' | 'cancelled';

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** All of the model's files so far, and when the download began (for speed and time left). */
  overallLoaded: number;
  overallTotal: number | null;
  startedAt: number;
}

/** The model in the worker and the job running on it: handles and numbers only, never pixels. */
export interface SessionSlice {
  capabilities: Capabilities | null;
  model: LoadModelResult | null;
  /** The start image's name and size; its pixels live in canvas/init-image. */
  initImage: InitImageInfo | null;
  /** The depth map on hand for depth2img; its numbers live in canvas/depth-map. */
  depth: { width: number; height: number; source: 'estimated' | 'uploaded'; forImage: number | null } | null;
  /** True when the painted mask is in IndexedDB (it is saved shortly after the last stroke). */
  maskSaved: boolean;
  /** A problem with a file the person gave (image, mask, depth), shown beside its picker. */
  inputError: string | null;
  /** Why the app switched models on a mode change, shown once. */
  modelNotice: string | null;
  /** The compare grid: what each cell is and whether its image has arrived (pixels in canvas/compare-cells). */
  compare: { run: number; settings: GenerationSettings; cells: (CompareCell & { done: boolean })[] } | null;
  /** Steps with a preview image in canvas/previews, and which one is shown (null = the final image). */
  previews: { steps: number[]; totalSteps: number; shown: number | null };
  /** explore: the prompt as the loaded model's tokenizer sees it. */
  tokens: (TokenView & { text: string }) | null;
  /** explore: the last VAE round trip's numbers (pixels in canvas/round-trip). */
  roundTrip: {
    width: number;
    height: number;
    channels: number;
    latentWidth: number;
    latentHeight: number;
    meanAbsError: number;
    psnr: number;
    source: string;
  } | null;
  /** The gallery's entries, newest first (images in IndexedDB). */
  gallery: GalleryEntry[];
  /** Models in Cache Storage, and the site's storage use against its quota. */
  cachedModels: CachedModelRecord[];
  storage: { usage: number; quota: number } | null;
  /** A problem adding a custom model. */
  customModelError: string | null;
  /** A problem adding a LoRA file. */
  loraError: string | null;
  /** A one-line message about something the app did for the person (settings restored, and so on). */
  notice: string | null;
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
  /** The picture on the result canvas (its pixels live there): its settings and how it was made. */
  result: (ResultRecord & { version: number }) | null;
  patchJob: (patch: Partial<SessionSlice['job']>) => void;
  setSession: (
    patch: Partial<
      Pick<
        SessionSlice,
        | 'capabilities'
        | 'model'
        | 'download'
        | 'result'
        | 'initImage'
        | 'depth'
        | 'inputError'
        | 'maskSaved'
        | 'modelNotice'
        | 'compare'
        | 'previews'
        | 'tokens'
        | 'roundTrip'
        | 'gallery'
        | 'notice'
        | 'cachedModels'
        | 'storage'
        | 'customModelError'
        | 'loraError'
      >
    >,
  ) => void;
}

export const createSessionSlice: StateCreator<AppState, [], [], SessionSlice> = (set) => ({
  capabilities: null,
  model: null,
  initImage: null,
  depth: null,
  maskSaved: true,
  inputError: null,
  modelNotice: null,
  compare: null,
  previews: { steps: [], totalSteps: 0, shown: null },
  tokens: null,
  roundTrip: null,
  gallery: [],
  notice: null,
  cachedModels: [],
  storage: null,
  customModelError: null,
  loraError: null,
  download: null,
  job: { run: 0, state: 'idle', phase: null, step: 0, totalSteps: 0, startedAt: null, finishedAt: null, error: null },
  result: null,
  patchJob: (patch) => set((s) => ({ job: { ...s.job, ...patch } })),
  setSession: (patch) => set(patch),
});
