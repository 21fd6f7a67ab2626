/**
 * The envelopes between the page and the inference worker: requests correlated by id, progress as
 * its own message, cooperative cancel, pings, errors as plain {name, message}. Pixels cross as
 * transferred ArrayBuffers, never copied.
 */
import type { SerializedError } from '../core/errors';
import type { DevRequestMap } from './dev-messages';
import type { Progress, RequestMap } from './messages';

/** Every kind the worker answers: the product's and the benchmark's and tests'. */
export type WireMap = RequestMap & DevRequestMap;
export type WireKind = keyof WireMap;

export type RequestMessage = {
  [K in WireKind]: { type: 'request'; id: number; kind: K; params: WireMap[K]['params'] };
}[WireKind];

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
  [K in WireKind]: { type: 'result'; id: number; kind: K; result: WireMap[K]['result'] };
}[WireKind];

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
