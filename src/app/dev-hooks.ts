/** The page's hooks for the benchmark (?bench, ?threads=N) and the reliability tests (?testHooks=1). */
import type { BenchGraphParams, BenchParams, TestHookAction } from '../protocol/dev-messages';
import { paintCanvas } from '../canvas/paint';
import { client, ensureModel, pageQuery } from './worker-session';

/** The browser half of `npm run bench`, on the page only with ?bench (and ?threads=N for WASM threads). */
if (pageQuery.has('bench')) {
  (window as unknown as { latentStudioBench: (p: BenchParams) => Promise<unknown> }).latentStudioBench = async (p) => {
    await ensureModel();
    const result = await client.request('bench', p);
    // Transfer to canvas: the worker's RGBA buffer becomes ImageData and is drawn, as showImage does.
    const canvas = document.createElement('canvas');
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      const pixels = new Uint8ClampedArray(p.width * p.height * 4).fill(128);
      const started = performance.now();
      paintCanvas(canvas, new ImageData(pixels, p.width, p.height));
      if (i > 0) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
    return {
      ...result,
      transferToCanvasMs: {
        median: Math.round(times[10]! * 1000) / 1000,
        p90: Math.round(times[18]! * 1000) / 1000,
        n: times.length,
      },
      pageHeapBytes: heap,
    };
  };
}

if (pageQuery.has('bench')) {
  (window as unknown as { latentStudioBenchGraph: (p: BenchGraphParams) => Promise<unknown> }).latentStudioBenchGraph =
    async (p) => {
      await ensureModel();
      return client.request('benchGraph', p);
    };
}

/** Fault injection for the reliability tests, on the page only with ?testHooks=1. */
if (pageQuery.has('testHooks')) {
  (window as unknown as { latentStudioTestHook: (action: TestHookAction) => Promise<unknown> }).latentStudioTestHook = (
    action,
  ) => client.request('testHook', { action }).catch((error: unknown) => String(error));
}
