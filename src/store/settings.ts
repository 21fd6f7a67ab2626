import type { StateCreator } from 'zustand';
import type { ModelSlice } from './model';
import { jobAfterFix, jobWithoutSettingError, type JobSlice } from './job';
import type { HiresUpscaler, SamplingSettings } from '../core/generation-settings';
import type { PromptSyntax } from '../core/prompt/syntax';
import type { SchedulerName } from '../core/schedulers/types';
import { DEFAULT_STRENGTH, type AppMode, type Mode } from '../core/modes';
import type { ResizeMode } from '../canvas/init-image';
import type { MaskTool } from '../canvas/mask-model';
import type { ModelManifest } from '../models/manifest';
import type { Backend, EmbeddingSetting, LoraSetting } from '../protocol/messages';
import { DEFAULT_MODEL } from '../models/catalog';

/** What the person set; persisted so a reload keeps it. */
export interface SettingsSlice extends SamplingSettings {
  /** True once the person picked a scheduler; until then a newly loaded model's own default applies. */
  schedulerChosen: boolean;
  backend: Backend;
  /** True once the person picked a backend; until then the app picks the faster one it detects. */
  backendChosen: boolean;
  modelId: string;
  theme: 'dark' | 'light';
  mode: AppMode;
  /** Models the person added by repo id or URL, as manifests read from their model_index.json. */
  customModels: ModelManifest[];
  /** compare: the guidance scales, as typed ("1.1, 8, 12"). */
  compareScales: string;
  /** compare: an optional second axis and its values ("10, 20" steps or "pndm, euler"). */
  compareAxis: 'none' | 'steps' | 'scheduler';
  compareAxisValues: string;
  /** Karras sigmas for the schedulers that have them (see SamplingSettings.karras). */
  karras: boolean;
  promptSyntax: PromptSyntax;
  /** A1111's clip skip (1: the last layer). */
  clipSkip: number;
  /** txt2img: A1111's hires fix, and its settings (kept while it is off). */
  hiresFix: boolean;
  hiresScale: number;
  /** 0: as many as the first pass. */
  hiresSteps: number;
  hiresDenoise: number;
  hiresUpscaler: HiresUpscaler;
  /** Pictures one Generate makes, one after another, with seeds seed, seed + 1, … (A1111's batch count). */
  batchCount: number;
  /** Live previews while generating (off by default: the VAE preview costs a decode per preview). */
  livePreview: boolean;
  previewKind: 'vae' | 'fast';
  previewEvery: number;
  /** Strength per image mode, each starting at its pipeline's default. */
  strength: Record<Exclude<Mode, 'txt2img'>, number>;
  /** How a start image meets the output size: crop to fill, or fit inside with grey bars. */
  resizeMode: ResizeMode;
  /** inpaint: paste the original pixels back outside the feathered mask. */
  pasteBack: boolean;
  maskTool: MaskTool;
  /** Brush radius in image pixels. */
  brushSize: number;
  /** How strongly the mask tints the picture while painting, 0..1. */
  maskOpacity: number;
  /** Models whose safety checker the person turned off (by id); on for every other model. */
  safetyCheckerOff: string[];
  safetyCheckerToggled: (modelId: string, on: boolean) => void;
  /** LoRAs added, in order, with their strengths (their files are in IndexedDB by name). */
  loras: LoraSetting[];
  /** Textual-inversion embeddings added, each with the word that calls it (files in IndexedDB). */
  embeddings: EmbeddingSetting[];
  setSetting: <K extends SettingKey>(key: K, value: SettingsSlice[K]) => void;
  setStrength: (mode: Exclude<Mode, 'txt2img'>, strength: number) => void;
  /** Width and height trade places (portrait ↔ landscape). */
  sizeSwapped: () => void;
  /** A mode, and the model to run it with when the current one cannot (`notice` says why). */
  modeChosen: (mode: AppMode, modelId: string | null, notice: string | null) => void;
  /** Back to a model that worked after the selected one failed: its failure is no longer the news. */
  modelChosenAfterFailure: (modelId: string) => void;
  /** A model's own defaults for steps, guidance and size. */
  defaultsApplied: (d: { steps: number; guidanceScale: number; width: number; height: number }) => void;
  /** What the app picks until the person does (the faster backend, the model's own scheduler). */
  backendDetected: (backend: Backend) => void;
  schedulerDefaulted: (scheduler: SchedulerName) => void;
  /** Back to the model's own scheduler (the person's choice forgotten). */
  schedulerUnchosen: () => void;
  customModelAdded: (model: ModelManifest) => void;
  /** Removed; the default model is selected if it was this one. */
  customModelRemoved: (id: string, fallbackId: string) => void;
  customModelChanged: (model: ModelManifest) => void;
  loraAdded: (name: string) => void;
  loraScaled: (name: string, scale: number) => void;
  loraRemoved: (name: string) => void;
  embeddingAdded: (name: string) => void;
  embeddingTriggerChanged: (name: string, trigger: string) => void;
  embeddingRemoved: (name: string) => void;
}

export type SettingKey =
  | 'prompt'
  | 'negativePrompt'
  | 'guidanceScale'
  | 'steps'
  | 'seed'
  | 'width'
  | 'height'
  | 'scheduler'
  | 'backend'
  | 'modelId'
  | 'theme'
  | 'resizeMode'
  | 'pasteBack'
  | 'maskTool'
  | 'brushSize'
  | 'maskOpacity'
  | 'compareScales'
  | 'compareAxis'
  | 'compareAxisValues'
  | 'livePreview'
  | 'previewKind'
  | 'previewEvery'
  | 'batchCount'
  | 'karras'
  | 'promptSyntax'
  | 'clipSkip'
  | 'hiresFix'
  | 'hiresScale'
  | 'hiresSteps'
  | 'hiresDenoise'
  | 'hiresUpscaler';

export const createSettingsSlice: StateCreator<
  SettingsSlice & Pick<ModelSlice, 'modelNotice'> & Pick<JobSlice, 'job'>,
  [],
  [],
  SettingsSlice
> = (set) => ({
  prompt: 'a red circle on a blue background',
  negativePrompt: '',
  guidanceScale: DEFAULT_MODEL.defaults.guidanceScale,
  steps: DEFAULT_MODEL.defaults.steps,
  seed: '42',
  width: DEFAULT_MODEL.defaults.width,
  height: DEFAULT_MODEL.defaults.height,
  scheduler: 'pndm',
  schedulerChosen: false,
  backend: 'webgpu',
  backendChosen: false,
  modelId: DEFAULT_MODEL.id,
  theme: 'dark',
  mode: 'txt2img',
  customModels: [],
  compareScales: '1.1, 8, 12',
  compareAxis: 'none',
  compareAxisValues: '',
  batchCount: 1,
  karras: false,
  promptSyntax: 'a1111',
  clipSkip: 1,
  hiresFix: false,
  hiresScale: 2,
  hiresSteps: 0,
  hiresDenoise: 0.7,
  hiresUpscaler: 'latent',
  livePreview: false,
  previewKind: 'vae',
  previewEvery: 2,
  strength: { ...DEFAULT_STRENGTH },
  resizeMode: 'crop',
  pasteBack: true,
  maskTool: 'brush',
  brushSize: 24,
  maskOpacity: 0.5,
  loras: [],
  embeddings: [],
  safetyCheckerOff: [],
  safetyCheckerToggled: (modelId, on) =>
    set((s) => ({
      safetyCheckerOff: on
        ? s.safetyCheckerOff.filter((id) => id !== modelId)
        : [...s.safetyCheckerOff.filter((id) => id !== modelId), modelId],
    })),
  setSetting: (key, value) =>
    set((s) => ({
      ...(key === 'scheduler'
        ? { scheduler: value as SchedulerName, schedulerChosen: true }
        : key === 'backend'
          ? { backend: value as Backend, backendChosen: true }
          : { [key]: value }),
      ...jobAfterFix(s.job, key, value),
    })),
  sizeSwapped: () => set((s) => ({ width: s.height, height: s.width })),
  setStrength: (mode, strength) =>
    set((s) => ({ strength: { ...s.strength, [mode]: strength }, ...jobAfterFix(s.job, 'strength', strength) })),
  modeChosen: (mode, modelId, modelNotice) =>
    set((s) => ({
      mode,
      modelNotice,
      ...(modelId ? { modelId } : {}),
      // A refused setting belongs to the mode it was refused in; it does not follow into another.
      ...jobWithoutSettingError(s.job),
    })),
  modelChosenAfterFailure: (modelId) =>
    set((s) => ({ modelId, job: s.job.state === 'error' ? { ...s.job, state: 'idle', error: null } : s.job })),
  defaultsApplied: ({ steps, guidanceScale, width, height }) => set({ steps, guidanceScale, width, height }),
  backendDetected: (backend) => set({ backend }),
  schedulerDefaulted: (scheduler) => set({ scheduler }),
  schedulerUnchosen: () => set({ schedulerChosen: false }),
  customModelAdded: (model) =>
    set((s) => ({ customModels: [...s.customModels.filter((m) => m.id !== model.id), model] })),
  customModelRemoved: (id, fallbackId) =>
    set((s) => ({
      customModels: s.customModels.filter((m) => m.id !== id),
      ...(s.modelId === id ? { modelId: fallbackId } : {}),
    })),
  customModelChanged: (model) =>
    set((s) => ({ customModels: s.customModels.map((m) => (m.id === model.id ? model : m)) })),
  loraAdded: (name) => set((s) => ({ loras: [...s.loras.filter((l) => l.name !== name), { name, scale: 1 }] })),
  loraScaled: (name, scale) => set((s) => ({ loras: s.loras.map((l) => (l.name === name ? { ...l, scale } : l)) })),
  loraRemoved: (name) => set((s) => ({ loras: s.loras.filter((l) => l.name !== name) })),
  embeddingAdded: (name) =>
    set((s) => ({ embeddings: [...s.embeddings.filter((e) => e.name !== name), { name, trigger: name }] })),
  embeddingTriggerChanged: (name, trigger) =>
    set((s) => ({ embeddings: s.embeddings.map((e) => (e.name === name ? { ...e, trigger } : e)) })),
  embeddingRemoved: (name) => set((s) => ({ embeddings: s.embeddings.filter((e) => e.name !== name) })),
});

export const PERSISTED_SETTINGS: readonly (keyof SettingsSlice)[] = [
  'prompt',
  'negativePrompt',
  'guidanceScale',
  'steps',
  'seed',
  'width',
  'height',
  'scheduler',
  'schedulerChosen',
  'backend',
  'backendChosen',
  'modelId',
  'theme',
  'mode',
  'customModels',
  'compareScales',
  'compareAxis',
  'compareAxisValues',
  'batchCount',
  'karras',
  'promptSyntax',
  'clipSkip',
  'hiresFix',
  'hiresScale',
  'hiresSteps',
  'hiresDenoise',
  'hiresUpscaler',
  'livePreview',
  'previewKind',
  'previewEvery',
  'strength',
  'resizeMode',
  'pasteBack',
  'maskTool',
  'brushSize',
  'maskOpacity',
  'loras',
  'embeddings',
  'safetyCheckerOff',
];
