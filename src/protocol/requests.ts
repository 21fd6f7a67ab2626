/**
 * One parser per request kind, at the worker's edge: what arrives is `unknown`; what leaves is
 * the typed request its handler runs, or a ValidationError naming the field at fault.
 */
import { ValidationError } from '../core/errors';
import type { RgbaImage } from '../core/image/rgba';
import { validateCells, type CompareCell } from '../core/pipeline/compare';
import { parseSafetensors, type SafetensorsHeader } from '../core/formats/safetensors';
import {
  validateGenerate,
  validateImage,
  validatePrompt,
  validateSize,
  validateSteps,
  validateTxt2Img,
  type GenerationRequest,
  type Txt2ImgParams,
} from '../core/validate';
import type { BenchGraphParams, BenchParams, TestHookAction } from './dev-messages';
import type {
  DepthEstimatorSource,
  EmbeddingSetting,
  LoadModelParams,
  LoraSetting,
  PreviewRequest,
} from './messages';
import { isRecord } from '../core/json';
import { parseLoadPlan } from './parse-plan';
import type { WireKind } from './wire';

type Raw = Record<string, unknown>;

/** The LoRAs (at non-zero strengths) and embeddings a request wants merged into the model. */
export interface WantedAdditions {
  loras: LoraSetting[];
  embeddings: EmbeddingSetting[];
}

/** What each kind's handler receives once its parser accepted the message's params. */
export interface ParsedRequests {
  capabilities: null;
  loadModel: LoadModelParams;
  generate: { request: GenerationRequest; additions: WantedAdditions; preview: PreviewRequest | null };
  addLora: { name: string; header: SafetensorsHeader; bytes: Uint8Array };
  estimateDepth: { image: RgbaImage };
  compare: { request: Txt2ImgParams; cells: CompareCell[]; additions: WantedAdditions; preview: PreviewRequest | null };
  tokenize: { text: string; additions: WantedAdditions };
  vaeRoundTrip: { image: RgbaImage };
  bench: BenchParams;
  benchGraph: BenchGraphParams;
  testHook: { action: TestHookAction };
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

function parseAddLora(params: Raw): ParsedRequests['addLora'] {
  const { name, bytes } = params;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new ValidationError('A LoRA needs a name.', 'lora');
  }
  if (!(bytes instanceof ArrayBuffer)) throw new ValidationError('A LoRA needs its file bytes.', 'lora');
  const data = new Uint8Array(bytes);
  return { name, header: parseSafetensors(`${name}.safetensors`, data), bytes: data };
}

function parseRoundTrip(params: Raw): ParsedRequests['vaeRoundTrip'] {
  const image = parseAnyImage(params['image']);
  if (image.width % 8 !== 0 || image.height % 8 !== 0) {
    throw new ValidationError('The VAE works in 8×8 blocks: the image size must be a multiple of 8.', 'image');
  }
  return { image };
}

const onOrigin = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/');

function parseBench(params: Raw): BenchParams {
  const graphUrl = params['graphUrl'];
  if (graphUrl !== undefined && !onOrigin(graphUrl)) {
    throw new ValidationError('graphUrl must be a path on this origin.');
  }
  return {
    width: validateSize(params['width'], 'width'),
    height: validateSize(params['height'], 'height'),
    steps: validateSteps(params['steps']),
    runs: validateSteps(params['runs']),
    resident: params['resident'] !== false,
    repeats: params['repeats'] === undefined ? 20 : validateSteps(params['repeats']),
    ...(graphUrl !== undefined ? { graphUrl } : {}),
  };
}

function parseCheckpointRef(value: unknown): BenchGraphParams['checkpoint'] {
  const linear = isRecord(value) ? value['linear'] : undefined;
  if (
    !isRecord(value) ||
    !onOrigin(value['configUrl']) ||
    !onOrigin(value['weightsUrl']) ||
    !(linear === undefined || linear === 'gemm' || linear === 'matmul')
  ) {
    throw new ValidationError('checkpoint must be {configUrl, weightsUrl, linear?} with paths on this origin.');
  }
  return {
    configUrl: value['configUrl'],
    weightsUrl: value['weightsUrl'],
    ...(linear !== undefined ? { linear } : {}),
  };
}

function parseBenchGraph(params: Raw): BenchGraphParams {
  const { url, external, dims, checkpoint } = params;
  if (url !== undefined && !onOrigin(url)) throw new ValidationError('url must be a path on this origin.');
  if (
    external !== undefined &&
    !(isRecord(external) && onOrigin(external['url']) && typeof external['path'] === 'string')
  ) {
    throw new ValidationError('external must be {path, url} with a path on this origin.');
  }
  const ref = checkpoint === undefined ? undefined : parseCheckpointRef(checkpoint);
  if ((url === undefined) === (ref === undefined)) throw new ValidationError('Give url or checkpoint.');
  let sizes: Record<string, number> | undefined;
  if (dims !== undefined) {
    if (!isRecord(dims)) throw new ValidationError('dims must map names to whole numbers.');
    sizes = {};
    for (const [name, d] of Object.entries(dims)) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
        throw new ValidationError('dims must map names to whole numbers.');
      }
      sizes[name] = d;
    }
  }
  return {
    repeats: validateSteps(params['repeats']),
    ...(url !== undefined ? { url } : {}),
    ...(ref !== undefined ? { checkpoint: ref } : {}),
    ...(isRecord(external) ? { external: { path: String(external['path']), url: String(external['url']) } } : {}),
    ...(sizes !== undefined ? { dims: sizes } : {}),
  };
}

export function parseTestHook(params: Raw): { action: TestHookAction } {
  const action = params['action'];
  if (action !== 'lose-device' && action !== 'crash' && action !== 'close') {
    throw new ValidationError('Unknown test hook.');
  }
  return { action };
}

export const PARSERS: { [K in WireKind]: (params: Raw) => ParsedRequests[K] } = {
  capabilities: () => null,
  loadModel: parseLoadModel,
  generate: (params) => ({
    request: validateGenerate(params),
    additions: parseAdditions(params),
    preview: parsePreview(params['preview']),
  }),
  addLora: parseAddLora,
  estimateDepth: (params) => ({ image: parseAnyImage(params['image']) }),
  compare: (params) => ({
    request: validateTxt2Img(params),
    cells: validateCells(params['cells']),
    additions: parseAdditions(params),
    preview: parsePreview(params['preview']),
  }),
  tokenize: (params) => ({ text: validatePrompt(params['text'], 'prompt'), additions: parseAdditions(params) }),
  vaeRoundTrip: parseRoundTrip,
  bench: parseBench,
  benchGraph: parseBenchGraph,
  testHook: parseTestHook,
};

/** Every kind the worker answers, in the table's order (the table is the one list). */
export const REQUEST_KINDS: readonly WireKind[] = Object.keys(PARSERS).filter(isRequestKind);

export function isRequestKind(value: unknown): value is WireKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(PARSERS, value);
}
