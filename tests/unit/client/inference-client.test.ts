/** The page's client against an in-memory worker running the real handler. */
import { describe, expect, it } from 'vitest';
import { InferenceClient, WorkerCrashedError } from '../../../src/client/inference-client';
import type { GenerateParams } from '../../../src/protocol/messages';
import { fakeLoadedModel } from '../../helpers/fake-models';
import { FakeWorker, handlerWorker } from '../../helpers/in-memory-worker';

const file = (path: string) => ({ url: `http://127.0.0.1/m/${path}`, path });
const plan = {
  modelId: 'x',
  name: 'X',
  cache: false,
  components: { format: 'onnx', textEncoder: file('t'), unet: file('u'), vaeDecoder: file('v') },
  scheduler: file('s'),
  tokenizerConfig: file('tc'),
  specialTokensMap: file('sm'),
  dtype: 'fp32',
} as const;

const img2img = (steps: number): GenerateParams => {
  const pixels = new Uint8Array(64 * 64 * 4).fill(128);
  return {
    mode: 'img2img',
    prompt: 'a cat',
    negativePrompt: '',
    guidanceScale: 7.5,
    steps,
    seed: '7',
    width: 64,
    height: 64,
    scheduler: 'pndm',
    strength: 1,
    image: { width: 64, height: 64, pixels: pixels.buffer },
  };
};

describe('the client and the real handler, in memory', () => {
  it('transfers pixels both ways instead of copying them', async () => {
    const worker = handlerWorker(async () => fakeLoadedModel());
    const client = InferenceClient.create(() => worker as unknown as Worker);
    await client.request('loadModel', { modelId: 'x', backend: 'wasm', plan });
    const params = img2img(3);
    const sent = params.image!.pixels;
    const result = await client.request('generate', params);
    // The start image went to the worker and is gone from the page (detached), not copied.
    expect(sent.byteLength).toBe(0);
    expect(worker.transferredIn).toBe(64 * 64 * 4);
    // The picture came back by transfer too, whole.
    expect(result.pixels.byteLength).toBe(64 * 64 * 4);
    expect(worker.transferredOut).toBeGreaterThanOrEqual(64 * 64 * 4);
  });

  it('an aborted signal cancels the running job, and the next job runs', async () => {
    const worker = handlerWorker(async () => fakeLoadedModel());
    const client = InferenceClient.create(() => worker as unknown as Worker);
    await client.request('loadModel', { modelId: 'x', backend: 'wasm', plan });
    const controller = new AbortController();
    const steps: number[] = [];
    const run = client.request('generate', img2img(500), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kind !== 'pipeline' || p.phase !== 'denoise') return;
        steps.push(p.step);
        if (p.step === 5) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'CancelledError' });
    // It stopped within a step or two of the cancel, far from the 500 asked for.
    expect(Math.max(...steps)).toBeLessThan(10);
    expect((await client.request('generate', img2img(2))).width).toBe(64);
  });

  it('a signal aborted while the job waits in the queue cancels it before it starts', async () => {
    const worker = handlerWorker(async () => fakeLoadedModel());
    const client = InferenceClient.create(() => worker as unknown as Worker);
    await client.request('loadModel', { modelId: 'x', backend: 'wasm', plan });
    const first = client.request('generate', img2img(20));
    const controller = new AbortController();
    let progressed = false;
    const second = client.request('generate', img2img(20), {
      signal: controller.signal,
      onProgress: () => (progressed = true),
    });
    controller.abort();
    await expect(second).rejects.toMatchObject({ name: 'CancelledError' });
    expect(progressed).toBe(false);
    expect((await first).width).toBe(64);
  });

  it('a crashed worker fails what was pending with the reason, and the next request gets a new worker', async () => {
    const workers: FakeWorker[] = [];
    const client = InferenceClient.create(() => {
      const w = handlerWorker(async () => fakeLoadedModel());
      workers.push(w);
      return w as unknown as Worker;
    });
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
    await client.request('loadModel', { modelId: 'x', backend: 'wasm', plan });
    const run = client.request('generate', img2img(500), {
      onProgress: (p) => {
        if (p.kind === 'pipeline' && p.step === 3) workers[0]!.fail('out of memory in wasm');
      },
    });
    await expect(run).rejects.toThrow(
      'The inference worker crashed: out of memory in wasm. It was restarted; try again.',
    );
    expect(crashes).toHaveLength(1);
    expect(workers[0]!.terminated).toBe(true);
    // The new worker has no model: it says so in words, and loads one when asked.
    await expect(client.request('generate', img2img(2))).rejects.toThrow('No model is loaded yet.');
    await client.request('loadModel', { modelId: 'x', backend: 'wasm', plan });
    expect((await client.request('generate', img2img(2))).width).toBe(64);
    expect(workers).toHaveLength(2);
  });
});

describe('the client notices a worker that stopped answering', () => {
  it('a live worker answers pings while a long job runs: no false alarm', async () => {
    const worker = handlerWorker();
    const client = InferenceClient.create(() => worker as unknown as Worker, 300);
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
    let settled = false;
    // This load never finishes, but the handler's event loop stays free: it answers the pings.
    void client
      .request('loadModel', { modelId: 'x', backend: 'wasm', plan })
      .catch(() => undefined)
      .finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1200));
    expect(settled).toBe(false);
    expect(crashes).toEqual([]);
  });

  it('a worker that closed (no error event, no answers) fails its pending request and is restarted', async () => {
    const dead = handlerWorker();
    let made = 0;
    const client = InferenceClient.create(() => (made++ === 0 ? dead : handlerWorker()) as unknown as Worker, 300);
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
    // It answers once, then goes silent for good, as a worker the browser stopped.
    expect((await client.request('capabilities', {})).webgpu).toBe(false);
    dead.terminate();
    const started = Date.now();
    await expect(client.request('capabilities', {})).rejects.toThrow(
      'The inference worker stopped answering (nothing for 0 s). It was restarted; try again.',
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(crashes[0]).toBeInstanceOf(WorkerCrashedError);
    expect(dead.terminated).toBe(true);
    // The next request goes to a new worker and works.
    expect((await client.request('capabilities', {})).webgpu).toBe(false);
    expect(made).toBe(2);
  });

  it('a starting worker may stay silent for the start-up bound; one that never answers is said not to start', async () => {
    const silent = new FakeWorker(); // answers nothing, ever
    let made = 0;
    const client = InferenceClient.create(
      () => (made++ === 0 ? silent : handlerWorker()) as unknown as Worker,
      100,
      1000,
    );
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
    const started = Date.now();
    const first = client.request('capabilities', {});
    // Three times the silence bound: still starting, not taken for dead.
    await new Promise((r) => setTimeout(r, 300));
    expect(crashes).toEqual([]);
    await expect(first).rejects.toThrow(
      'The inference worker did not start (nothing from it for 1 s). It was restarted; try again.',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect((await client.request('capabilities', {})).webgpu).toBe(false);
    expect(made).toBe(2);
  });
});
