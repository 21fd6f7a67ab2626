/// <reference lib="webworker" />
// First: pins ORT's WASM location before @huggingface/transformers can point it at a CDN.
import './runtime/ort-env';
import { detectCapabilities } from './runtime/capabilities';
import { benchGraph, runBench, timeGraph } from './dev/bench';
import { estimateDepth } from './depth/depth-estimator';
import { ort, ortFor } from './runtime/ort-env';
import { createHandler } from './handler/handler';
import { deviceLost, loadOrtModel, loseDevice, whenDeviceLost } from './loading/model-loader';

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

const handle = createHandler({
  post: (message, transfer) => self.postMessage(message, transfer),
  capabilities: detectCapabilities,
  loadModel: loadOrtModel,
  estimateDepth,
  deviceLost,
  whenDeviceLost,
  bench: (model, params) =>
    runBench(model.models, model.schedulerConfig, params, {
      backend: model.result.backend,
      threads: model.result.backend === 'wasm' ? (ort.env.wasm.numThreads ?? 1) : 0,
      timeGraph: async (url, repeats) =>
        timeGraph(await ortFor(model.result.backend), url, model.result.backend, repeats),
      ...(model.result.backend === 'webgpu'
        ? { settled: async () => (await ort.env.webgpu.device).queue.onSubmittedWorkDone() }
        : {}),
    }),
  benchGraph: async (model, params) => benchGraph(await ortFor(model.result.backend), model.result.backend, params),
  yieldToEvents,
  async testHook(action) {
    if (action === 'lose-device') return loseDevice();
    if (action === 'close') {
      // Exits without an error event, as a worker the browser stops would: after this reply.
      setTimeout(() => self.close(), 0);
      return true;
    }
    // An uncaught error, as a bug or a crashed WASM module would raise.
    setTimeout(() => {
      throw new Error('test hook: worker crash');
    });
    return true;
  },
});

self.addEventListener('message', (event: MessageEvent<unknown>) => handle(event.data));
