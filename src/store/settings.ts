import type { StateCreator } from 'zustand';
import type { SamplingSettings } from '../core/generation-settings';
import type { SchedulerName } from '../core/schedulers/types';
import { DEFAULT_STRENGTH, type Mode } from '../core/validate';
import type { ResizeMode } from '../canvas/init-image';
import type { MaskTool } from '../canvas/mask-model';
import type { AppMode } from '../models/catalog';
import type { ModelManifest } from '../models/manifest';
import type { Backend, EmbeddingSetting, LoraSetting } from '../protocol/messages';
import { DEFAULT_MODEL } from '../models/catalog';
import type { AppState } from './index';

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
  /** LoRAs added, in order, with their strengths (their files are in IndexedDB by name). */
  loras: LoraSetting[];
  /** Textual-inversion embeddings added, each with the word that calls it (files in IndexedDB). */
  embeddings: EmbeddingSetting[];
  setSetting: <K extends SettingKey>(key: K, value: SettingsSlice[K]) => void;
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
  | 'previewEvery';

export const createSettingsSlice: StateCreator<AppState, [], [], SettingsSlice> = (set) => ({
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
  setSetting: (key, value) =>
    set(() =>
      key === 'scheduler'
        ? { scheduler: value as SchedulerName, schedulerChosen: true }
        : key === 'backend'
          ? { backend: value as Backend, backendChosen: true }
          : { [key]: value },
    ),
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
];
