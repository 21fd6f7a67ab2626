/**
 * `npm run bench:gpu [-- --small] [--latent N] [--networks unet,vae_decoder,sdxl_unet]
 * [--precisions float32,float16] [--runs 5] [--out FILE] [--pack DIR]`: SD 1.5's full-size UNet
 * (random fp16 weights made here) at batch 2 (guidance) and its VAE decoder, and SDXL base's UNet
 * in float16 at batch 2 with 128×128 latents (1024², its pooled text and time ids; 2.57 B
 * parameters, so float16 only: in float32 it is 10.3 GB), built by the app's own
 * graph builder and session code, on any WebGPU adapter Node reaches through Dawn. UNet variants: float32 as the app builds it there
 * (with its fused kernels, see graph-form.ts), float32 with no fused kernel, float16, and float16
 * with ORT's graph capture (inputs and outputs on the GPU; its output is compared with the plain
 * float16 run's). Per variant: session creation, median ms per call, the most JS memory held while
 * loading (against the weights file), GPU buffers held. `--small` runs 8×8 latents and a 64×64
 * decode (lavapipe); the default is 64×64 latents and a 512×512 decode. `--pack DIR` writes
 * DIR/bench.mjs and the files it loads, to run on a machine with nothing but Node (see pack.ts).
 * LATENT_LAVAPIPE=1 pins Mesa's lavapipe. JSON goes to bench/results/gpu.json (or --out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from 'onnxruntime-common';
import { unetGraph, WeightSet } from '../../src/core/networks';
import { readVaeConfig } from '../../src/core/networks/config';
import { buildVaeDecoder } from '../../src/core/networks/vae';
import type { Precision } from '../../src/core/networks/graph';
import { graphForm } from '../../src/worker/runtime/graph-form';
import { componentSource } from '../../src/worker/runtime/safetensors-sessions';
import { LAVAPIPE_ICD } from '../node-gpu/dawn';
import { openNodeGpu, type NodeGpu } from '../node-gpu/runtime';
import { fullSizeSdxlUnet, fullSizeUnet, fullSizeVaeDecoder, SD15_UNET, SD15_VAE, SDXL_UNET } from './full-size';

/** GPU buffer bytes alive now, and the most since the last reset (every createBuffer counted). */
function trackGpuBuffers() {
  const sizes = new WeakMap<GPUBuffer, number>();
  let live = 0;
  let peak = 0;
  type CreateBuffer = (this: GPUDevice, descriptor: GPUBufferDescriptor) => GPUBuffer;
  const proto = (globalThis as unknown as { GPUDevice: { prototype: { createBuffer: CreateBuffer } } }).GPUDevice
    .prototype;
  const create = proto.createBuffer;
  proto.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    sizes.set(buffer, descriptor.size);
    live += descriptor.size;
    peak = Math.max(peak, live);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      live -= sizes.get(buffer) ?? 0;
      sizes.delete(buffer);
      destroy();
    };
    return buffer;
  };
  return {
    live: () => live,
    peak: () => peak,
    reset: () => (peak = live),
  };
}

/** The most JS memory (ArrayBuffers and heap) seen while `work` runs, sampled every 20 ms. */
async function jsPeak<T>(work: () => Promise<T>): Promise<{ value: T; peakBytes: number }> {
  const held = () => {
    const m = process.memoryUsage();
    return m.arrayBuffers + m.heapUsed;
  };
  let peak = held();
  const timer = setInterval(() => (peak = Math.max(peak, held())), 20);
  try {
    const value = await work();
    peak = Math.max(peak, held());
    return { value, peakBytes: peak };
  } finally {
    clearInterval(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** A repeatable pattern in [-0.5, 0.5]: outputs worth comparing between variants. */
const pattern = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5);

interface Variant {
  network: 'unet' | 'vae_decoder' | 'sdxl_unet';
  precision: Precision;
  /** The fused kernels the app uses for this compute type on WebGPU, or none. */
  fused: boolean;
  /** ORT's enableGraphCapture, with inputs and outputs as GPU buffers. */
  capture: boolean;
}

interface Row extends Variant {
  kernels: readonly string[];
  shape: string;
  fileMiB: number;
  createMs: number;
  medianMs: number;
  runsMs: number[];
  jsPeakOverBaselineMiB: number;
  gpuWeightsAndStateMiB: number;
  gpuPeakMiB: number;
  /** Graph capture: ‖a−b‖∞/‖b‖∞ of its output against the same graph run without capture. */
  againstUncapturedRelError?: number;
}

function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return Number((diff / ref).toExponential(2));
}

async function bench(
  gpu: NodeGpu,
  buffers: ReturnType<typeof trackGpuBuffers>,
  variant: Variant,
  options: { latent: number; runs: number },
  uncaptured: Map<string, Float32Array>,
): Promise<Row> {
  const { latent, runs: timedRuns } = options;
  const { network, precision, fused, capture } = variant;
  const unet = network !== 'vae_decoder';
  const sdxl = network === 'sdxl_unet';
  // SDXL's own size: 128×128 latents (1024²) unless --small asked for lavapipe's.
  const side = sdxl && latent === 64 ? 128 : latent;
  const form = { ...graphForm('webgpu', precision), ...(fused ? {} : { fused: [] }) };
  const baseline = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  const gpuBefore = buffers.live();
  buffers.reset();
  const made = await jsPeak(async () => {
    // The file as a download would hold it (SDXL's in parts), then the app's own path: convert, build, create.
    const files = sdxl ? fullSizeSdxlUnet().files : [(unet ? fullSizeUnet() : fullSizeVaeDecoder()).bytes];
    const part = unet ? 'unet' : 'vae';
    const { source, external } = componentSource(
      {
        configPath: `${part}/config.json`,
        config: sdxl ? SDXL_UNET : unet ? SD15_UNET : SD15_VAE,
        weights: files.map((bytes, i) => ({
          path: `${part}/diffusion_pytorch_model.fp16.safetensors#part-${i}`,
          bytes,
        })),
      },
      precision,
    );
    const model = unet
      ? unetGraph(source, { ...form, padInputChannels: true }).model
      : buildVaeDecoder(readVaeConfig(source.configPath, source.config), new WeightSet(source.files), form);
    // What the graph really holds (the VAE has no feed-forward for BiasSplitGelu, for one).
    const bytes = Buffer.from(model);
    const kernels = form.fused.filter((k) => bytes.includes(k));
    const t = performance.now();
    const session = await gpu.session(
      model,
      external,
      capture ? { enableGraphCapture: true, preferredOutputLocation: 'gpu-buffer' } : {},
    );
    return { session, kernels, createMs: performance.now() - t, fileBytes: files.reduce((n, f) => n + f.length, 0) };
  });
  const { session, kernels, createMs, fileBytes } = made.value;
  const gpuHeld = buffers.live() - gpuBefore;
  const shapes: Record<string, number[]> = sdxl
    ? {
        sample: [2, 4, side, side],
        timestep: [2],
        encoder_hidden_states: [2, 77, 2048],
        text_embeds: [2, 1280],
        time_ids: [2, 6],
      }
    : unet
      ? { sample: [2, 4, latent, latent], timestep: [2], encoder_hidden_states: [2, 77, 768] }
      : { latent_sample: [1, 4, latent, latent] };
  const device = capture ? await gpu.ort.env.webgpu.device : null;
  const feeds: Record<string, Tensor> = {};
  for (const [name, dims] of Object.entries(shapes)) {
    const data =
      name === 'timestep'
        ? Float32Array.from([999, 999])
        : name === 'time_ids'
          ? Float32Array.of(side * 8, side * 8, 0, 0, side * 8, side * 8, side * 8, side * 8, 0, 0, side * 8, side * 8)
          : pattern(dims.reduce((a, b) => a * b, 1));
    if (!device) {
      feeds[name] = new gpu.ort.Tensor('float32', data, dims);
      continue;
    }
    // Graph capture replays recorded dispatches: its inputs must already be GPU buffers.
    const buffer = device.createBuffer({
      size: Math.ceil(data.byteLength / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    feeds[name] = gpu.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims });
  }
  const outputName = unet ? 'out_sample' : 'sample';
  const run = async () => {
    const result = (await session.run(feeds))[outputName]!;
    return (await result.getData()) as Float32Array;
  };
  const first = await run();
  const runs: number[] = [];
  let last = first;
  for (let i = 0; i < timedRuns; i++) {
    const t = performance.now();
    last = await run();
    runs.push(performance.now() - t);
  }
  await session.release();
  const key = `${network}:${precision}:${fused}`;
  if (!capture) uncaptured.set(key, last);
  const reference = uncaptured.get(key);
  return {
    ...variant,
    kernels,
    shape: unet ? `batch 2, ${side}×${side} latents` : `${latent * 8}×${latent * 8} image`,
    fileMiB: mib(fileBytes),
    createMs: Math.round(createMs),
    medianMs: Math.round(median(runs) * 10) / 10,
    runsMs: runs.map((r) => Math.round(r)),
    jsPeakOverBaselineMiB: mib(made.peakBytes - baseline),
    gpuWeightsAndStateMiB: mib(gpuHeld),
    gpuPeakMiB: mib(buffers.peak() - gpuBefore),
    ...(capture && reference ? { againstUncapturedRelError: relError(last, reference) } : {}),
  };
}

type Outcome = Row | (Variant & { error: string });

/** The variants run on this adapter: float32 (with and without its fused kernels), float16, capture. */
function variants(wanted: string[], precisions: string[], shaderF16: boolean): Variant[] {
  const out: Variant[] = [];
  const plain = { fused: false, capture: false };
  const fused = { fused: true, capture: false };
  if (wanted.includes('unet')) {
    out.push({ network: 'unet', precision: 'float32', ...fused });
    if (graphForm('webgpu', 'float32').fused.length) out.push({ network: 'unet', precision: 'float32', ...plain });
    if (shaderF16) {
      out.push({ network: 'unet', precision: 'float16', ...fused });
      out.push({ network: 'unet', precision: 'float16', fused: true, capture: true });
    }
  }
  if (wanted.includes('vae_decoder')) {
    out.push({ network: 'vae_decoder', precision: 'float32', ...fused });
    if (shaderF16) out.push({ network: 'vae_decoder', precision: 'float16', ...fused });
  }
  // SDXL runs on shader-f16 adapters only (see src/worker/loading/fit.ts).
  if (wanted.includes('sdxl_unet') && shaderF16) out.push({ network: 'sdxl_unet', precision: 'float16', ...fused });
  return out.filter((v) => precisions.includes(v.precision));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: 'boolean', default: false },
      // The latent side (the image is 8× it): 64 by default, 8 with --small.
      latent: { type: 'string' },
      // e.g. `--networks vae_decoder`: one network only (the UNet takes minutes on lavapipe).
      networks: { type: 'string', default: 'unet,vae_decoder,sdxl_unet' },
      precisions: { type: 'string', default: 'float32,float16' },
      runs: { type: 'string', default: '5' },
      out: { type: 'string', default: 'bench/results/gpu.json' },
      pack: { type: 'string' },
    },
  });
  if (values.pack) {
    const { packBench } = await import('./pack');
    const packed = await packBench(values.pack);
    for (const f of packed.files) console.log(`${mib(f.bytes).toFixed(1).padStart(7)} MiB  ${f.path}`);
    console.log(
      `${mib(packed.bytes).toFixed(1).padStart(7)} MiB  in ${values.pack}; run: node ${values.pack}/bench.mjs`,
    );
    return;
  }
  const small = values.small;
  const latent = Number(values.latent ?? (small ? 8 : 64));
  if (!Number.isInteger(latent) || latent < 1)
    throw new Error(`--latent must be a whole number ≥ 1 (got ${values.latent}).`);
  const gpu = await openNodeGpu(process.env['LATENT_LAVAPIPE'] === '1' ? { icd: LAVAPIPE_ICD } : {});
  const buffers = trackGpuBuffers();
  const uncaptured = new Map<string, Float32Array>();
  const rows: Outcome[] = [];
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1 (got ${values.runs}).`);
  const wanted = variants(values.networks.split(','), values.precisions.split(','), gpu.adapter.shaderF16);
  for (const variant of wanted) {
    // One variant failing (an adapter limit, a kernel the driver rejects) is a result too.
    const row: Outcome = await bench(gpu, buffers, variant, { latent, runs }, uncaptured).catch((error: unknown) => ({
      ...variant,
      error: error instanceof Error ? error.message.slice(0, 500) : String(error),
    }));
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  const result = {
    date: new Date().toISOString(),
    adapter: gpu.adapter,
    small,
    latent,
    notes: [
      'SD 1.5 UNet and VAE decoder configs and SDXL base 1.0 UNet config, random fp16 weights; float32 rows widen them per tensor as the app does.',
      'kernels: the onnxruntime contrib kernels in the graph (see src/worker/runtime/graph-form.ts); capture: ORT graph capture with inputs and outputs on the GPU.',
      'jsPeakOverBaselineMiB: the most ArrayBuffer + heap memory above the start, while the file was made, converted and the session created.',
      'gpuWeightsAndStateMiB: GPU buffers still held once the session exists (weights and ORT state); gpuPeakMiB: the most during creation and runs.',
    ],
    rows,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${values.out} written`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
