/** Models the app offers. Real hub models arrive with the model-catalog work; the tiny ones ship with the app. */
import { MODES, type Mode } from '../core/validate';

/** The app's modes: the four pipelines, plus compare (txt2img over several settings) and explore. */
export const APP_MODES = [...MODES, 'compare', 'explore'] as const;
export type AppMode = (typeof APP_MODES)[number];
import type { DepthEstimatorSource } from '../protocol/messages';

export interface CatalogModel {
  id: string;
  name: string;
  /** Folder in diffusers ONNX layout. */
  baseUrl: string;
  description: string;
  /** The modes this model's UNet can run (4 channels: txt2img/img2img/inpaint by blending; 9: inpaint; 5: depth). */
  modes: readonly AppMode[];
  /** Depth models: the estimator that makes a depth map when the user gives none. */
  depthEstimator?: DepthEstimatorSource;
  defaults: { width: number; height: number; steps: number; guidanceScale: number };
}

const BASE = import.meta.env.BASE_URL;
const TINY_DEFAULTS = { width: 512, height: 512, steps: 20, guidanceScale: 7.5 };
const TINY_NOTE =
  'Random weights with the exact inputs and outputs of a real Stable Diffusion export: it makes abstract colour fields, not pictures. Use it to try the app with no download.';

export const TINY_MODEL: CatalogModel = {
  id: 'tiny-sd',
  name: 'Tiny SD (test model, built in)',
  baseUrl: `${BASE}models/tiny-sd/`,
  description: TINY_NOTE,
  modes: ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'],
  defaults: TINY_DEFAULTS,
};

export const TINY_INPAINT_MODEL: CatalogModel = {
  id: 'tiny-sd-inpaint',
  name: 'Tiny SD inpainting (9-channel, built in)',
  baseUrl: `${BASE}models/tiny-sd-inpaint/`,
  description: `An inpainting UNet (latents, mask, masked image). ${TINY_NOTE}`,
  modes: ['inpaint'],
  defaults: TINY_DEFAULTS,
};

export const TINY_DEPTH_MODEL: CatalogModel = {
  id: 'tiny-sd-depth',
  name: 'Tiny SD depth (5-channel, built in)',
  baseUrl: `${BASE}models/tiny-sd-depth/`,
  description: `A depth-conditioned UNet with a tiny Depth-Anything-shaped estimator. ${TINY_NOTE}`,
  modes: ['depth2img'],
  depthEstimator: { modelId: 'tiny-depth-anything', baseUrl: `${BASE}models/tiny-depth-anything/` },
  defaults: TINY_DEFAULTS,
};

export const CATALOG: readonly CatalogModel[] = [TINY_MODEL, TINY_INPAINT_MODEL, TINY_DEPTH_MODEL];

/** The model a mode should use first: a dedicated one (inpainting UNet) before a general one. */
const PREFERRED: Partial<Record<AppMode, string>> = { inpaint: TINY_INPAINT_MODEL.id, depth2img: TINY_DEPTH_MODEL.id };

export function findModel(id: string): CatalogModel | undefined {
  return CATALOG.find((m) => m.id === id);
}

export function supportsMode(model: CatalogModel, mode: AppMode): boolean {
  return model.modes.includes(mode);
}

/** The model to switch to for a mode the current one cannot run (null when it can). */
export function modelForMode(currentId: string, mode: AppMode): CatalogModel | null {
  const current = findModel(currentId);
  if (current && supportsMode(current, mode)) return null;
  const preferred = PREFERRED[mode] ? findModel(PREFERRED[mode]) : undefined;
  return preferred ?? CATALOG.find((m) => supportsMode(m, mode)) ?? null;
}

export const MODE_LABELS: Record<AppMode, string> = {
  txt2img: 'Text → image',
  img2img: 'Image → image',
  inpaint: 'Inpaint',
  depth2img: 'Depth → image',
  compare: 'Compare',
  explore: 'Explore',
};

/** The pipeline a mode runs (compare and explore run txt2img). */
export function pipelineMode(mode: AppMode): Mode {
  return mode === 'compare' || mode === 'explore' ? 'txt2img' : mode;
}

export function whyNot(model: CatalogModel, mode: AppMode): string | null {
  if (supportsMode(model, mode)) return null;
  return `${model.name} cannot run ${MODE_LABELS[mode]}: it supports ${model.modes.map((m) => MODE_LABELS[m]).join(', ')}.`;
}
