/**
 * One UNet variant on onnxruntime-node in a fresh process (so its peak memory is its own):
 * session creation, 20 timed runs at batch 2 and 8×12 latents, peak resident memory.
 *   npx tsx scripts/bench/network-probe.ts <export|built-matmul|built-gemm> <unet folder> [export.onnx]
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { unetGraph } from '../../src/core/networks';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { stats } from '../../src/worker/dev/bench';

const [variant, dir, exportPath] = process.argv.slice(2) as [string, string, string | undefined];
const DIMS: Record<string, number> = { batch: 2, height: 8, width: 12, sequence: 77, timestep_batch: 2 };

/** VmHWM and VmRSS of this process, in bytes. */
function memory(): { peak: number; rss: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

const before = memory();
let model: Uint8Array;
let options: ort.InferenceSession.SessionOptions = {};
let buildMs = 0;
if (variant === 'export') {
  model = readFileSync(exportPath!);
} else {
  const bytes = new Uint8Array(readFileSync(`${dir}/diffusion_pytorch_model.safetensors`));
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as unknown;
  const t = performance.now();
  model = unetGraph(
    { configPath: 'unet/config.json', config, files: [{ header: parseSafetensors('unet', bytes), location: 'w' }] },
    { linear: variant === 'built-gemm' ? 'gemm' : 'matmul', padInputChannels: true },
  ).model;
  buildMs = performance.now() - t;
  options = { externalData: [{ path: 'w', data: bytes }] };
}
const loaded = memory();
const started = performance.now();
const session = await ort.InferenceSession.create(model, { ...options, intraOpNumThreads: 1 });
const createMs = performance.now() - started;
const feeds: Record<string, ort.Tensor> = {};
for (const m of session.inputMetadata) {
  if (!m.isTensor) throw new Error(m.name);
  const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : (DIMS[String(d)] ?? 1)));
  const n = dims.reduce((a, b) => a * b, 1);
  feeds[m.name] =
    m.type === 'int64'
      ? new ort.Tensor('int64', new BigInt64Array(n).fill(981n), dims)
      : new ort.Tensor(
          'float32',
          Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5),
          dims,
        );
}
const times: number[] = [];
for (let i = 0; i <= 20; i++) {
  const t = performance.now();
  await session.run(feeds);
  if (i > 0) times.push(performance.now() - t);
}
const after = memory();
console.log(
  JSON.stringify({
    variant,
    graphBytes: model.length,
    buildMs: Math.round(buildMs * 10) / 10,
    createMs: Math.round(createMs * 10) / 10,
    runMs: stats(times),
    rssBeforeLoadBytes: before.rss,
    rssWithFilesBytes: loaded.rss,
    peakRssBytes: after.peak,
  }),
);
