/// <reference lib="webworker" />
// First: pins ORT's WASM location before @huggingface/transformers can point it at a CDN.
import './ort-env';
import { detectCapabilities } from './capabilities';
import { estimateDepth } from './depth-estimator';
import { createHandler } from './handler';
import { deviceLost, loadOrtModel, loseDevice, whenDeviceLost } from './model-loader';

declare const self: DedicatedWorkerGlobalScope;

const handle = createHandler({
  post: (message, transfer) => self.postMessage(message, transfer),
  capabilities: detectCapabilities,
  loadModel: loadOrtModel,
  estimateDepth,
  deviceLost,
  whenDeviceLost,
  async testHook(action) {
    if (action === 'lose-device') return loseDevice();
    // An uncaught error, as a bug or a crashed WASM module would raise.
    setTimeout(() => {
      throw new Error('test hook: worker crash');
    });
    return true;
  },
});

self.addEventListener('message', (event: MessageEvent<unknown>) => handle(event.data));
