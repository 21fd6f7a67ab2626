/**
 * The product's request kinds, one row each (see request-row.ts): the params and result types, the
 * parser the worker runs at its edge (what arrives is `unknown`; what leaves is the typed request
 * its runner takes, or a ValidationError naming the field at fault), and what is transferred.
 * The benchmark's and tests' kinds are in dev-requests.ts, which the product never loads.
 */
import { ValidationError } from '../core/errors';
import { isRecord, type JsonObject } from '../core/json';
import { parseSafetensors, type SafetensorsHeader } from '../core/formats/safetensors';
import type { RgbaImage } from '../core/image/rgba';
import { validateCells } from '../core/pipeline/compare';
import {
  validateGenerate,
  validateImage,
  validatePrompt,
  validatePromptSyntax,
  validateTxt2Img,
} from '../core/validate';
import type { PromptSyntax } from '../core/prompt/syntax';
import { CONTROL_PREPROCESSORS } from '../core/generation-settings';
import type {
  Capabilities,
  CompareParams,
  DepthEstimatorSource,
  DepthResult,
  EmbeddingSetting,
  GenerateParams,
  GenerateResult,
  LoadModelParams,
  LoadModelResult,
  LoraSetting,
  PreviewRequest,
  RoundTripResult,
  TokenView,
  WireImage,
  ControlPreprocess,
  ControlPreprocessor,
  LoadControlNetResult,
} from './messages';
import type { ControlNetPlan } from './load-plan';
import { parseControlNetPlan, parseLoadPlan } from './parse-plan';
import { buffers, row, type ProtocolOf } from './request-row';

type Raw = JsonObject;

/** The LoRAs (at non-zero strengths) and embeddings a request wants merged into the model. */
export interface WantedAdditions {
  loras: LoraSetting[];
  embeddings: EmbeddingSetting[];
}

const withSlash = (url: string): string => (url.endsWith('/') ? url : `${url}/`);

function parseLoadModel(params: Raw): LoadModelParams {
  const { modelId, backend, depthEstimator } = params;
  if (typeof modelId !== 'string' || modelId.length === 0) throw new ValidationError('Choose a model.', 'model');
  const plan = parseLoadPlan(params['plan']);
  if (backend !== 'webgpu' && backend !== 'wasm')
    throw new ValidationError('Backend must be WebGPU or WASM.', 'backend');
  const request: LoadModelParams = { modelId, plan, backend };
  const threads = params['wasmThreads'];
  if (typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= 16) {
    request.wasmThreads = threads;
  }
  if (depthEstimator !== undefined) request.depthEstimator = parseDepthEstimator(depthEstimator);
  if (params['requireSafetyChecker'] === true) request.requireSafetyChecker = true;
  return request;
}

function parseDepthEstimator(value: unknown): DepthEstimatorSource {
  if (isRecord(value) && value['kind'] === 'silhouette') return { kind: 'silhouette' };
  if (isRecord(value) && value['kind'] === 'hub') {
    const { modelId, revision, hub } = value;
    if (typeof modelId !== 'string' || !/^[\w.-]+\/[\w.-]+$/.test(modelId) || typeof revision !== 'string') {
      throw new ValidationError(
        'The depth estimator on the hub needs a repo id ("owner/name") and a revision.',
        'model',
      );
    }
    if (hub !== undefined && (typeof hub !== 'string' || !/^https?:\/\//.test(hub))) {
      throw new ValidationError('The depth estimator’s hub must be an http(s) URL.', 'model');
    }
    return { kind: 'hub', modelId, revision, ...(typeof hub === 'string' ? { hub } : {}) };
  }
  if (
    !isRecord(value) ||
    value['kind'] !== 'transformers' ||
    typeof value['modelId'] !== 'string' ||
    typeof value['baseUrl'] !== 'string'
  ) {
    throw new ValidationError(
      'The depth estimator must be { kind: "silhouette" }, { kind: "hub", modelId, revision } or { kind: "transformers", modelId, baseUrl }.',
      'model',
    );
  }
  return { kind: 'transformers', modelId: value['modelId'], baseUrl: withSlash(value['baseUrl']) };
}

function parseLoras(value: unknown): LoraSetting[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 16)
    throw new ValidationError('loras must be a list of up to 16 {name, scale}.', 'lora');
  return value.map((v: unknown) => {
    if (!isRecord(v) || typeof v['name'] !== 'string')
      throw new ValidationError('A LoRA setting needs a name.', 'lora');
    const scale = v['scale'];
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < -2 || scale > 2) {
      throw new ValidationError(`The strength of LoRA "${v['name']}" must be between −2 and 2.`, 'lora');
    }
    return { name: v['name'], scale };
  });
}

function parseEmbeddings(value: unknown): EmbeddingSetting[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 32)
    throw new ValidationError('embeddings must be a list of {name, trigger}.', 'embedding');
  return value.map((v: unknown) => {
    if (!isRecord(v) || typeof v['name'] !== 'string' || typeof v['trigger'] !== 'string' || !v['trigger'].trim()) {
      throw new ValidationError('An embedding needs a name and a trigger word.', 'embedding');
    }
    return { name: v['name'], trigger: v['trigger'].trim() };
  });
}

/** A LoRA at strength 0 changes nothing: it is left out, so its file need not be loaded. */
const parseAdditions = (params: Raw): WantedAdditions => ({
  loras: parseLoras(params['loras']).filter((l) => l.scale !== 0),
  embeddings: parseEmbeddings(params['embeddings']),
});

/** Whether the run wants the model's safety checker (on unless turned off). */
function parseSafetyWanted(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new ValidationError('safetyChecker must be true or false.', 'safetyChecker');
  return value;
}

function parsePreview(value: unknown): PreviewRequest | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw new ValidationError('preview must be {every, kind}.', 'preview');
  const { every, kind } = value;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > 1000) {
    throw new ValidationError('Preview every must be a whole number of steps from 1 to 1000.', 'preview');
  }
  if (kind !== 'vae' && kind !== 'fast') throw new ValidationError('Preview kind must be "vae" or "fast".', 'preview');
  return { every, kind };
}

/** An image at the size it says it has (for requests that have no output size to match). */
function parseAnyImage(raw: unknown): RgbaImage {
  const size = isRecord(raw) ? raw : {};
  return validateImage(raw, Number(size['width']), Number(size['height']));
}

function parseAddLora(params: Raw): { name: string; header: SafetensorsHeader; bytes: Uint8Array } {
  const { name, bytes } = params;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new ValidationError('A LoRA needs a name.', 'lora');
  }
  if (!(bytes instanceof ArrayBuffer)) throw new ValidationError('A LoRA needs its file bytes.', 'lora');
  const data = new Uint8Array(bytes);
  return { name, header: parseSafetensors(`${name}.safetensors`, data), bytes: data };
}

function parseRoundTrip(params: Raw): { image: RgbaImage } {
  const image = parseAnyImage(params['image']);
  if (image.width % 8 !== 0 || image.height % 8 !== 0) {
    throw new ValidationError('The VAE works in 8×8 blocks: the image size must be a multiple of 8.', 'image');
  }
  return { image };
}

/** The image, mask, depth and control picture buffers a generation hands over. */
const imageInputs = (p: GenerateParams): ArrayBuffer[] =>
  buffers(p.image?.pixels, p.mask?.pixels, p.depth?.data, ...(p.control ?? []).map((c) => c.image.pixels));

const PREPROCESSORS: readonly ControlPreprocessor[] = CONTROL_PREPROCESSORS;

/** How many ControlNets one run may take (A1111 offers three units by default). */
export const MAX_CONTROLNETS = 3;

/** A preprocessor and, for Canny, its thresholds (OpenCV's defaults in diffusers' examples: 100 and 200). */
export interface ParsedPreprocess {
  preprocessor: ControlPreprocessor;
  cannyLow: number;
  cannyHigh: number;
  depthEstimator?: DepthEstimatorSource;
}

function parsePreprocess(v: Raw): ParsedPreprocess {
  const preprocessor = v['preprocessor'] ?? 'none';
  if (!PREPROCESSORS.includes(preprocessor as ControlPreprocessor)) {
    throw new ValidationError(`The preprocessor must be one of ${PREPROCESSORS.join(', ')}.`, 'control-preprocessor');
  }
  const threshold = (key: string, fallback: number, field: string, name: string) => {
    const t = v[key] ?? fallback;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 255) {
      throw new ValidationError(`Canny's ${name} threshold must be a whole number from 1 to 255.`, field);
    }
    return t;
  };
  const cannyLow = threshold('cannyLow', 100, 'canny-low', 'low');
  const cannyHigh = threshold('cannyHigh', 200, 'canny-high', 'high');
  if (cannyLow > cannyHigh) {
    throw new ValidationError(`Canny's low threshold (${cannyLow}) is above its high one (${cannyHigh}).`, 'canny-low');
  }
  const depth = v['depthEstimator'];
  return {
    preprocessor: preprocessor as ControlPreprocessor,
    cannyLow,
    cannyHigh,
    ...(depth !== undefined ? { depthEstimator: parseDepthEstimator(depth) } : {}),
  };
}

/** One ControlNet of a run as the worker takes it. */
export interface ParsedControl extends ParsedPreprocess {
  controlnet: string;
  image: RgbaImage;
  scale: number;
  start: number;
  end: number;
}

export function parseControl(value: unknown): ParsedControl[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError('control must be a list of ControlNet settings.', 'controlnet');
  if (value.length > MAX_CONTROLNETS) {
    throw new ValidationError(`A run takes at most ${MAX_CONTROLNETS} ControlNets.`, 'controlnet');
  }
  return value.map((v: unknown) => {
    if (!isRecord(v) || typeof v['controlnet'] !== 'string') {
      throw new ValidationError('A ControlNet setting names the ControlNet it uses.', 'controlnet');
    }
    const number = (key: string, min: number, max: number, field: string, what: string) => {
      const x = v[key];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max) {
        throw new ValidationError(`The ControlNet's ${what} must be from ${min} to ${max}.`, field);
      }
      return x;
    };
    const scale = number('scale', 0, 2, 'control-scale', 'weight');
    const start = number('start', 0, 1, 'control-start', 'start');
    const end = number('end', 0, 1, 'control-end', 'end');
    if (start >= end) {
      throw new ValidationError(
        `The ControlNet's start (${start}) must come before its end (${end}).`,
        'control-start',
      );
    }
    return {
      controlnet: v['controlnet'],
      image: parseAnyImage(v['image']),
      scale,
      start,
      end,
      ...parsePreprocess(v),
    };
  });
}

/** The output size a control picture is made at (a multiple of 8, as the pictures are). */
function parseOutputSize(params: Raw): { width: number; height: number } {
  const { width, height } = params;
  const ok = (v: unknown): v is number =>
    typeof v === 'number' && Number.isInteger(v) && v >= 8 && v <= 4096 && v % 8 === 0;
  if (!ok(width) || !ok(height)) {
    throw new ValidationError('The control picture’s size must be whole multiples of 8 up to 4096.', 'controlnet');
  }
  return { width, height };
}

function parseGuessMode(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ValidationError('guessMode must be true or false.', 'control-guess-mode');
  return value;
}

export const REQUESTS = {
  capabilities: row<Record<string, never>, Capabilities>()({ parse: () => null }),
  loadModel: row<LoadModelParams, LoadModelResult>()({ parse: parseLoadModel }),
  generate: row<GenerateParams, GenerateResult>()({
    parse: (params) => ({
      request: validateGenerate(params),
      additions: parseAdditions(params),
      preview: parsePreview(params['preview']),
      safety: parseSafetyWanted(params['safetyChecker']),
      control: { units: parseControl(params['control']), guessMode: parseGuessMode(params['guessMode']) },
    }),
    sends: imageInputs,
    returns: (r) => buffers(r.pixels, r.depth?.pixels, r.depth?.data),
  }),
  /** A ControlNet for later generations, kept by the worker under the plan's id. */
  loadControlNet: row<{ plan: ControlNetPlan }, LoadControlNetResult>()({
    parse: (params) => parseControlNetPlan(params['plan']),
  }),
  /** A picture through a preprocessor, to see the control picture before generating. */
  controlPreview: row<{ image: WireImage; width: number; height: number } & ControlPreprocess, WireImage>()({
    parse: (params) => ({
      image: parseAnyImage(params['image']),
      ...parseOutputSize(params),
      ...parsePreprocess(params),
    }),
    sends: (p) => [p.image.pixels],
    returns: (r) => [r.pixels],
  }),
  /** Releases a loaded ControlNet. */
  removeControlNet: row<{ id: string }, { removed: boolean }>()({
    parse: (params) => {
      if (typeof params['id'] !== 'string') throw new ValidationError('Name the ControlNet to remove.', 'controlnet');
      return { id: params['id'] };
    },
  }),
  /** A LoRA or embedding file for later generations, kept by the worker under its name. */
  addLora: row<{ name: string; bytes: ArrayBuffer }, { name: string; tensors: number }>()({ parse: parseAddLora }),
  estimateDepth: row<{ image: WireImage }, DepthResult>()({
    parse: (params) => ({ image: parseAnyImage(params['image']) }),
    sends: (p) => [p.image.pixels],
    returns: (r) => [r.pixels, r.data],
  }),
  compare: row<CompareParams, { cells: number; totalMs: number }>()({
    parse: (params) => ({
      request: validateTxt2Img(params),
      cells: validateCells(params['cells']),
      additions: parseAdditions(params),
      preview: parsePreview(params['preview']),
      safety: parseSafetyWanted(params['safetyChecker']),
    }),
    sends: imageInputs,
  }),
  /** With the LoRAs and embeddings of a run, so embedding trigger words show as their own tokens. */
  tokenize: row<
    { text: string; promptSyntax?: PromptSyntax; loras?: LoraSetting[]; embeddings?: EmbeddingSetting[] },
    TokenView
  >()({
    parse: (params) => ({
      text: validatePrompt(params['text'], 'prompt'),
      syntax: validatePromptSyntax(params['promptSyntax']),
      additions: parseAdditions(params),
    }),
  }),
  vaeRoundTrip: row<{ image: WireImage }, RoundTripResult>()({
    parse: parseRoundTrip,
    sends: (p) => [p.image.pixels],
    returns: (r) => [r.pixels, r.latents],
  }),
};

export type RequestRows = typeof REQUESTS;
/** What the page can ask of the worker: kind → {params, result}. */
export type RequestMap = ProtocolOf<RequestRows>;
export type RequestKind = keyof RequestMap;
