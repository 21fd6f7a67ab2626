/**
 * The benchmark's and the reliability tests' kinds in the worker (protocol/dev-requests.ts): the
 * entry loads this module with `import()` only when the page was opened with `?bench` or
 * `?testHooks`, so the product's worker bundle has none of it.
 */
import { DEV_REQUESTS, type DevRequestRows } from '../../protocol/dev-requests';
import type { TestHookAction } from '../../protocol/dev-messages';
import type { KindTable } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import type { GpuDevice } from '../runtime/gpu-device';
import { ort, ortFor } from '../runtime/ort-env';
import { benchGraph, runBench, timeGraph } from './bench';

declare const self: DedicatedWorkerGlobalScope;

async function testHook(gpu: GpuDevice, action: TestHookAction): Promise<boolean> {
  if (action === 'lose-device') return gpu.lose();
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
}

export const devKinds =
  (gpu: GpuDevice) =>
  (slot: ModelSlot): KindTable<DevRequestRows> => ({
    rows: DEV_REQUESTS,
    runners: {
      bench: async (params) => {
        const model = slot.require();
        const backend = model.result.backend;
        return runBench(model.models, model.schedulerConfig, params, {
          backend,
          threads: backend === 'wasm' ? (ort.env.wasm.numThreads ?? 1) : 0,
          timeGraph: async (url, repeats) => timeGraph(await ortFor(backend), url, backend, repeats),
          ...(backend === 'webgpu'
            ? { settled: async () => (await ort.env.webgpu.device).queue.onSubmittedWorkDone() }
            : {}),
        });
      },
      benchGraph: async (params) => {
        const backend = slot.require().result.backend;
        return benchGraph(await ortFor(backend), backend, params);
      },
      testHook: async ({ action }) => ({ done: await testHook(gpu, action) }),
    },
    // The fault hooks run whatever the device's state; losing the device must report that it did.
    deviceFree: ['testHook'],
    // A worker that dies mid-run: the 'close' fault acts at once, not after the queued jobs.
    urgent: { testHook: ({ action }) => action === 'close' },
  });
