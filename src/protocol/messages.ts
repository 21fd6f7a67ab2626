/**
 * The one protocol between the page and the inference worker: a kind → {params, result} map,
 * requests correlated by id, progress as its own message, cooperative cancel, errors as plain
 * {name, message}. Pixels cross as transferred ArrayBuffers, never copied.
 */
import type { SerializedError } from '../core/errors';
import type { ModelInfo } from '../core/pipeline/models';
import type { PipelinePhase } from '../core/pipeline/txt2img';
import type { CompareCell } from '../core/pipeline/compare';
import type { EncoderLatents } from '../core/pipeline/image-latents';
import type { SchedulerConfigJson, SchedulerName } from '../core/schedulers/types';
import type { Mode } from '../core/validate';
import type { LoadPlan } from './load-plan';

export type Backend = 'webgpu' | 'wasm';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  shaderF16: boolean;
  /** A software rasteriser (SwiftShader) rather than a GPU: WASM is faster there. */
  software: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface Capabilities {
  webgpu: boolean;
  /** Why WebGPU cannot be used here, when it cannot. */
  webgpuUnavailableReason: string | null;
  adapter: AdapterInfo | null;
  crossOriginIsolated: boolean;
  wasmThreads: number;
}

/**
 * Where depth maps come from when the person gives none: a transformers.js depth-estimation model
 * folder (config.json, preprocessor_config.json, onnx/model.onnx), or, for a model trained on
 * flat-coloured shapes whose depth is their silhouette, the silhouette found in the picture itself.
 */
export type DepthEstimatorSource =
  | {
      kind: 'transformers';
      modelId: string;
      /** The folder, ending in '/'. */
      baseUrl: string;
    }
  | { kind: 'silhouette' };

export interface LoadModelParams {
  modelId: string;
  /** Every file's URL, resolved by the page from the model's manifest. */
  plan: LoadPlan;
  backend: Backend;
  /** For depth models: the estimator that makes depth maps when the user gives none. */
  depthEstimator?: DepthEstimatorSource;
  /** WASM threads, set before the first session (the benchmark compares 1 and 2). */
  wasmThreads?: number;
}

export interface LoadModelResult {
  modelId: string;
  /** The backend actually in use: WASM when WebGPU was asked for but is unavailable. */
  backend: Backend;
  fallbackReason: string | null;
  adapter: AdapterInfo | null;
  /** The scheduler named by the model's own scheduler_config.json. */
  defaultScheduler: SchedulerName | null;
  /** That config as is, for the explore view's noise-schedule plot. */
  schedulerConfig: SchedulerConfigJson;
  info: ModelInfo;
  loadMs: number;
  /** Bytes of model files read (downloaded or from the cache). */
  bytes: number;
}

/** RGBA bytes, 4 per pixel, transferred. */
export interface WireImage {
  width: number;
  height: number;
  pixels: ArrayBuffer;
}

/** One byte per pixel (mask: 255 = repaint), transferred. */
export interface WireMask {
  width: number;
  height: number;
  pixels: ArrayBuffer;
}

/** One float32 per pixel (depth), transferred. */
export interface WireDepth {
  width: number;
  height: number;
  data: ArrayBuffer;
}

export interface GenerateParams {
  /** txt2img when absent. */
  mode?: Mode;
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  steps: number;
  /** Decimal string: seeds go up to 2^64 − 1, past what a JSON number holds exactly. */
  seed: string;
  width: number;
  height: number;
  scheduler: SchedulerName;
  /** Image modes: how far from the start image to go (0..1). */
  strength?: number;
  /** Image modes: the start image at exactly width×height. */
  image?: WireImage;
  /** inpaint: white = repaint. */
  mask?: WireMask;
  /** inpaint: paste the original back outside the feathered mask (default true). */
  pasteBack?: boolean;
  /** depth2img: a depth map at any size; estimated in the worker when absent. */
  depth?: WireDepth;
  /** Live previews: every k steps, the predicted clean image, decoded by the VAE or projected cheaply. */
  preview?: PreviewRequest;
  /** LoRAs (sent before with addLora) merged at these strengths; none or [] runs the checkpoint as is. */
  loras?: LoraSetting[];
  /** Textual-inversion embeddings (sent with addLora too) and the word that calls each in a prompt. */
  embeddings?: EmbeddingSetting[];
}

export interface EmbeddingSetting {
  name: string;
  trigger: string;
}

export interface LoraSetting {
  name: string;
  /** −2..2; 1 is the LoRA as trained. */
  scale: number;
}

export interface PreviewRequest {
  every: number;
  kind: 'vae' | 'fast';
}

export interface CompareParams extends GenerateParams {
  cells: CompareCell[];
}

/** One prompt as the loaded model's tokenizer sees it. */
export interface TokenView {
  /** All 77 ids, padding included. */
  ids: number[];
  /** The token string of each id. */
  tokens: string[];
  /** Ids up to and including the first end token. */
  used: number;
  truncated: string;
  bosId: number;
  eosId: number;
  padId: number;
}

export interface RoundTripResult {
  width: number;
  height: number;
  /** Reconstruction, RGBA. */
  pixels: ArrayBuffer;
  /** Scaled latents [channels, latentHeight, latentWidth], float32. */
  latents: ArrayBuffer;
  channels: number;
  latentWidth: number;
  latentHeight: number;
  meanAbsError: number;
  psnr: number;
}

/** A depth map both as numbers (for the next run) and as a grey picture (to show). */
export interface DepthResult extends WireDepth {
  pixels: ArrayBuffer;
}

export interface GenerateResult {
  width: number;
  height: number;
  /** RGBA bytes, transferred. */
  pixels: ArrayBuffer;
  seed: string;
  truncated: string;
  backend: Backend;
  timings: { encodeMs: number; denoiseMs: number; decodeMs: number; totalMs: number };
  /** Image modes: how the start image became latents. */
  encoderLatents?: EncoderLatents;
  /** depth2img: the depth map the UNet saw, at its own size. */
  depth?: DepthResult;
}

export interface RequestMap {
  capabilities: { params: Record<string, never>; result: Capabilities };
  loadModel: { params: LoadModelParams; result: LoadModelResult };
  generate: { params: GenerateParams; result: GenerateResult };
  /** A LoRA or embedding file for later generations, kept by the worker under its name. */
  addLora: { params: { name: string; bytes: ArrayBuffer }; result: { name: string; tensors: number } };
  estimateDepth: { params: { image: WireImage }; result: DepthResult };
  compare: { params: CompareParams; result: { cells: number; totalMs: number } };
  /** With the LoRAs and embeddings of a run, so embedding trigger words show as their own tokens. */
  tokenize: { params: { text: string; loras?: LoraSetting[]; embeddings?: EmbeddingSetting[] }; result: TokenView };
  vaeRoundTrip: { params: { image: WireImage }; result: RoundTripResult };
  /** Timing of the loaded model's phases in this browser (npm run bench). */
  bench: { params: BenchParams; result: BenchResult };
  /** Times one ONNX graph (with external data) on the loaded model's backend: session creation and runs. */
  benchGraph: { params: BenchGraphParams; result: BenchGraphResult };
  /** Fault injection for the reliability tests (the page sends it only with ?testHooks=1). */
  testHook: { params: { action: 'lose-device' | 'crash' | 'close' }; result: { done: boolean } };
}

export type RequestKind = keyof RequestMap;
export const REQUEST_KINDS: readonly RequestKind[] = [
  'capabilities',
  'loadModel',
  'generate',
  'addLora',
  'estimateDepth',
  'compare',
  'tokenize',
  'vaeRoundTrip',
  'testHook',
  'bench',
  'benchGraph',
];

export type Progress =
  | {
      kind: 'download';
      file: string;
      loaded: number;
      total: number | null;
      /** All files of the model so far. */
      overall?: { loaded: number; total: number | null };
    }
  | { kind: 'session'; part: string }
  | { kind: 'pipeline'; phase: PipelinePhase; step: number; totalSteps: number }
  /** The predicted clean image at a step, RGBA, transferred. */
  | { kind: 'preview'; step: number; totalSteps: number; width: number; height: number; pixels: ArrayBuffer }
  /** A finished compare cell, RGBA, transferred. */
  | {
      kind: 'cell';
      index: number;
      width: number;
      height: number;
      pixels: ArrayBuffer;
      timings: { encodeMs: number; denoiseMs: number; decodeMs: number };
    };

export type RequestMessage = {
  [K in RequestKind]: { type: 'request'; id: number; kind: K; params: RequestMap[K]['params'] };
}[RequestKind];

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

/** "Are you there?": answered by a pong at once whenever the worker's event loop is free. */
export interface PingMessage {
  type: 'ping';
  id: number;
}

export type ToWorker = RequestMessage | CancelMessage | PingMessage;

export type ResultMessage = {
  [K in RequestKind]: { type: 'result'; id: number; kind: K; result: RequestMap[K]['result'] };
}[RequestKind];

export type FromWorker =
  | ResultMessage
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'pong'; id: number };

/** Buffers to transfer with a result instead of copying them. */
export function transferList(message: FromWorker): ArrayBuffer[] {
  if (message.type === 'progress') {
    const p = message.progress;
    return p.kind === 'preview' || p.kind === 'cell' ? [p.pixels] : [];
  }
  if (message.type !== 'result') return [];
  if (message.kind === 'vaeRoundTrip') return [message.result.pixels, message.result.latents];
  if (message.kind === 'generate') {
    const { pixels, depth } = message.result;
    return depth ? [pixels, depth.pixels, depth.data] : [pixels];
  }
  if (message.kind === 'estimateDepth') return [message.result.pixels, message.result.data];
  return [];
}

/** Buffers a request hands over to the worker (the page keeps its own copies where it needs them). */
export function requestTransferList(message: RequestMessage): ArrayBuffer[] {
  if (message.kind === 'generate' || message.kind === 'compare') {
    const { image, mask, depth } = message.params;
    return [image?.pixels, mask?.pixels, depth?.data].filter((b): b is ArrayBuffer => b !== undefined);
  }
  if (message.kind === 'estimateDepth' || message.kind === 'vaeRoundTrip') return [message.params.image.pixels];
  return [];
}

export function isRequestKind(value: unknown): value is RequestKind {
  return typeof value === 'string' && (REQUEST_KINDS as readonly string[]).includes(value);
}

export interface Stats {
  median: number;
  p90: number;
  n: number;
}

export interface BenchParams {
  width: number;
  height: number;
  steps: number;
  /** Timed runs after one warm-up run. */
  runs: number;
  /** Allow the linear loop (GPU-resident on WebGPU, buffer-reusing JS on WASM); false times the plain loop, for before/after. */
  resident?: boolean;
  /** A same-origin ONNX file to time alone with the loaded model's backend and threads (zeros for its static inputs). */
  graphUrl?: string;
  /** Timed runs of the `graphUrl` file (20 by default). */
  repeats?: number;
}

export interface BenchGraphParams {
  /** A same-origin ONNX file, or (with `checkpoint`) none: the worker builds the UNet's graph. */
  url?: string;
  /**
   * A diffusers UNet (config.json + safetensors, same-origin) built in the worker exactly as the
   * loader builds it: fp16 weights widened, Linear as `linear`.
   */
  checkpoint?: { configUrl: string; weightsUrl: string; linear?: 'gemm' | 'matmul' };
  /** A same-origin file handed to ORT as external data under `path` (the location the graph names). */
  external?: { path: string; url: string };
  /** Values for the graph's symbolic input dims (others: 1). */
  dims?: Record<string, number>;
  /** Timed runs after one warm-up run. */
  repeats: number;
}

export interface BenchGraphResult {
  backend: Backend;
  /** Fetching the files, not timed below. */
  bytes: number;
  /** Reading headers, widening fp16 weights and writing the graph (checkpoint only). */
  buildMs: number | null;
  /** InferenceSession.create, from bytes in memory to a session ready to run. */
  createMs: number;
  runMs: Stats;
  /** WebGPU: the most GPU buffer bytes alive at once during creation and the runs, over those alive before. */
  peakGpuBytes: number | null;
}

export interface BenchResult {
  backend: Backend;
  threads: number;
  width: number;
  height: number;
  steps: number;
  runs: number;
  phases: {
    textEncoderMs: Stats;
    /** The app's UNet call: building inputs, session.run, reading the output. */
    unetStepMs: Stats;
    /** session.run alone, inside the app's calls. */
    sessionRunMs: Stats;
    /** session.run with prebuilt inputs, nothing else. */
    bareSessionRunMs: Stats;
    stepTotalMs: Stats;
    /** Everything in a step except session.run: WASM only (on WebGPU session.run returns before the GPU is done). */
    jsOverheadPerStepMs: Stats | null;
    /** A step's wall time minus the median bare run: all the app adds to the model's own time. */
    overheadVsBarePerStepMs: Stats;
    vaeDecodeMs: Stats;
    totalMs: Stats;
  };
  /** Which loop ran: 'linear' (the model adapter's own: latents stay on the GPU on WebGPU) or 'plain'. */
  loop: 'linear' | 'plain';
  /** The app's UNet call over a bare run (plain loop only). */
  appToBareRatio: number | null;
  /** A whole app step (UNet, guidance, scheduler, everything) over a bare run. */
  appStepToBareRatio: number;
  /** Overhead (vs bare) of all steps as a share of the whole image's time. */
  overheadShareOfTotal: number;
  imagesPerMinute: number;
  /** GPU→CPU reads (mapAsync for reading) during the denoising steps, per step: latent-sized or larger, and all. */
  readbacksPerStep: { latentSized: number; all: number } | null;
  /** Latent-sized or larger reads in a whole generation (the final latents, the image). */
  readbacksPerImage: number | null;
  /** GPU buffers alive (created, not destroyed) since the first benchmark in this worker (WebGPU). */
  liveGpuBuffers: number | null;
  /** The `graphUrl` file's session.run, when one was given. */
  graph?: { url: string; runMs: Stats; samples: number[] };
}
