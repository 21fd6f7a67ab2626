/**
 * `npm run bench:gpu [-- --small]`: SD 1.5's full-size UNet (random fp16 weights made here) at
 * batch 2 (guidance) and its VAE decoder, built by the app's own graph builder and session code,
 * on any WebGPU adapter Node reaches through Dawn: float32 vs float16. Per variant: session
 * creation, median ms per call, the most JS memory held while loading (against the weights file),
 * GPU buffers held. `--small` runs 8×8 latents and a 64×64 decode (lavapipe); the default is
 * 64×64 latents and a 512×512 decode. LATENT_LAVAPIPE=1 pins Mesa's lavapipe. JSON goes to
 * bench/results/gpu.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { unetGraph, WeightSet } from '../../src/core/networks';
import { readVaeConfig } from '../../src/core/networks/config';
import { buildVaeDecoder } from '../../src/core/networks/vae';
import type { Precision } from '../../src/core/networks/graph';
import { componentSource } from '../../src/worker/runtime/safetensors-sessions';
import { LAVAPIPE_ICD } from '../node-gpu/dawn';
import { openNodeGpu, type NodeGpu } from '../node-gpu/runtime';
import { fullSizeUnet, fullSizeVaeDecoder, SD15_UNET, SD15_VAE } from './full-size';

const RUNS = 5;

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

async function timeRuns(session: InferenceSession, feeds: Record<string, Tensor>): Promise<number[]> {
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  return times;
}

interface Row {
  network: 'unet' | 'vae_decoder';
  precision: Precision;
  shape: string;
  fileMiB: number;
  createMs: number;
  medianMs: number;
  runsMs: number[];
  jsPeakOverBaselineMiB: number;
  gpuWeightsAndStateMiB: number;
  gpuPeakMiB: number;
}

async function bench(
  gpu: NodeGpu,
  buffers: ReturnType<typeof trackGpuBuffers>,
  network: Row['network'],
  precision: Precision,
  small: boolean,
): Promise<Row> {
  const unet = network === 'unet';
  const baseline = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  const gpuBefore = buffers.live();
  buffers.reset();
  const made = await jsPeak(async () => {
    // The file as a download would hold it, then the app's own path: convert, build, create.
    const weights = unet ? fullSizeUnet() : fullSizeVaeDecoder();
    const part = unet ? 'unet' : 'vae';
    const { source, external } = componentSource(
      {
        configPath: `${part}/config.json`,
        config: unet ? SD15_UNET : SD15_VAE,
        weights: [{ path: `${part}/diffusion_pytorch_model.fp16.safetensors`, bytes: weights.bytes }],
      },
      precision,
    );
    const model = unet
      ? unetGraph(source, { precision, padInputChannels: true }).model
      : buildVaeDecoder(readVaeConfig(source.configPath, source.config), new WeightSet(source.files), { precision });
    const t = performance.now();
    const session = await gpu.session(model, external);
    return { session, createMs: performance.now() - t, fileBytes: weights.bytes.length };
  });
  const { session, createMs, fileBytes } = made.value;
  const gpuHeld = buffers.live() - gpuBefore;
  const latent = small ? 8 : 64;
  const { Tensor } = gpu.ort;
  const zeros = (dims: number[]) => new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  const feeds: Record<string, Tensor> = unet
    ? {
        sample: zeros([2, 4, latent, latent]),
        timestep: new Tensor('float32', Float32Array.from([999, 999]), [2]),
        encoder_hidden_states: zeros([2, 77, 768]),
      }
    : { latent_sample: zeros([1, 4, latent, latent]) };
  const runs = await timeRuns(session, feeds);
  await session.release();
  return {
    network,
    precision,
    shape: unet ? `batch 2, ${latent}×${latent} latents` : `${latent * 8}×${latent * 8} image`,
    fileMiB: mib(fileBytes),
    createMs: Math.round(createMs),
    medianMs: Math.round(median(runs) * 10) / 10,
    runsMs: runs.map((r) => Math.round(r)),
    jsPeakOverBaselineMiB: mib(made.peakBytes - baseline),
    gpuWeightsAndStateMiB: mib(gpuHeld),
    gpuPeakMiB: mib(buffers.peak() - gpuBefore),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: 'boolean', default: false },
      // e.g. `--networks vae_decoder`: one network only (the UNet takes minutes on lavapipe).
      networks: { type: 'string', default: 'unet,vae_decoder' },
    },
  });
  const small = values.small;
  const wanted = values.networks.split(',');
  const gpu = await openNodeGpu(process.env['LATENT_LAVAPIPE'] === '1' ? { icd: LAVAPIPE_ICD } : {});
  const buffers = trackGpuBuffers();
  const precisions: Precision[] = gpu.adapter.shaderF16 ? ['float32', 'float16'] : ['float32'];
  const rows: Row[] = [];
  for (const network of (['unet', 'vae_decoder'] as const).filter((n) => wanted.includes(n))) {
    for (const precision of precisions) {
      const row = await bench(gpu, buffers, network, precision, small);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
  const result = {
    date: new Date().toISOString(),
    adapter: gpu.adapter,
    small,
    notes: [
      'SD 1.5 UNet and VAE decoder configs, random fp16 weights; float32 rows widen them per tensor as the app does.',
      'jsPeakOverBaselineMiB: the most ArrayBuffer + heap memory above the start, while the file was made, converted and the session created.',
      'gpuWeightsAndStateMiB: GPU buffers still held once the session exists (weights and ORT state); gpuPeakMiB: the most during creation and runs.',
    ],
    rows,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/gpu.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('bench/results/gpu.json written');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
