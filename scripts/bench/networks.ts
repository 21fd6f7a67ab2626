/**
 * The networks the app builds from safetensors against the same weights exported to ONNX by torch
 * (python/export/export_unet_onnx.py, opset 17, optimum's names), side by side in one run: session
 * creation, UNet step and memory on onnxruntime-node (one fresh process per variant, 3 processes
 * each), WASM and WebGPU (the app's worker). Then a full-size SD 1.5 UNet with random fp16 weights,
 * made here as a safetensors file, loaded on WebGPU and run at 8×8 latents.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { preview } from 'vite';
import { fullSizeUnet, SD15_UNET } from './full-size';
import type { BenchGraphParams, BenchGraphResult, Stats } from '../../src/protocol/dev-messages';
import { openApp } from '../../tests/e2e/helpers/browser';
import { stats } from '../../src/worker/dev/bench';

const UNET_DIR = 'tests/fixtures/networks/sd1/unet';
const EXPORT = 'bench/fixtures/sd1-unet.onnx';
const VARIANTS = ['export', 'built-matmul', 'built-gemm'] as const;
type Variant = (typeof VARIANTS)[number];

interface NodeProbe {
  variant: Variant;
  graphBytes: number;
  buildMs: number;
  createMs: number;
  runMs: Stats;
  rssBeforeLoadBytes: number;
  rssWithFilesBytes: number;
  peakRssBytes: number;
}

function nodeProbe(variant: Variant): NodeProbe {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/network-probe.ts', variant, UNET_DIR, EXPORT],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as NodeProbe;
}

/** Three fresh processes per variant, alternating, medians of their figures. */
function nodeSide() {
  const runs = new Map<Variant, NodeProbe[]>();
  for (let round = 0; round < 3; round++) {
    for (const v of VARIANTS) runs.set(v, [...(runs.get(v) ?? []), nodeProbe(v)]);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return VARIANTS.map((v) => {
    const r = runs.get(v)!;
    return {
      variant: v,
      graphBytes: r[0]!.graphBytes,
      buildMs: median(r.map((x) => x.buildMs)),
      createMs: median(r.map((x) => x.createMs)),
      runMs: stats(r.map((x) => x.runMs.median)),
      peakRssBytes: median(r.map((x) => x.peakRssBytes)),
      rssWithFilesBytes: median(r.map((x) => x.rssWithFilesBytes)),
    };
  });
}

type BrowserRow = BenchGraphResult & { variant: string; label: string; jsBytes: number | null };

async function browserSide(fullSize: boolean): Promise<{
  rows: BrowserRow[];
  fullSize: (BrowserRow & { params: number; fileBytes: number }) | { error: string } | null;
}> {
  const dir = 'dist/bench/networks';
  mkdirSync(dir, { recursive: true });
  copyFileSync(EXPORT, `${dir}/export.onnx`);
  copyFileSync(`${UNET_DIR}/diffusion_pytorch_model.safetensors`, `${dir}/unet.safetensors`);
  copyFileSync(`${UNET_DIR}/config.json`, `${dir}/unet.config.json`);
  let full: ReturnType<typeof fullSizeUnet> | null = null;
  if (fullSize) {
    full = fullSizeUnet();
    writeFileSync(`${dir}/sd15-unet.fp16.safetensors`, full.bytes);
    writeFileSync(`${dir}/sd15-unet.config.json`, JSON.stringify(SD15_UNET));
    console.log(`full-size SD 1.5 UNet: ${full.params} parameters, ${full.bytes.length} bytes of fp16 safetensors`);
  }
  const server = await preview({ preview: { host: '127.0.0.1', port: 4175, strictPort: true } });
  const rows: BrowserRow[] = [];
  let fullRow: Awaited<ReturnType<typeof browserSide>>['fullSize'] = null;
  const dims = { batch: 2, height: 8, width: 12, sequence: 77, timestep_batch: 2 };
  try {
    const backends = process.env['BENCH_WEBGPU'] === '0' ? (['wasm'] as const) : (['wasm', 'webgpu'] as const);
    for (const backend of backends) {
      const session = await openApp({
        url: 'http://127.0.0.1:4175/?bench&threads=1',
        // measureUserAgentSpecificMemory answers at once instead of at the next idle GC.
        args: ['--enable-blink-features=ForceEagerMeasureMemory'],
      });
      try {
        await session.page.getByTestId('backend').selectOption(backend);
        /** The graph's figures, and the most JS memory (page and worker) seen while it loaded and ran. */
        const run = async (params: BenchGraphParams) =>
          (await session.page.evaluate(async (p) => {
            const w = window as unknown as { latentStudioBenchGraph(p: object): Promise<BenchGraphResult> };
            const perf = performance as unknown as {
              measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
            };
            let peak = 0;
            let done = false;
            const job = w.latentStudioBenchGraph(p).finally(() => (done = true));
            const poll = (async () => {
              while (!done && perf.measureUserAgentSpecificMemory) {
                peak = Math.max(peak, (await perf.measureUserAgentSpecificMemory()).bytes);
                await new Promise((r) => setTimeout(r, 250));
              }
            })();
            const result = await job;
            await poll;
            return { ...result, jsBytes: perf.measureUserAgentSpecificMemory ? peak : null };
          }, params)) as BenchGraphResult & { jsBytes: number | null };
        // Alternating, twice each: the second round's figures are kept (the first warms the page).
        for (let round = 0; round < 2; round++) {
          for (const variant of VARIANTS) {
            const params: BenchGraphParams =
              variant === 'export'
                ? { url: '/bench/networks/export.onnx', dims, repeats: backend === 'webgpu' ? 5 : 20 }
                : {
                    checkpoint: {
                      configUrl: '/bench/networks/unet.config.json',
                      weightsUrl: '/bench/networks/unet.safetensors',
                      linear: variant === 'built-gemm' ? 'gemm' : 'matmul',
                    },
                    dims,
                    repeats: backend === 'webgpu' ? 5 : 20,
                  };
            const result = await run(params);
            if (round === 1) rows.push({ ...result, variant, label: `${backend} ${variant}` });
            console.log(`browser ${backend} ${variant}: create ${result.createMs} ms, run ${result.runMs.median} ms`);
          }
        }
        if (full && backend === 'webgpu') {
          try {
            const result = await run({
              checkpoint: {
                configUrl: '/bench/networks/sd15-unet.config.json',
                weightsUrl: '/bench/networks/sd15-unet.fp16.safetensors',
              },
              dims: { batch: 2, height: 8, width: 8, sequence: 77, timestep_batch: 2 },
              repeats: 1,
            });
            fullRow = {
              ...result,
              variant: 'sd15',
              label: 'webgpu SD 1.5 UNet',
              params: full.params,
              fileBytes: full.bytes.length,
            };
          } catch (error) {
            fullRow = { error: error instanceof Error ? error.message : String(error) };
          }
          console.log('full-size SD 1.5 UNet on WebGPU:', JSON.stringify(fullRow));
        }
      } finally {
        await session.close();
      }
    }
  } finally {
    await server.close();
  }
  return { rows, fullSize: fullRow };
}

export async function networkBench(options: { browser: boolean; fullSize: boolean }) {
  if (!existsSync(EXPORT)) throw new Error(`${EXPORT} is missing: make it with python/export/export_unet_onnx.py`);
  const node = nodeSide();
  for (const n of node)
    console.log(`node ${n.variant}: create ${n.createMs} ms, run ${n.runMs.median} ms, peak RSS ${n.peakRssBytes}`);
  const browser = options.browser ? await browserSide(options.fullSize) : null;
  const exportOf = (rows: { variant: string; createMs: number; runMs: Stats }[], prefix = '') =>
    rows.find((r) => r.variant === 'export' && (!prefix || (r as { label?: string }).label?.startsWith(prefix)));
  const ratios = (rows: { variant: string; createMs: number; runMs: Stats; label?: string }[]) =>
    rows
      .filter((r) => r.variant !== 'export')
      .map((r) => {
        const base = exportOf(rows, r.label?.split(' ')[0] ?? '')!;
        return {
          variant: r.label ?? r.variant,
          stepOverExport: Number((r.runMs.median / base.runMs.median).toFixed(2)),
          createOverExport: Number((r.createMs / base.createMs).toFixed(2)),
        };
      });
  return {
    unet: `${UNET_DIR} at batch 2, 8×12 latents`,
    node,
    nodeRatios: ratios(node),
    browser: browser?.rows ?? [],
    browserRatios: browser ? ratios(browser.rows) : [],
    fullSizeSd15: browser?.fullSize ?? null,
  };
}
