/** The models the app offers: built-in tiny models, verified hub models, and the person's own. */
import { MODES, type Mode } from '../core/validate';
import type { ModelManifest } from './manifest';

/** The app's modes: the four pipelines, plus compare (txt2img over several settings) and explore. */
export const APP_MODES = [...MODES, 'compare', 'explore'] as const;
export type AppMode = (typeof APP_MODES)[number];

/** A catalog entry is a manifest: data describing the model's files and what it can do. */
export type CatalogModel = ModelManifest;

const BASE = import.meta.env.BASE_URL;
const TINY_DEFAULTS = { width: 512, height: 512, steps: 20, guidanceScale: 7.5 };
const TINY_NOTE =
  'Random weights with the exact inputs and outputs of a real Stable Diffusion export: it makes abstract colour fields, not pictures. Use it to try the app with no download.';

/** The built-in tiny models, served by the app in the diffusers ONNX layout. */
function tiny(
  id: string,
  name: string,
  description: string,
  modes: readonly AppMode[],
  kind: ModelManifest['kind'],
): ModelManifest {
  return {
    id,
    name,
    source: { kind: 'app', baseUrl: `${BASE}models/${id}/` },
    description,
    licence: 'MIT (made by this project)',
    dtype: 'fp32',
    kind,
    modes,
    verified: true,
    verifiedBy: 'made by scripts/make-tiny-models.ts',
    components: {
      format: 'onnx',
      textEncoder: { path: 'text_encoder/model.onnx' },
      unet: { path: 'unet/model.onnx' },
      vaeDecoder: { path: 'vae_decoder/model.onnx' },
      vaeEncoder: { path: 'vae_encoder/model.onnx' },
    },
    scheduler: { path: 'scheduler/scheduler_config.json' },
    tokenizer: { dir: 'tokenizer/', hasTokenizerJson: true },
    vaeConfigPath: 'vae_decoder/config.json',
    nativeSize: 512,
    defaults: TINY_DEFAULTS,
    approxBytes: 6_000_000,
  };
}

export const TINY_MODEL = tiny(
  'tiny-sd',
  'Tiny SD (test model, built in)',
  TINY_NOTE,
  ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'],
  'txt2img',
);

export const TINY_INPAINT_MODEL = tiny(
  'tiny-sd-inpaint',
  'Tiny SD inpainting (9-channel, built in)',
  `An inpainting UNet (latents, mask, masked image). ${TINY_NOTE}`,
  ['inpaint'],
  'inpaint',
);

export const TINY_DEPTH_MODEL: ModelManifest = {
  ...tiny(
    'tiny-sd-depth',
    'Tiny SD depth (5-channel, built in)',
    `A depth-conditioned UNet with a tiny Depth-Anything-shaped estimator. ${TINY_NOTE}`,
    ['depth2img'],
    'depth',
  ),
  depthEstimator: { modelId: 'tiny-depth-anything', baseUrl: `${BASE}models/tiny-depth-anything/` },
};

/**
 * SD-Turbo as the official onnxruntime-web WebGPU demo loads it: the same repo, file paths and
 * I/O names; one Euler step at t = 999 (σ = 14.6146), which stabilityai/sd-turbo's scheduler
 * config (Euler, trailing spacing) gives for 1 step. fp16 weights: WebGPU with shader-f16.
 */
export const SD_TURBO: ModelManifest = {
  id: 'sd-turbo',
  name: 'SD-Turbo (fp16, about 2.4 GB)',
  source: { kind: 'hub', repo: 'schmuell/sd-turbo-ort-web', revision: 'main' },
  description:
    'Stability AI SD-Turbo distilled to make a 512×512 image in 1–4 steps without guidance. fp16 weights: needs WebGPU with shader-f16.',
  licence: 'Stability AI Non-Commercial Research Community License (sd-turbo)',
  dtype: 'fp16',
  kind: 'turbo',
  modes: ['txt2img', 'compare', 'explore'],
  verified: true,
  verifiedBy:
    'file paths, input/output names and the 1-step Euler schedule as used by microsoft/onnxruntime-inference-examples js/sd-turbo',
  components: {
    format: 'onnx',
    textEncoder: { path: 'text_encoder/model.onnx' },
    unet: { path: 'unet/model.onnx' },
    vaeDecoder: { path: 'vae_decoder/model.onnx' },
  },
  scheduler: {
    config: {
      _class_name: 'EulerDiscreteScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      prediction_type: 'epsilon',
      steps_offset: 1,
      timestep_spacing: 'trailing',
      interpolation_type: 'linear',
      use_karras_sigmas: false,
    },
  },
  // The repo's tokenizer folder has vocab.json and merges.txt only; SD 2.x (OpenCLIP) pads with "!".
  tokenizer: { dir: 'tokenizer/', hasTokenizerJson: false },
  padToken: '!',
  nativeSize: 512,
  defaults: { width: 512, height: 512, steps: 1, guidanceScale: 0 },
  approxBytes: 2_450_000_000,
};

export const BUILTIN: readonly ModelManifest[] = [TINY_MODEL, TINY_INPAINT_MODEL, TINY_DEPTH_MODEL, SD_TURBO];

/** Models the person added (repo id or URL), kept with the settings. */
let custom: readonly ModelManifest[] = [];

export function setCustomModels(models: readonly ModelManifest[]): void {
  custom = models;
}

export function catalog(): readonly ModelManifest[] {
  return [...BUILTIN, ...custom];
}

/** The model a mode should use first: a dedicated one (inpainting UNet) before a general one. */
const PREFERRED: Partial<Record<AppMode, string>> = { inpaint: TINY_INPAINT_MODEL.id, depth2img: TINY_DEPTH_MODEL.id };

export function findModel(id: string): CatalogModel | undefined {
  return catalog().find((m) => m.id === id);
}

export function supportsMode(model: CatalogModel, mode: AppMode): boolean {
  return model.modes.includes(mode);
}

/** The model to switch to for a mode the current one cannot run (null when it can). */
export function modelForMode(currentId: string, mode: AppMode): CatalogModel | null {
  const current = findModel(currentId);
  if (current && supportsMode(current, mode)) return null;
  const preferred = PREFERRED[mode] ? findModel(PREFERRED[mode]) : undefined;
  return preferred ?? catalog().find((m) => supportsMode(m, mode)) ?? null;
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
