/**
 * `npx tsx scripts/bench/safety-checker.ts [--runs 5]`: what SD 1.5's safety checker costs per
 * picture on this machine's CPU, with random fp16 weights at its real size (no download): the
 * graph the app builds, in float32 as WASM runs it, on onnxruntime-web's WASM backend (1 and 2
 * threads) and on onnxruntime-node, plus the preprocessing (a 512×512 picture to 224×224) in JS.
 * Prints JSON: parameters, weight bytes (fp16 file, float32 as run), ms per picture (median), and
 * the process's resident memory after the session is made.
 */
import { performance } from 'node:perf_hooks';
import * as ortNode from 'onnxruntime-node';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { safetyCheckerGraph } from '../../src/core/networks';
import { convertWeights } from '../../src/core/networks/convert-weights';
import { clipPixelValues, readClipImageConfig } from '../../src/core/safety/clip-image';
import { fullSizeSafetyChecker, SD15_FEATURE_EXTRACTOR, SD15_SAFETY_CHECKER } from './full-size';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const preprocessing = readClipImageConfig('preprocessor_config.json', SD15_FEATURE_EXTRACTOR);

const { bytes, params } = fullSizeSafetyChecker();
const header = parseSafetensors('model.fp16.safetensors', bytes);
const converted = convertWeights([{ file: { header, location: 'weights' }, bytes }], 'float32');
const model = safetyCheckerGraph({
  configPath: 'safety_checker/config.json',
  config: SD15_SAFETY_CHECKER,
  files: converted.files,
});
const external = converted.external.map((e) => ({ path: e.path, data: e.data }));
const float32Bytes = external.reduce((n, e) => n + e.data.length, 0);

const picture = {
  width: 512,
  height: 512,
  pixels: Uint8ClampedArray.from({ length: 512 * 512 * 4 }, (_, i) => (i * 2654435761) >>> 24),
};
const pre: number[] = [];
let pixels = clipPixelValues(picture, preprocessing).data;
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  pixels = clipPixelValues(picture, preprocessing).data;
  pre.push(performance.now() - t);
}

interface Row {
  runtime: string;
  msPerPicture: number;
  createMs: number;
  rssMiB: number;
}

async function time(
  runtime: string,
  create: () => Promise<{ run(feeds: Record<string, unknown>): Promise<unknown> }>,
  tensor: (data: Float32Array) => unknown,
): Promise<Row> {
  const t0 = performance.now();
  const session = await create();
  const createMs = performance.now() - t0;
  const feeds = { pixel_values: tensor(pixels) };
  await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  return { runtime, msPerPicture: median(ms), createMs, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) };
}

const rows: Row[] = [];
const ortWeb = await import('onnxruntime-web/wasm');
for (const threads of [1, 2]) {
  ortWeb.env.wasm.numThreads = threads;
  rows.push(
    await time(
      `onnxruntime-web WASM, ${threads} thread${threads > 1 ? 's' : ''}`,
      () => ortWeb.InferenceSession.create(model, { executionProviders: ['wasm'], externalData: external }),
      (d) => new ortWeb.Tensor('float32', d, [1, 3, 224, 224]),
    ),
  );
}
rows.push(
  await time(
    'onnxruntime-node (CPU)',
    () => ortNode.InferenceSession.create(model, { externalData: external }),
    (d) => new ortNode.Tensor('float32', d, [1, 3, 224, 224]),
  ),
);
console.log(
  JSON.stringify(
    {
      params,
      fp16FileBytes: bytes.length,
      float32WeightBytes: float32Bytes,
      preprocessMs: median(pre),
      rows,
    },
    null,
    2,
  ),
);
