/**
 * The in-browser half of `npm run bench`: times whole generations phase by phase inside the
 * worker, interleaved with bare session.runs of the same UNet (so drift and noise hit both
 * alike), and counts GPU→CPU reads during the denoising steps.
 */
import type { Models } from '../../core/pipeline/models';
import { txt2img } from '../../core/pipeline/txt2img';
import type { SchedulerConfigJson } from '../../core/schedulers/types';
import { TorchGenerator } from '../../core/math/random';
import { tensor, type Tensor } from '../../core/math/tensor';
import type { BenchGraphParams, BenchGraphResult, BenchParams, BenchResult, Stats } from '../../protocol/dev-messages';
import type { OnnxModels } from '../runtime/onnx-models';
import { componentSource } from '../runtime/safetensors-sessions';
import { unetGraph } from '../../core/networks';
import type { OrtWeb } from '../runtime/ort-env';
import type { Tensor as OrtTensor } from 'onnxruntime-common';

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { median: round(at(0.5)), p90: round(at(0.9)), n: samples.length };
}

function isOnnxModels(models: Models): models is OnnxModels {
  return 'unetFeeds' in models && 'unetRunMs' in models;
}

export interface BenchContext {
  backend: 'webgpu' | 'wasm';
  threads: number;
  /** Times session.run of an ONNX file with this backend (zeros for its static inputs). */
  timeGraph?: (url: string, repeats: number) => Promise<number[]>;
  /** Resolves when the GPU has finished submitted work (WebGPU), so a bare run is timed to completion. */
  settled?: () => Promise<void>;
}

/** Counts mapAsync(READ) calls by buffer size while `active` (WebGPU only). */
function readbackCounter(): { sizes: number[]; active: boolean; restore(): void } | null {
  if (typeof GPUBuffer === 'undefined') return null;
  const proto = GPUBuffer.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const original = proto.mapAsync;
  const counter = {
    sizes: [] as number[],
    active: false,
    restore: () => void (proto.mapAsync = original),
  };
  proto.mapAsync = function (this: GPUBuffer, mode: number, offset?: number, size?: number) {
    if (counter.active && mode & GPUMapMode.READ) counter.sizes.push(size ?? this.size - (offset ?? 0));
    return original.call(this, mode, offset, size);
  };
  return counter;
}

/**
 * GPU buffers created and not destroyed since the first benchmark, counted on the device's own
 * createBuffer/destroy. ORT pools freed buffers, so with nothing leaked the count settles after
 * the first generation; a tensor never disposed keeps its buffer out of the pool and it grows.
 */
let liveBuffers: Set<GPUBuffer> | null = null;
function watchGpuBuffers(): Set<GPUBuffer> | null {
  if (typeof GPUDevice === 'undefined') return null;
  if (liveBuffers) return liveBuffers;
  const live = new Set<GPUBuffer>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    live.add(buffer);
    return buffer;
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    live.delete(this);
    return destroy.call(this);
  };
  liveBuffers = live;
  return live;
}

export async function runBench(
  models: Models,
  schedulerConfig: SchedulerConfigJson,
  params: BenchParams,
  context: BenchContext,
): Promise<BenchResult> {
  if (!isOnnxModels(models)) throw new Error('The benchmark needs the ONNX Runtime models.');
  const { width, height, steps, runs } = params;
  const resident = params.resident !== false && models.denoiseLinear !== undefined;
  const stepTotal: number[] = [];
  const sessionRun: number[] = [];
  const appUnet: number[] = [];
  const textEncoder: number[] = [];
  const vaeDecode: number[] = [];
  const total: number[] = [];
  const bare: number[] = [];
  const latentBytes = 4 * (width / 8) * (height / 8) * 4;
  let stepReads: number[] = [];
  let imageReads: number[] = [];

  // The app's UNet call, timed from outside; session.run is timed inside the adapter. The warm-up
  // run's inputs are kept, so the bare runs repeat the app's own calls; timed runs copy nothing.
  const runAppUnet: number[] = [];
  const calls: Record<string, OrtTensor>[] = [];
  let recording = true;
  const timed: Models = {
    ...models,
    unet: async (sample: Tensor, t: number, text: Tensor) => {
      if (recording) calls.push(models.unetFeeds(tensor(sample.data.slice(), sample.dims), t, text));
      const started = performance.now();
      const out = await models.unet(sample, t, text);
      runAppUnet.push(performance.now() - started);
      return out;
    },
  };
  if (!resident) delete (timed as { denoiseLinear?: unknown }).denoiseLinear;

  // A bare session.run with the inputs the app would build, prebuilt once.
  const latentShape = [2, 4, height / 8, width / 8];
  const sample = tensor(new TorchGenerator(7).randn(latentShape.reduce((a, b) => a * b, 1)), latentShape);
  const ids = (await models.tokenize('A painting of a flooble')).ids;
  const text = (await models.encodeText(ids)).hidden;
  const text2 = tensor(new Float32Array([...text.data, ...text.data]), [2, ...text.dims.slice(1)]);
  const fallbackFeeds = models.unetFeeds(sample, 501, text2);
  const bareRun = async (feeds: Record<string, OrtTensor>): Promise<number> => {
    const started = performance.now();
    const out = await models.sessions.unet.run(feeds);
    await context.settled?.();
    const elapsed = performance.now() - started;
    for (const value of Object.values(out)) value.dispose();
    return elapsed;
  };

  const counter = context.backend === 'webgpu' ? readbackCounter() : null;
  const buffers = context.backend === 'webgpu' ? watchGpuBuffers() : null;
  try {
    for (let run = 0; run <= runs; run++) {
      models.unetRunMs.length = 0;
      runAppUnet.length = 0;
      recording = run === 0;
      const marks: number[] = [];
      if (counter) counter.sizes = [];
      const stepSizes: number[] = [];
      const started = performance.now();
      if (counter) counter.active = true;
      const result = await txt2img(
        timed,
        {
          prompt: 'A painting of a flooble',
          negativePrompt: '',
          guidanceScale: 7.5,
          steps,
          seed: BigInt(run),
          width,
          height,
          scheduler: 'ddim',
        },
        {
          schedulerConfig,
          onProgress: (p) => {
            if (p.phase !== 'denoise') return;
            marks.push(performance.now());
            // Reads between the first and the last step's report belong to the steps.
            if (counter && p.step === 0) counter.sizes = [];
            if (counter && p.step === p.totalSteps) stepSizes.push(...counter.sizes);
          },
        },
      );
      const elapsed = performance.now() - started;
      if (counter) counter.active = false;
      // Bare runs between generations, as many as the steps, so both see the same conditions.
      const bareBlock: number[] = [];
      for (let i = 0; i < steps; i++) bareBlock.push(await bareRun(calls[i] ?? fallbackFeeds));
      // The first run warms up (shader compilation, allocations) and is not counted.
      if (run === 0) continue;
      bare.push(...bareBlock);
      appUnet.push(...runAppUnet);
      for (let i = 1; i < marks.length; i++) {
        stepTotal.push(marks[i]! - marks[i - 1]!);
        // The resident loop makes no adapter UNet call, so it has no session.run times of its own.
        const run = models.unetRunMs[i - 1];
        if (run !== undefined) sessionRun.push(run);
      }
      textEncoder.push(result.timings.encodeMs);
      vaeDecode.push(result.timings.decodeMs);
      total.push(elapsed);
      stepReads = stepSizes;
      imageReads = counter ? counter.sizes : [];
    }
  } finally {
    counter?.restore();
  }
  const bareStats = stats(bare);
  const totalStats = stats(total);
  const stepStats = stats(stepTotal);
  const overheadVsBare = stats(stepTotal.map((s) => s - bareStats.median));
  // On WebGPU the UNet's output stays on the GPU, so session.run returns once the work is queued and
  // "step minus session.run" would count the GPU's own time: only the bare comparison means anything.
  const jsOverhead = context.backend === 'webgpu' ? null : stats(stepTotal.map((s, i) => s - sessionRun[i]!));
  const unetStep = stats(resident ? [] : appUnet);
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  const big = (sizes: number[]) => sizes.filter((s) => s >= latentBytes).length;
  return {
    backend: context.backend,
    threads: context.threads,
    width,
    height,
    steps,
    runs,
    loop: resident ? 'linear' : 'plain',
    phases: {
      textEncoderMs: stats(textEncoder),
      unetStepMs: unetStep,
      sessionRunMs: stats(sessionRun),
      bareSessionRunMs: bareStats,
      stepTotalMs: stepStats,
      jsOverheadPerStepMs: jsOverhead,
      overheadVsBarePerStepMs: overheadVsBare,
      vaeDecodeMs: stats(vaeDecode),
      totalMs: totalStats,
    },
    appToBareRatio: resident ? null : ratio(unetStep.median, bareStats.median),
    appStepToBareRatio: ratio(stepStats.median, bareStats.median),
    overheadShareOfTotal: Math.round(((overheadVsBare.median * steps) / totalStats.median) * 10000) / 10000,
    imagesPerMinute: Math.round((60_000 / totalStats.median) * 10) / 10,
    readbacksPerStep: counter
      ? { latentSized: ratio(big(stepReads), steps), all: ratio(stepReads.length, steps) }
      : null,
    readbacksPerImage: counter ? big(imageReads) : null,
    liveGpuBuffers: buffers ? buffers.size : null,
    ...(params.graphUrl && context.timeGraph
      ? await (async () => {
          const samples = await context.timeGraph!(params.graphUrl!, params.repeats ?? 20);
          return { graph: { url: params.graphUrl!, runMs: stats(samples), samples } };
        })()
      : {}),
  };
}

/** session.run of an ONNX file on a backend, warm-up excluded; every input zeros of its static shape. */
export async function timeGraph(
  ort: OrtWeb,
  url: string,
  backend: 'webgpu' | 'wasm',
  repeats: number,
): Promise<number[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const session = await ort.InferenceSession.create(new Uint8Array(await response.arrayBuffer()), {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const m of session.inputMetadata) {
      const dims = m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : [];
      feeds[m.name] = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    const times: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const started = performance.now();
      const out = await session.run(feeds);
      if (i > 0) times.push(performance.now() - started);
      for (const value of Object.values(out)) value.dispose();
    }
    return times;
  } finally {
    await session.release();
  }
}

/** Live GPU buffer bytes on every device, and their peak since the last reset (WebGPU only). */
let gpuBytes: { live: number; peak: number; sizes: WeakMap<GPUBuffer, number> } | null = null;
function watchGpuBytes(): typeof gpuBytes {
  if (typeof GPUDevice === 'undefined') return null;
  if (gpuBytes) return gpuBytes;
  const watch = { live: 0, peak: 0, sizes: new WeakMap<GPUBuffer, number>() };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    watch.sizes.set(buffer, descriptor.size);
    watch.live += descriptor.size;
    watch.peak = Math.max(watch.peak, watch.live);
    return buffer;
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, and called with its own `this`
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    watch.live -= watch.sizes.get(this) ?? 0;
    watch.sizes.delete(this);
    return destroy.call(this);
  };
  gpuBytes = watch;
  return watch;
}

const ZEROS: Record<string, (n: number) => OrtTensor['data']> = {
  float32: (n) => new Float32Array(n),
  float16: (n) => new Uint16Array(n),
  int64: (n) => new BigInt64Array(n),
  int32: (n) => new Int32Array(n),
};

/** One graph on a backend: session creation from bytes in memory, then timed runs on zeros. */
export async function benchGraph(
  ort: OrtWeb,
  backend: 'webgpu' | 'wasm',
  params: BenchGraphParams,
): Promise<BenchGraphResult> {
  const fetchBytes = async (url: string) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const watch = backend === 'webgpu' ? watchGpuBytes() : null;
  const baseline = watch?.live ?? 0;
  if (watch) watch.peak = watch.live;
  let model: Uint8Array;
  // Held in an object so the references can be dropped once ORT has its own copies.
  const held: { externalData: { path: string; data: Uint8Array }[] } = { externalData: [] };
  let buildMs: number | null = null;
  let bytes: number;
  if (params.checkpoint) {
    const { configUrl, weightsUrl, linear } = params.checkpoint;
    const config = JSON.parse(new TextDecoder().decode(await fetchBytes(configUrl))) as unknown;
    const weights = await fetchBytes(weightsUrl);
    bytes = weights.length;
    const t = performance.now();
    // The loader's own path: headers, fp16 widened to float32 shards, the graph.
    const { source, external } = componentSource({
      configPath: 'unet/config.json',
      config,
      weights: [{ path: 'unet/diffusion_pytorch_model.safetensors', bytes: weights }],
    });
    model = unetGraph(source, { padInputChannels: true, ...(linear ? { linear } : {}) }).model;
    held.externalData = external;
    buildMs = Math.round((performance.now() - t) * 10) / 10;
  } else {
    model = await fetchBytes(params.url!);
    const external = params.external ? await fetchBytes(params.external.url) : null;
    if (external && params.external) held.externalData = [{ path: params.external.path, data: external }];
    bytes = model.length + (external?.length ?? 0);
  }
  const started = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    ...(held.externalData.length > 0 ? { externalData: held.externalData } : {}),
  });
  // The weights are ORT's now (WASM heap or GPU): drop ours before the runs.
  held.externalData = [];
  const createMs = performance.now() - started;
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const m of session.inputMetadata) {
      if (!m.isTensor) throw new Error(`${m.name} is not a tensor input`);
      const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : (params.dims?.[String(d)] ?? 1)));
      const zeros = ZEROS[m.type];
      if (!zeros) throw new Error(`${m.name} has type ${m.type}`);
      feeds[m.name] = new ort.Tensor(m.type as 'float32', zeros(dims.reduce((a, b) => a * b, 1)) as Float32Array, dims);
    }
    const times: number[] = [];
    for (let i = 0; i <= params.repeats; i++) {
      const t = performance.now();
      const out = await session.run(feeds);
      // WebGPU's run resolves with outputs read back, so the time includes the GPU's work.
      if (i > 0) times.push(performance.now() - t);
      for (const value of Object.values(out)) value.dispose();
    }
    return {
      backend,
      bytes,
      buildMs,
      createMs: Math.round(createMs * 10) / 10,
      runMs: stats(times),
      peakGpuBytes: watch ? watch.peak - baseline : null,
    };
  } finally {
    await session.release();
  }
}
