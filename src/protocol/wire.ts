/**
 * The envelopes between the page and the inference worker: requests correlated by id, progress as
 * its own message, cooperative cancel, pings, errors as plain {name, message}. Pixels cross as
 * transferred ArrayBuffers, never copied.
 */
import type { SerializedError } from '../core/errors';
import type { DevRequestMap } from './dev-requests';
import type { Progress } from './messages';
import type { RequestMap } from './requests';

/** A kind → {params, result} map (see request-row.ts's ProtocolOf). */
export type KindMap = Record<string, { params: unknown; result: unknown }>;

/** Every kind a worker can answer: the product's, and the benchmark's and tests' when it has them. */
export type WireMap = RequestMap & DevRequestMap;

export type RequestMessage<M extends KindMap = WireMap> = {
  [K in keyof M & string]: { type: 'request'; id: number; kind: K; params: M[K]['params'] };
}[keyof M & string];

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

/** "Are you there?": answered by a pong at once whenever the worker's event loop is free. */
export interface PingMessage {
  type: 'ping';
  id: number;
}

export type ToWorker<M extends KindMap = WireMap> = RequestMessage<M> | CancelMessage | PingMessage;

export type ResultMessage<M extends KindMap = WireMap> = {
  [K in keyof M & string]: { type: 'result'; id: number; kind: K; result: M[K]['result'] };
}[keyof M & string];

export type FromWorker<M extends KindMap = WireMap> =
  | ResultMessage<M>
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'pong'; id: number };

/** Buffers a progress report transfers: the pixels of a preview or a finished compare cell. */
export function progressTransfers(progress: Progress): ArrayBuffer[] {
  return progress.kind === 'preview' || progress.kind === 'cell' ? [progress.pixels] : [];
}
