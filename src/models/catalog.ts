/** The models the app offers: built-in tiny models, verified hub models, and the person's own. */
import { MODE_LABELS, type AppMode } from '../core/modes';
import type { ModelManifest } from './manifest';
import { schedulerNameForConfig } from '../core/schedulers';
import type { SchedulerName } from '../core/schedulers/types';
import { HUB_CHECKPOINTS } from './hub-catalog';

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
    defaultScheduler: 'pndm',
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
  depthEstimator: {
    kind: 'transformers',
    modelId: 'tiny-depth-anything',
    baseUrl: `${BASE}models/tiny-depth-anything/`,
  },
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

const SHAPES_DEFAULTS = { width: 256, height: 256, steps: 20, guidanceScale: 7.5 };
const SHAPES_NOTE =
  'Trained by this project (python/train) on pictures of one shape on a plain background: circle, square or triangle; ten colours; small or large; nine positions (left, top right, centre…). Prompts it knows look like "a red circle on a blue background" or "a yellow square on a green background, top left". About 3 MB per UNet.';

/**
 * The trained Shapes model in diffusers layout (safetensors, fp16), loaded by the same code as hub
 * checkpoints. The inpainting and depth variants are separate UNets sharing the base's text encoder,
 * VAE, tokenizer and scheduler, as SD's own variants were fine-tuned with them frozen.
 */
function shapes(
  id: string,
  name: string,
  description: string,
  modes: readonly AppMode[],
  kind: ModelManifest['kind'],
  unetBytes: number,
): ModelManifest {
  const shared = (path: string) => (id === 'shapes-sd' ? path : `../shapes-sd/${path}`);
  return {
    id,
    name,
    source: { kind: 'app', baseUrl: `${BASE}models/${id}/` },
    description,
    licence: 'MIT (trained by this project)',
    dtype: 'fp16',
    kind,
    modes,
    verified: true,
    verifiedBy: 'trained by python/train/train.py; what it draws is checked by tests/e2e/trained-model.test.ts',
    components: {
      format: 'safetensors',
      textEncoder: { config: shared('text_encoder/config.json'), weights: [shared('text_encoder/model.safetensors')] },
      unet: { config: 'unet/config.json', weights: ['unet/diffusion_pytorch_model.safetensors'] },
      vae: { config: shared('vae/config.json'), weights: [shared('vae/diffusion_pytorch_model.safetensors')] },
    },
    scheduler: { path: shared('scheduler/scheduler_config.json') },
    defaultScheduler: 'ddim',
    tokenizer: { dir: shared('tokenizer/'), hasTokenizerJson: true },
    vaeConfigPath: shared('vae/config.json'),
    nativeSize: 256,
    defaults: SHAPES_DEFAULTS,
    approxBytes: 6_640_000 + 1_910_000 + unetBytes,
  };
}

// Inpainting goes to the dedicated 9-channel UNet, as with SD's own inpainting model.
export const SHAPES_MODEL = shapes(
  'shapes-sd',
  'Shapes (trained, built in)',
  SHAPES_NOTE,
  ['txt2img', 'img2img', 'compare', 'explore'],
  'txt2img',
  2_850_000,
);

export const SHAPES_INPAINT_MODEL = shapes(
  'shapes-sd-inpaint',
  'Shapes inpainting (trained, built in)',
  `A 9-channel inpainting UNet fine-tuned from Shapes on random masks: paint where the named shape should go. ${SHAPES_NOTE}`,
  ['inpaint'],
  'inpaint',
  2_850_000,
);

export const SHAPES_DEPTH_MODEL: ModelManifest = {
  ...shapes(
    'shapes-sd-depth',
    'Shapes depth (trained, built in)',
    `A 5-channel depth UNet fine-tuned from Shapes, where depth is the shape's silhouette: its estimator finds the shape in a start image, or upload a depth map (white = near). ${SHAPES_NOTE}`,
    ['depth2img'],
    'depth',
    2_850_000,
  ),
  depthEstimator: { kind: 'silhouette' },
};

export const BUILTIN: readonly ModelManifest[] = [
  SHAPES_MODEL,
  SHAPES_INPAINT_MODEL,
  SHAPES_DEPTH_MODEL,
  TINY_MODEL,
  TINY_INPAINT_MODEL,
  TINY_DEPTH_MODEL,
  SD_TURBO,
  ...HUB_CHECKPOINTS,
];

const hubModel = (id: string): ModelManifest => {
  const m = HUB_CHECKPOINTS.find((x) => x.id === id);
  if (!m) throw new Error(`no catalog entry ${id}`);
  return m;
};

/** The built-in models and the person's own (added by repo id or URL, kept in the settings). */
export function catalog(custom: readonly ModelManifest[]): readonly ModelManifest[] {
  return [...BUILTIN, ...custom];
}

/**
 * Built-in models that belong together (a base and its inpainting and depth UNets): a mode the
 * current model cannot run switches to its own family's model for it first, then to the default
 * family's, then to any model that can.
 */
const FAMILIES: readonly (readonly ModelManifest[])[] = [
  [SHAPES_MODEL, SHAPES_INPAINT_MODEL, SHAPES_DEPTH_MODEL],
  [TINY_MODEL, TINY_INPAINT_MODEL, TINY_DEPTH_MODEL],
  // SD's own: inpainting from SD 1.5 goes to its inpainting model; depth to SD 2 depth.
  [hubModel('sd15'), hubModel('sd15-inpaint'), hubModel('sd2-depth')],
  [hubModel('sd21-base'), hubModel('sd2-depth')],
  [hubModel('lcm-dreamshaper-v7'), hubModel('sd15-inpaint'), hubModel('sd2-depth')],
  [hubModel('bk-sdm-tiny'), hubModel('sd15-inpaint'), hubModel('sd2-depth')],
  // SDXL's: inpainting from SDXL base (or Turbo) goes to SDXL inpainting.
  [hubModel('sdxl-base'), hubModel('sdxl-inpaint')],
  [hubModel('sdxl-turbo'), hubModel('sdxl-inpaint')],
];

/** The model a new visitor starts with. */
export const DEFAULT_MODEL = SHAPES_MODEL;

export function findModel(id: string, custom: readonly ModelManifest[]): CatalogModel | undefined {
  return catalog(custom).find((m) => m.id === id);
}

/** The scheduler a model's config names, when known before it loads (else null). */
export function knownDefaultScheduler(model: CatalogModel): SchedulerName | null {
  if ('config' in model.scheduler) return schedulerNameForConfig(model.scheduler.config);
  return model.defaultScheduler ?? null;
}

export function supportsMode(model: CatalogModel, mode: AppMode): boolean {
  return model.modes.includes(mode);
}

/** The model to switch to for a mode the current one cannot run (null when it can). */
export function modelForMode(currentId: string, mode: AppMode, custom: readonly ModelManifest[]): CatalogModel | null {
  const current = findModel(currentId, custom);
  if (current && supportsMode(current, mode)) return null;
  const family = FAMILIES.find((f) => f.some((m) => m.id === currentId)) ?? [];
  const candidates = [...family, ...(FAMILIES[0] ?? []), ...catalog(custom)];
  return candidates.find((m) => supportsMode(m, mode)) ?? null;
}

export function whyNot(model: CatalogModel, mode: AppMode): string | null {
  if (supportsMode(model, mode)) return null;
  return `${model.name} cannot run ${MODE_LABELS[mode]}: it supports ${model.modes.map((m) => MODE_LABELS[m]).join(', ')}.`;
}
