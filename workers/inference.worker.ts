/// <reference lib="webworker" />
// First: pins ORT's WASM location before @huggingface/transformers can point it at a CDN.
import './ort-env';
import { detectCapabilities } from './capabilities';
import { estimateDepth } from './depth-estimator';
import { createHandler } from './handler';
import { loadOrtModel } from './model-loader';

declare const self: DedicatedWorkerGlobalScope;

const handle = createHandler({
  post: (message, transfer) => self.postMessage(message, transfer),
  capabilities: detectCapabilities,
  loadModel: loadOrtModel,
  estimateDepth,
});

self.addEventListener('message', (event: MessageEvent<unknown>) => handle(event.data));
