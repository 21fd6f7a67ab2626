/// <reference lib="webworker" />
// First: pins ORT's WASM location before @huggingface/transformers can point it at a CDN.
import './runtime/ort-env';
import { estimateDepth } from './depth/depth-estimator';
import { createHandler, type ExtraKinds } from './handler/handler';
import { loadOrtModel } from './loading/model-loader';
import { detectCapabilities } from './runtime/capabilities';
import { GpuDevice } from './runtime/gpu-device';
import type { DevRequestRows } from '../protocol/dev-requests';
import { DEV_WORKER_NAME } from '../protocol/dev-flags';

declare const self: DedicatedWorkerGlobalScope;

/** One turn of the event loop without timer clamping: a message to ourselves. */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}

const gpu = new GpuDevice();

// The benchmark's and tests' kinds only in a worker the page started for them (?bench, ?testHooks).
const dev: Promise<ExtraKinds<DevRequestRows> | undefined> =
  self.name === DEV_WORKER_NAME ? import('./dev/dev-kinds').then((m) => m.devKinds(gpu)) : Promise.resolve(undefined);

const handler = dev.then((extra) =>
  createHandler(
    {
      post: (message, transfer) => self.postMessage(message, transfer),
      capabilities: () => detectCapabilities(gpu),
      loadModel: (params, onProgress, signal) => loadOrtModel(gpu, params, onProgress, signal),
      estimateDepth,
      device: gpu,
      yieldToEvents,
    },
    extra,
  ),
);

// Messages wait for the handler in the order they came (it is ready at once in the product).
self.addEventListener('message', (event: MessageEvent<unknown>) => void handler.then((handle) => handle(event.data)));
