/** The model slice: what this machine offers, the model in the worker, its download and the cache. */
import type { StateCreator } from 'zustand';
import type { Capabilities, LoadModelResult } from '../protocol/messages';
import type { CachedModelRecord } from '../storage/model-cache';
import type { PredictionType } from '../models/single-file';

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** All of the model's files so far, and when the download began (for speed and time left). */
  overallLoaded: number;
  overallTotal: number | null;
  startedAt: number;
}

/** Where a person adds a model: a repo id, URL or folder; or a single checkpoint file. */
export type ModelInput = 'repo' | 'file';

export interface ModelSlice {
  capabilities: Capabilities | null;
  /** The model loaded in the worker (null: none, or it must be loaded again). */
  model: LoadModelResult | null;
  /** The last model that loaded, to go back to when another fails (offline, a host down). */
  lastWorkingModelId: string | null;
  /** The site requires the safety checker: the setting is shown on and locked. */
  safetyRequired: boolean;
  safetyRequiredBySite: () => void;
  download: DownloadProgress | null;
  /** Models in Cache Storage, and the site's storage use against its quota. */
  cachedModels: CachedModelRecord[];
  storage: { usage: number; quota: number } | null;
  /** A model is being added (its index or header read): Generate waits for it. */
  addingModel: boolean;
  /** A problem adding a custom model, and which control it came from (shown beside it). */
  customModelError: { message: string; from: ModelInput } | null;
  /** A problem adding a LoRA file. */
  loraError: string | null;
  /** Why the app switched models on a mode change, shown once. */
  modelNotice: string | null;
  /** How the next picked or dropped checkpoint file is read: what a single file does not say. */
  checkpointChoice: { prediction: PredictionType; configsFrom: string | null };
  checkpointChoiceChanged: (choice: Partial<ModelSlice['checkpointChoice']>) => void;
  capabilitiesFound: (capabilities: Capabilities) => void;
  modelLoaded: (model: LoadModelResult) => void;
  /** The worker has no model any more (a failed load, a crash, a lost device). */
  modelForgotten: () => void;
  downloadProgressed: (download: DownloadProgress | null) => void;
  cacheListed: (records: CachedModelRecord[], storage: { usage: number; quota: number } | null) => void;
  customModelFailed: (error: { message: string; from: ModelInput } | null) => void;
  modelAdding: (adding: boolean) => void;
  loraFailed: (message: string | null) => void;
}

export const createModelSlice: StateCreator<ModelSlice, [], [], ModelSlice> = (set) => ({
  capabilities: null,
  model: null,
  lastWorkingModelId: null,
  safetyRequired: false,
  safetyRequiredBySite: () => set({ safetyRequired: true }),
  download: null,
  cachedModels: [],
  storage: null,
  addingModel: false,
  customModelError: null,
  loraError: null,
  modelNotice: null,
  checkpointChoice: { prediction: 'epsilon', configsFrom: null },
  checkpointChoiceChanged: (choice) => set((s) => ({ checkpointChoice: { ...s.checkpointChoice, ...choice } })),
  capabilitiesFound: (capabilities) => set({ capabilities }),
  modelLoaded: (model) => set({ model, download: null, lastWorkingModelId: model.modelId }),
  modelForgotten: () => set({ model: null }),
  downloadProgressed: (download) => set({ download }),
  cacheListed: (cachedModels, storage) => set({ cachedModels, storage }),
  customModelFailed: (customModelError) => set({ customModelError }),
  modelAdding: (addingModel) => set({ addingModel }),
  loraFailed: (loraError) => set({ loraError }),
});
