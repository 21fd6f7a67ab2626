/** The page's client against an in-memory worker running the real handler. */
import { describe, expect, it } from 'vitest';
import { InferenceClient, WorkerCrashedError } from '../../src/client/inference-client';
import { createHandler } from '../../workers/handler';
import type { FromWorker } from '../../src/protocol/messages';

/** A Worker stand-in: messages to it go to `onMessage`; `reply` sends one back to the page. */
class FakeWorker extends EventTarget {
  onMessage: (message: unknown) => void = () => undefined;
  terminated = false;
  postMessage(message: unknown): void {
    if (!this.terminated) queueMicrotask(() => this.onMessage(message));
  }
  reply(message: FromWorker): void {
    if (!this.terminated) this.dispatchEvent(new MessageEvent('message', { data: message }));
  }
  terminate(): void {
    this.terminated = true;
  }
}

function handlerWorker(): FakeWorker {
  const worker = new FakeWorker();
  const handle = createHandler({
    post: (message) => setTimeout(() => worker.reply(message), 0),
    capabilities: async () => ({
      webgpu: false,
      webgpuUnavailableReason: 'test',
      adapter: null,
      crossOriginIsolated: false,
      wasmThreads: 1,
    }),
    loadModel: () => new Promise(() => undefined),
    estimateDepth: async () => ({ width: 1, height: 1, data: new Float32Array(1) }),
  });
  worker.onMessage = handle;
  return worker;
}

describe('the client notices a worker that stopped answering', () => {
  it('a live worker answers pings while a long job runs: no false alarm', async () => {
    const worker = handlerWorker();
    const client = new InferenceClient(() => worker as unknown as Worker, 300);
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
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
    const dead = new FakeWorker(); // answers nothing, ever
    let made = 0;
    const client = new InferenceClient(() => (made++ === 0 ? dead : handlerWorker()) as unknown as Worker, 300);
    const crashes: Error[] = [];
    client.onCrash = (e) => crashes.push(e);
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
});
