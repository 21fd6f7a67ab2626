/**
 * `npm run bench`: the tiny model's phases on onnxruntime-node, then the same model in headless
 * Chromium (WASM with 1 and 2 threads, and WebGPU) through the app's own worker, written to
 * bench/results/latest.json and printed as a table.
 *   npx tsx scripts/bench/run.ts [modelDir]     (a model folder: Node phases only)
 *   BENCH_WEBGPU=0 to skip WebGPU (slow on a software rasteriser)
 *   BENCH_ONLY=networks for the safetensors-built graphs against torch's export alone
 *   BENCH_FULL_SD15=0 to skip the full-size SD 1.5 UNet (1.7 GB of fp16 weights made on the fly)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { preview } from 'vite';
import { createScheduler } from '../../src/core/schedulers';
import { TorchGenerator } from '../../src/core/math/random';
import { tensor } from '../../src/core/math/tensor';
import type { BenchResult, Stats } from '../../src/protocol/dev-messages';
import { loadTinyModels, TINY_DIR } from '../../tests/helpers/node-models';
import { openApp } from '../../tests/e2e/helpers/browser';
import { stats } from '../../src/worker/dev/bench';
import { convStack } from '../tiny-models/sd-components';
import { networkBench } from './networks';

function printNetworks(n: Awaited<ReturnType<typeof networkBench>>): void {
  const mb = (b: number | null) => (b === null ? '–' : `${(b / 2 ** 20).toFixed(1)} MiB`);
  console.log(`\nNetworks built from safetensors vs torch's ONNX export — ${n.unet}; medians`);
  console.log(
    '| runtime | variant | graph build ms | session create ms | UNet step ms | step / export | create / export | memory |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of n.node) {
    const ratio = n.nodeRatios.find((x) => x.variant === r.variant);
    console.log(
      `| onnxruntime-node | ${r.variant} | ${r.variant === 'export' ? '–' : r.buildMs} | ${r.createMs} | ${r.runMs.median} | ${ratio?.stepOverExport ?? '1'} | ${ratio?.createOverExport ?? '1'} | peak RSS ${mb(r.peakRssBytes)} |`,
    );
  }
  for (const r of n.browser) {
    const ratio = n.browserRatios.find((x) => x.variant === r.label);
    console.log(
      `| ${r.backend} | ${r.variant} | ${r.buildMs ?? '–'} | ${r.createMs} | ${r.runMs.median} | ${ratio?.stepOverExport ?? '1'} | ${ratio?.createOverExport ?? '1'} | JS peak ${mb(r.jsBytes)}${r.peakGpuBytes !== null ? `, GPU peak ${mb(r.peakGpuBytes)}` : ''} |`,
    );
  }
  if (n.fullSizeSd15) console.log('full-size SD 1.5 UNet on WebGPU:', JSON.stringify(n.fullSizeSd15));
}

const customDir = process.argv[2];
const dir = customDir ? (customDir.endsWith('/') ? customDir : `${customDir}/`) : TINY_DIR;
const REPEATS = 20;
const SIZE = 512;
const STEPS = 20;

async function time(fn: () => unknown): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** The issue's reference graph, written where the preview server serves it. */
const CONV_STACK_PATH = 'bench/conv-stack.onnx';
const convStackBytes = convStack();

/** The conv stack on onnxruntime-node with `threads` intra-op threads (0: its default, one per core). */
async function nodeConvStack(threads: number) {
  const session = await ort.InferenceSession.create(convStackBytes, {
    executionProviders: ['cpu'],
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  });
  const feeds = { sample: new ort.Tensor('float32', new Float32Array(2 * 4 * 64 * 64), [2, 4, 64, 64]) };
  return stats(await time(() => session.run(feeds)));
}

async function nodePhases() {
  const { models, schedulerConfig } = await loadTinyModels(dir);
  const ids = (await models.tokenize('A painting of a flooble')).ids;
  const text = (await models.encodeText(ids)).hidden;
  const both = tensor(new Float32Array([...text.data, ...text.data]), [2, ...text.dims.slice(1)]);
  const latents = tensor(new TorchGenerator(42).randn(2 * 4 * 64 * 64), [2, 4, 64, 64]);
  // DDIM's step is stateless, so it can be timed over and over at one timestep.
  const scheduler = createScheduler('ddim', schedulerConfig);
  scheduler.setTimesteps(50);
  const sample = latents.data.subarray(0, 4 * 64 * 64);
  const onnx = models as typeof models & {
    unetFeeds?: (...a: unknown[]) => Record<string, unknown>;
    sessions?: { unet: { run(f: unknown): Promise<unknown> } };
  };
  const feeds = onnx.unetFeeds!(latents, 981, both);
  return {
    runtime: 'onnxruntime-node (CPU)',
    model: dir,
    textEncoderMs: stats(await time(() => models.encodeText(ids))),
    unetStepMs: stats(await time(() => models.unet(latents, 981, both))),
    bareSessionRunMs: stats(await time(() => onnx.sessions!.unet.run(feeds))),
    schedulerStepMs: stats(await time(() => scheduler.step(sample, scheduler.timesteps[0]!, sample))),
    vaeDecodeMs: stats(await time(() => models.decode(tensor(sample, [1, 4, 64, 64])))),
  };
}

type BrowserResult = BenchResult & { transferToCanvasMs: Stats; pageHeapBytes: number | null; label: string };

interface BrowserConfig {
  label: string;
  backend: 'wasm' | 'webgpu';
  threads: number;
  runs: number;
  resident: boolean;
}

async function browserPhases(): Promise<BrowserResult[]> {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: `npm run bench` builds it first.');
  const server = await preview({ preview: { host: '127.0.0.1', port: 4175, strictPort: true } });
  const base = 'http://127.0.0.1:4175/';
  mkdirSync('dist/bench', { recursive: true });
  writeFileSync(`dist/${CONV_STACK_PATH}`, convStackBytes);
  const configs: BrowserConfig[] = [
    { label: 'WASM, 1 thread', backend: 'wasm', threads: 1, runs: 3, resident: true },
    { label: 'WASM, 2 threads', backend: 'wasm', threads: 2, runs: 3, resident: true },
    ...(process.env['BENCH_WEBGPU'] === '0'
      ? []
      : ([
          { label: 'WebGPU, plain loop', backend: 'webgpu', threads: 0, runs: 1, resident: false },
          { label: 'WebGPU, resident loop', backend: 'webgpu', threads: 0, runs: 1, resident: true },
        ] satisfies BrowserConfig[])),
  ];
  const out: BrowserResult[] = [];
  try {
    // One page per backend and thread count. Timings fall over a page's first generations (JIT and
    // WASM tier-up), so every page makes one uncounted generation first; its configs follow in turn.
    const groups = new Map<string, BrowserConfig[]>();
    for (const c of configs)
      groups.set(`${c.backend}-${c.threads}`, [...(groups.get(`${c.backend}-${c.threads}`) ?? []), c]);
    for (const group of groups.values()) {
      const first = group[0]!;
      const session = await openApp({ url: `${base}?bench&threads=${first.threads || 1}` });
      try {
        await session.page.getByTestId('backend').selectOption(first.backend);
        const run = (c: BrowserConfig, runs: number) =>
          session.page.evaluate(
            (p) => (window as unknown as { latentStudioBench(p: object): Promise<unknown> }).latentStudioBench(p),
            { width: SIZE, height: SIZE, steps: STEPS, runs, resident: c.resident },
          ) as Promise<BrowserResult>;
        if (first.backend === 'wasm') await run(first, 1);
        for (const c of group) {
          const result = await run(c, c.runs);
          out.push({ ...result, label: c.label });
          console.log(`browser ${c.label}: ${result.phases.totalMs.median} ms per image`);
        }
      } finally {
        await session.close();
      }
    }
  } finally {
    await server.close();
  }
  return out;
}

/**
 * The conv stack with 1 and 2 WASM threads, alternating fresh pages three times each so that the
 * machine's drift hits both alike; every session times 20 runs after a 1-step warm-up image.
 */
async function convStackThreads(): Promise<{ 1: Stats; 2: Stats }> {
  const server = await preview({ preview: { host: '127.0.0.1', port: 4175, strictPort: true } });
  const samples: { 1: number[]; 2: number[] } = { 1: [], 2: [] };
  try {
    for (let round = 0; round < 3; round++) {
      for (const threads of [1, 2] as const) {
        const session = await openApp({ url: `http://127.0.0.1:4175/?bench&threads=${threads}` });
        try {
          await session.page.getByTestId('backend').selectOption('wasm');
          const result = (await session.page.evaluate(
            (p) => (window as unknown as { latentStudioBench(p: object): Promise<unknown> }).latentStudioBench(p),
            { width: 64, height: 64, steps: 1, runs: 1, graphUrl: `/${CONV_STACK_PATH}`, repeats: 20 },
          )) as BenchResult;
          if (result.threads !== threads) throw new Error(`asked for ${threads} threads, got ${result.threads}`);
          samples[threads].push(...(result.graph?.samples ?? []));
        } finally {
          await session.close();
        }
      }
    }
  } finally {
    await server.close();
  }
  return { 1: stats(samples[1]), 2: stats(samples[2]) };
}

const networks = await networkBench({
  browser: !customDir,
  fullSize: !customDir && process.env['BENCH_WEBGPU'] !== '0' && process.env['BENCH_FULL_SD15'] !== '0',
});
printNetworks(networks);
if (process.env['BENCH_ONLY'] === 'networks') {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/networks.json',
    `${JSON.stringify({ networks, date: new Date().toISOString() }, null, 2)}\n`,
  );
  process.exit(0);
}

const node = {
  ...(await nodePhases()),
  convStackMs: await nodeConvStack(1),
  convStackDefaultThreadsMs: await nodeConvStack(0),
};
const browser = customDir ? [] : await browserPhases();
const convThreads = customDir ? null : await convStackThreads();
const wasm1 = browser.find((b) => b.backend === 'wasm' && b.threads === 1);
const wasm2 = browser.find((b) => b.backend === 'wasm' && b.threads === 2);
const over = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined ? Number((a / b).toFixed(2)) : null;
const results = {
  size: `${SIZE}x${SIZE} (latents 4x${SIZE / 8}x${SIZE / 8}, CFG batch 2), ${STEPS} DDIM steps`,
  node,
  browser,
  networks,
  summary: wasm1
    ? {
        browserToNodeUnetRatio: over(wasm1.phases.bareSessionRunMs.median, node.bareSessionRunMs.median),
        wasm2ThreadsSpeedup: over(wasm1.phases.totalMs.median, wasm2?.phases.totalMs.median),
        convStack: {
          nodeMs: node.convStackMs.median,
          wasm1Ms: convThreads?.[1] ?? null,
          wasm2Ms: convThreads?.[2] ?? null,
          browserToNodeRatio: over(convThreads?.[1].median, node.convStackMs.median),
          wasm2ThreadsSpeedup: over(convThreads?.[1].median, convThreads?.[2].median),
        },
      }
    : null,
  date: new Date().toISOString(),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);

const f = (s: Stats | undefined) => (s ? `${s.median} / ${s.p90}` : '–');
console.log(`\nLatent Studio bench — ${results.size}; median / p90 ms`);
console.log(
  `node (onnxruntime-node): text ${f(node.textEncoderMs)} · UNet ${f(node.unetStepMs)} · bare run ${f(node.bareSessionRunMs)} · scheduler ${f(node.schedulerStepMs)} · VAE ${f(node.vaeDecodeMs)}`,
);
const rows: [string, (b: BrowserResult) => string][] = [
  ['text encoder', (b) => f(b.phases.textEncoderMs)],
  ['UNet step (app call)', (b) => (b.loop === 'plain' ? f(b.phases.unetStepMs) : '–')],
  ['bare session.run', (b) => f(b.phases.bareSessionRunMs)],
  ['whole step', (b) => f(b.phases.stepTotalMs)],
  ['app UNet call / bare', (b) => String(b.appToBareRatio ?? '–')],
  ['whole step / bare', (b) => String(b.appStepToBareRatio)],
  ['JS overhead per step (step − session.run)', (b) => f(b.phases.jsOverheadPerStepMs ?? undefined)],
  ['overhead per step (step − bare)', (b) => f(b.phases.overheadVsBarePerStepMs)],
  ['overhead share of total', (b) => `${(b.overheadShareOfTotal * 100).toFixed(2)} %`],
  [
    'GPU→CPU reads per step (latent-sized / all)',
    (b) => (b.readbacksPerStep ? `${b.readbacksPerStep.latentSized} / ${b.readbacksPerStep.all}` : '–'),
  ],
  ['VAE decode', (b) => f(b.phases.vaeDecodeMs)],
  ['transfer to canvas', (b) => f(b.transferToCanvasMs)],
  ['whole image', (b) => f(b.phases.totalMs)],
  ['images per minute', (b) => String(b.imagesPerMinute)],
];
if (browser.length > 0) {
  console.log(`| phase | ${browser.map((b) => b.label).join(' | ')} |`);
  console.log(`| --- | ${browser.map(() => '---').join(' | ')} |`);
  for (const [name, cell] of rows) console.log(`| ${name} | ${browser.map(cell).join(' | ')} |`);
  const conv = results.summary?.convStack;
  console.log(
    `reference conv stack, WASM: 1 thread ${f(conv?.wasm1Ms ?? undefined)}, 2 threads ${f(conv?.wasm2Ms ?? undefined)}`,
  );
  console.log(
    `browser/node, bare run, WASM 1 thread: tiny UNet ${results.summary?.browserToNodeUnetRatio}×, conv stack ${conv?.browserToNodeRatio}× (node ${conv?.nodeMs} ms)`,
  );
  console.log(
    `2 WASM threads over 1: tiny model image ${results.summary?.wasm2ThreadsSpeedup}×, conv stack ${conv?.wasm2ThreadsSpeedup}×`,
  );
}
