/**
 * `npm run generate -- --model <folder, URL or file> --settings <run.json> --out <file.png>`
 * [--backend webgpu|wasm] [--precision auto|fp16|fp32] [--init-image a.png] [--mask m.png]
 * [--depth d.png]: one picture from the app's own core, pipelines and session code in Node, on
 * WebGPU through Dawn (the system's Vulkan driver, or lavapipe with LATENT_LAVAPIPE=1) or on WASM.
 * The settings use diffusers' argument names (as the reference `pipelines/*.json`). Prints one JSON
 * line; bad input exits 1 with the message the app would show.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { addPngText } from '../../src/core/formats/png-text';
import { formatParameters } from '../../src/core/formats/parameters-text';
import type { Precision } from '../../src/core/networks/graph';
import { runPipeline } from '../../src/core/pipeline/generate';
import { LAVAPIPE_ICD } from '../node-gpu/dawn';
import { decodePng, encodePng } from '../node-gpu/png';
import { openNodeGpu } from '../node-gpu/runtime';
import { loadNodeModel, type NodeSessions } from './load-model';
import { readRunSettings } from './settings';

class UsageError extends Error {}

async function sessionsFor(backend: string, precision: string): Promise<{ runtime: NodeSessions; adapter: string }> {
  if (precision !== 'auto' && precision !== 'fp16' && precision !== 'fp32') {
    throw new UsageError(`--precision must be auto, fp16 or fp32 (got ${precision}).`);
  }
  if (backend === 'wasm') {
    if (precision === 'fp16')
      throw new UsageError('--precision fp16 needs --backend webgpu (WASM computes in float32).');
    const ort = await import('onnxruntime-web/wasm');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return {
      adapter: 'wasm',
      runtime: {
        ort,
        backend: 'wasm',
        precision: 'float32',
        create: (model, externalData) =>
          ort.InferenceSession.create(model, {
            executionProviders: ['wasm'],
            graphOptimizationLevel: 'all',
            ...(externalData.length ? { externalData } : {}),
          }),
      },
    };
  }
  if (backend !== 'webgpu') throw new UsageError(`--backend must be webgpu or wasm (got ${backend}).`);
  const gpu = await openNodeGpu(process.env['LATENT_LAVAPIPE'] === '1' ? { icd: LAVAPIPE_ICD } : {});
  const f16 = gpu.adapter.shaderF16;
  if (precision === 'fp16' && !f16) {
    throw new UsageError(
      `This adapter (${gpu.adapter.description || gpu.adapter.vendor}) has no shader-f16, so it cannot compute in fp16.`,
    );
  }
  const chosen: Precision = precision === 'fp32' ? 'float32' : f16 ? 'float16' : 'float32';
  return {
    adapter: [gpu.adapter.vendor, gpu.adapter.architecture, gpu.adapter.description].filter(Boolean).join(' · '),
    runtime: {
      ort: gpu.ort,
      backend: 'webgpu',
      precision: chosen,
      create: gpu.session,
      maxBindingBytes: gpu.adapter.maxStorageBufferBindingSize,
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      settings: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'webgpu' },
      precision: { type: 'string', default: 'auto' },
      'init-image': { type: 'string' },
      mask: { type: 'string' },
      depth: { type: 'string' },
    },
  });
  if (!values.model || !values.settings || !values.out) {
    throw new UsageError(
      'Usage: npm run generate -- --model <folder, URL or file> --settings <run.json> --out <file.png>',
    );
  }
  const png = (path: string | undefined) =>
    path === undefined ? undefined : { ...decodePng(new Uint8Array(readFileSync(path)), path), path };
  // The settings are checked before any model is loaded: a bad file costs nothing.
  const run = readRunSettings(values.settings, {
    initImage: png(values['init-image']),
    mask: png(values.mask),
    depth: png(values.depth),
  });
  const started = performance.now();
  const { runtime, adapter } = await sessionsFor(values.backend, values.precision);
  const model = await loadNodeModel(values.model, runtime);
  const loadMs = performance.now() - started;
  const result = await runPipeline(model.models, run.request, { schedulerConfig: model.schedulerConfig });
  const { width, height, pixels } = result.image;
  const text = formatParameters({
    ...run.settings,
    model: values.model.split('/').filter(Boolean).pop() ?? values.model,
  });
  writeFileSync(values.out, addPngText(new Uint8Array(encodePng(width, height, pixels)), 'parameters', text));
  const round = (ms: number) => Math.round(ms);
  console.log(
    JSON.stringify({
      out: values.out,
      adapter,
      backend: values.backend,
      format: model.format,
      precision: model.precision,
      timings: {
        loadMs: round(loadMs),
        encodeMs: round(result.timings.encodeMs),
        denoiseMs: round(result.timings.denoiseMs),
        decodeMs: round(result.timings.decodeMs),
      },
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
