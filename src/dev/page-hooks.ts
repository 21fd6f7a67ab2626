/**
 * The page's hooks for the benchmark (`?bench`, `?threads=N`) and the reliability tests
 * (`?testHooks=1`), on `window`. main.tsx loads this module with `import()` only when the page was
 * opened with one of those flags, so the product's bundle has none of it.
 */
import type { InferenceClient } from '../client/inference-client';
import { paintCanvas } from '../canvas/paint';
import type { WorkerSession } from '../app/worker-session';
import type { BenchGraphParams, BenchParams, TestHookAction } from '../protocol/dev-messages';
import type { DevFlags } from '../protocol/dev-flags';
import { DEV_REQUESTS, type DevRequestMap } from '../protocol/dev-requests';

interface DevWindow {
  latentStudioBench?: (p: BenchParams) => Promise<unknown>;
  latentStudioBenchGraph?: (p: BenchGraphParams) => Promise<unknown>;
  latentStudioTestHook?: (action: TestHookAction) => Promise<unknown>;
}

/** Median and p90 of painting a worker-sized RGBA buffer on a canvas, as showImage does. */
function transferToCanvasMs(width: number, height: number) {
  const canvas = document.createElement('canvas');
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const pixels = new Uint8ClampedArray(width * height * 4).fill(128);
    const started = performance.now();
    paintCanvas(canvas, new ImageData(pixels, width, height));
    if (i > 0) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    median: Math.round(times[10]! * 1000) / 1000,
    p90: Math.round(times[18]! * 1000) / 1000,
    n: times.length,
  };
}

export function installDevHooks(flags: DevFlags, product: InferenceClient, session: WorkerSession): void {
  const client = product.extend<DevRequestMap>(DEV_REQUESTS);
  const target = window as unknown as DevWindow;
  if (flags.bench) {
    target.latentStudioBench = async (p) => {
      await session.ensureModel();
      const result = await client.request('bench', p);
      const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
      return { ...result, transferToCanvasMs: transferToCanvasMs(p.width, p.height), pageHeapBytes: heap };
    };
    target.latentStudioBenchGraph = async (p) => {
      await session.ensureModel();
      return client.request('benchGraph', p);
    };
  }
  if (flags.testHooks) {
    target.latentStudioTestHook = (action) =>
      client.request('testHook', { action }).catch((error: unknown) => String(error));
  }
}
