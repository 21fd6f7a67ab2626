/**
 * The one protocol between the page and the inference worker: a kind → {params, result} map,
 * requests correlated by id, progress as its own message, cooperative cancel, errors as plain
 * {name, message}. Pixels cross as transferred ArrayBuffers, never copied.
 */
import type { SerializedError } from '../core/errors';
import type { ModelInfo } from '../core/pipeline/models';
import type { PipelinePhase } from '../core/pipeline/txt2img';
import type { EncoderLatents } from '../core/pipeline/image-latents';
import type { SchedulerName } from '../core/schedulers/types';
import type { Mode } from '../core/validate';

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

/** A transformers.js depth-estimation model folder (config.json, preprocessor_config.json, onnx/model.onnx). */
export interface DepthEstimatorSource {
  modelId: string;
  /** The folder, ending in '/'. */
  baseUrl: string;
}

export interface LoadModelParams {
  modelId: string;
  /** Folder in diffusers ONNX layout, ending in '/'. */
  baseUrl: string;
  backend: Backend;
  /** For depth models: the estimator that makes depth maps when the user gives none. */
  depthEstimator?: DepthEstimatorSource;
}

export interface LoadModelResult {
  modelId: string;
  /** The backend actually in use: WASM when WebGPU was asked for but is unavailable. */
  backend: Backend;
  fallbackReason: string | null;
  adapter: AdapterInfo | null;
  /** The scheduler named by the model's own scheduler_config.json. */
  defaultScheduler: SchedulerName | null;
  info: ModelInfo;
  loadMs: number;
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
  estimateDepth: { params: { image: WireImage }; result: DepthResult };
}

export type RequestKind = keyof RequestMap;
export const REQUEST_KINDS: readonly RequestKind[] = ['capabilities', 'loadModel', 'generate', 'estimateDepth'];

export type Progress =
  | { kind: 'download'; file: string; loaded: number; total: number | null }
  | { kind: 'session'; part: string }
  | { kind: 'pipeline'; phase: PipelinePhase; step: number; totalSteps: number };

export type RequestMessage = {
  [K in RequestKind]: { type: 'request'; id: number; kind: K; params: RequestMap[K]['params'] };
}[RequestKind];

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export type ToWorker = RequestMessage | CancelMessage;

export type ResultMessage = {
  [K in RequestKind]: { type: 'result'; id: number; kind: K; result: RequestMap[K]['result'] };
}[RequestKind];

export type FromWorker =
  | ResultMessage
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'error'; id: number; error: SerializedError };

/** Buffers to transfer with a result instead of copying them. */
export function transferList(message: FromWorker): ArrayBuffer[] {
  if (message.type !== 'result') return [];
  if (message.kind === 'generate') {
    const { pixels, depth } = message.result;
    return depth ? [pixels, depth.pixels, depth.data] : [pixels];
  }
  if (message.kind === 'estimateDepth') return [message.result.pixels, message.result.data];
  return [];
}

/** Buffers a request hands over to the worker (the page keeps its own copies where it needs them). */
export function requestTransferList(message: RequestMessage): ArrayBuffer[] {
  if (message.kind === 'generate') {
    const { image, mask, depth } = message.params;
    return [image?.pixels, mask?.pixels, depth?.data].filter((b): b is ArrayBuffer => b !== undefined);
  }
  if (message.kind === 'estimateDepth') return [message.params.image.pixels];
  return [];
}

export function isRequestKind(value: unknown): value is RequestKind {
  return typeof value === 'string' && (REQUEST_KINDS as readonly string[]).includes(value);
}
