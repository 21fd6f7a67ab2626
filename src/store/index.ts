/**
 * The app's state: the person's settings (persisted) and one slice per concern, each with named
 * actions. Pixels are not here: canvas/ keeps them, the store keeps handles and numbers.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware';
import { DEFAULT_MODEL, findModel, knownDefaultScheduler } from '../models/catalog';
import type { SchedulerName } from '../core/schedulers/types';
import type { ModelManifest } from '../models/manifest';
import { createControlNetSlice, type ControlNetSlice } from './controlnet';
import { createEditorSlice, type EditorSlice } from './editor';
import { createExploreSlice, type ExploreSlice } from './explore';
import { createGallerySlice, type GallerySlice } from './gallery';
import { createJobSlice, type JobSlice } from './job';
import { createModelSlice, type ModelSlice } from './model';
import { createNoticeSlice, type NoticeSlice } from './notice';
import { createSettingsSlice, PERSISTED_SETTINGS, type SettingsSlice } from './settings';
import { createVaeSlice, type VaeSlice } from './vae';

export type AppState = SettingsSlice &
  ModelSlice &
  JobSlice &
  EditorSlice &
  GallerySlice &
  ExploreSlice &
  NoticeSlice &
  ControlNetSlice &
  VaeSlice;

/** Models read from files the person picked: the browser does not keep access to them across visits. */
const pickedThisVisit = (m: ModelManifest): boolean =>
  m.source.kind === 'local' || m.components.format === 'single-file';

/** A store over `storage` (the page's localStorage; tests give each test its own). */
export function createAppStore(storage: () => StateStorage): UseBoundStore<StoreApi<AppState>> {
  return create<AppState>()(
    persist(
      (...a) => ({
        ...createSettingsSlice(...a),
        ...createModelSlice(...a),
        ...createJobSlice(...a),
        ...createEditorSlice(...a),
        ...createGallerySlice(...a),
        ...createExploreSlice(...a),
        ...createNoticeSlice(...a),
        ...createControlNetSlice(...a),
        ...createVaeSlice(...a),
      }),
      {
        name: 'latent-studio-settings',
        version: 1,
        storage: createJSONStorage(storage),
        partialize: (state) => ({
          ...Object.fromEntries(PERSISTED_SETTINGS.map((k) => [k, state[k]])),
          lastWorkingModelId: state.lastWorkingModelId,
          // A picked folder's blob: URLs and a picked checkpoint file end with the visit.
          customModels: state.customModels.filter((m) => !pickedThisVisit(m)),
          ...(state.customModels.some((m) => m.id === state.modelId && pickedThisVisit(m))
            ? { modelId: DEFAULT_MODEL.id }
            : {}),
          // A picked VAE file ends with the visit too: the models' own VAEs then.
          customVaes: state.customVaes.filter((v) => v.source.kind !== 'file'),
          vaeChoice: state.customVaes.some((v) => v.id === state.vaeChoice && v.source.kind === 'file')
            ? null
            : state.vaeChoice,
        }),
      },
    ),
  );
}

/** The store as actions take it: state and its named actions, no React. */
export type AppStore = StoreApi<AppState>;

export const useStore = createAppStore(() => localStorage);

/** Narrow selectors, so a component re-renders only for what it shows. */
export const selectJob = (s: AppState) => s.job;
export const selectBusy = (s: AppState) => s.job.state === 'loading' || s.job.state === 'generating';
export const selectModel = (s: AppState) => s.model;

/**
 * The scheduler the next run takes, as the select shows it: the person's choice, else the selected
 * model's own (from the loaded model, or its manifest before loading); null while that is unknown.
 */
export const selectSchedulerShown = (s: AppState): SchedulerName | null => {
  if (s.schedulerChosen) return s.scheduler;
  if (s.model && s.model.modelId === s.modelId) return s.model.defaultScheduler ?? s.scheduler;
  const manifest = findModel(s.modelId, s.customModels);
  return manifest ? knownDefaultScheduler(manifest) : null;
};
export const selectCapabilities = (s: AppState) => s.capabilities;
export const selectResult = (s: AppState) => s.result;
export const selectDownload = (s: AppState) => s.download;
