/**
 * The one protocol between the page and the inference worker: a kind → {params, result} map,
 * requests correlated by id, progress as its own message, cooperative cancel, errors as plain
 * {name, message}. Pixels cross as transferred ArrayBuffers, never copied.
 */
import type { SerializedError } from '../core/errors';
import type { ModelInfo } from '../core/pipeline/models';
import type { PipelinePhase } from '../core/pipeline/txt2img';
import type { SchedulerName } from '../core/schedulers/types';

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

export interface LoadModelParams {
  modelId: string;
  /** Folder in diffusers ONNX layout, ending in '/'. */
  baseUrl: string;
  backend: Backend;
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

export interface GenerateParams {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  steps: number;
  /** Decimal string: seeds go up to 2^64 − 1, past what a JSON number holds exactly. */
  seed: string;
  width: number;
  height: number;
  scheduler: SchedulerName;
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
}

export interface RequestMap {
  capabilities: { params: Record<string, never>; result: Capabilities };
  loadModel: { params: LoadModelParams; result: LoadModelResult };
  generate: { params: GenerateParams; result: GenerateResult };
}

export type RequestKind = keyof RequestMap;
export const REQUEST_KINDS: readonly RequestKind[] = ['capabilities', 'loadModel', 'generate'];

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
  if (message.type === 'result' && message.kind === 'generate') return [message.result.pixels];
  return [];
}

export function isRequestKind(value: unknown): value is RequestKind {
  return typeof value === 'string' && (REQUEST_KINDS as readonly string[]).includes(value);
}
