import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { DEFAULT_MODEL, setCustomModels } from '../models/catalog';
import { createSessionSlice, type SessionSlice } from './session';
import { createSettingsSlice, PERSISTED_SETTINGS, type SettingsSlice } from './settings';

export type AppState = SettingsSlice & SessionSlice;

export const useStore = create<AppState>()(
  persist((...a) => ({ ...createSettingsSlice(...a), ...createSessionSlice(...a) }), {
    name: 'latent-studio-settings',
    version: 1,
    storage: createJSONStorage(() => localStorage),
    partialize: (state) => ({
      ...Object.fromEntries(PERSISTED_SETTINGS.map((k) => [k, state[k]])),
      // A picked folder's blob: URLs end with the visit.
      customModels: state.customModels.filter((m) => m.source.kind !== 'local'),
      ...(state.customModels.some((m) => m.id === state.modelId && m.source.kind === 'local')
        ? { modelId: DEFAULT_MODEL.id }
        : {}),
    }),
  }),
);

/** Narrow selectors, so a component re-renders only for what it shows. */
export const selectJob = (s: AppState) => s.job;
export const selectBusy = (s: AppState) => s.job.state === 'loading' || s.job.state === 'generating';
export const selectModel = (s: AppState) => s.model;
export const selectCapabilities = (s: AppState) => s.capabilities;
export const selectResult = (s: AppState) => s.result;
export const selectDownload = (s: AppState) => s.download;

// The catalog knows the person's own models too.
setCustomModels(useStore.getState().customModels);
useStore.subscribe((s, previous) => {
  if (s.customModels !== previous.customModels) setCustomModels(s.customModels);
});
