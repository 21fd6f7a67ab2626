/**
 * First benchmark: the tiny model's phases on onnxruntime-node (median and p90 over repeats),
 * written to bench/results/latest.json. The browser half (WebGPU/WASM in Chromium, bare
 * session.run ratios, memory) is the performance issue's work.
 *   npx tsx scripts/bench/run.ts [modelDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createScheduler } from '../../src/core/schedulers';
import { TorchGenerator } from '../../src/core/random';
import { tensor } from '../../src/core/tensor';
import { loadTinyModels, TINY_DIR } from '../../tests/helpers/node-models';

const dir = process.argv[2] ?? TINY_DIR;
const REPEATS = 20;

function stats(samples: number[]): { median: number; p90: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: Number(at(0.5).toFixed(3)), p90: Number(at(0.9).toFixed(3)) };
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const { models, schedulerConfig } = await loadTinyModels(dir.endsWith('/') ? dir : `${dir}/`);
const ids = (await models.tokenize('A painting of a flooble')).ids;
const text = await models.encodeText(ids);
const both = tensor(new Float32Array(2 * text.data.length), [2, ...text.dims.slice(1)]);
const latents = tensor(new TorchGenerator(42).randn(2 * 4 * 64 * 64), [2, 4, 64, 64]);
// DDIM's step is stateless, so it can be timed over and over at one timestep.
const scheduler = createScheduler('ddim', schedulerConfig);
scheduler.setTimesteps(50);
const sample = latents.data.subarray(0, 4 * 64 * 64);

const results = {
  runtime: 'onnxruntime-node (CPU)',
  model: dir,
  size: '512x512 (latents 4x64x64, CFG batch 2)',
  phases: {
    textEncoderMs: stats(await time(() => models.encodeText(ids))),
    unetStepMs: stats(await time(() => models.unet(latents, 981, both))),
    schedulerStepMs: stats(await time(() => scheduler.step(sample, scheduler.timesteps[0]!, sample))),
    vaeDecodeMs: stats(await time(() => models.decode(tensor(sample, [1, 4, 64, 64])))),
  },
  date: new Date().toISOString(),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
console.log(`Latent Studio bench — ${results.runtime}, ${results.size}`);
console.log('phase              median ms   p90 ms');
for (const [name, s] of Object.entries(results.phases)) {
  console.log(`${name.padEnd(18)} ${String(s.median).padStart(9)} ${String(s.p90).padStart(8)}`);
}
