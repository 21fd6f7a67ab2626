/**
 * Dispatches protocol messages to the pipeline. Knows nothing of Worker globals or ONNX Runtime
 * (both come in through `deps`), so Node tests drive it with fake or onnxruntime-node models.
 */
import {
  CancelledError,
  DeviceLostError,
  LatentStudioError,
  ModelError,
  serializeError,
  ValidationError,
} from '../../core/errors';
import type { RgbaImage } from '../../core/image/rgba';
import type { PipelineOptions } from '../../core/pipeline/options';
import { planeToRgba, type Plane } from '../../core/image/planes';
import { compareGrid } from '../../core/pipeline/compare';
import { vaeRoundTrip } from '../../core/pipeline/explore';
import { runPipeline } from '../../core/pipeline/generate';
import { latentsToRgbFast } from '../../core/pipeline/preview';
import { chwToRgba } from '../../core/image/rgba';
import { scale, tensor, type Tensor } from '../../core/math/tensor';
import type { Models } from '../../core/pipeline/models';
import type { SchedulerConfigJson } from '../../core/schedulers/types';
import { checkSchedulerFor } from '../../core/schedulers';
import type { SafetensorsHeader } from '../../core/formats/safetensors';
import type {
  BenchGraphParams,
  BenchGraphResult,
  BenchParams,
  BenchResult,
  TestHookAction,
} from '../../protocol/dev-messages';
import type {
  Backend,
  Capabilities,
  DepthEstimatorSource,
  DepthResult,
  LoadModelParams,
  LoadModelResult,
  PreviewRequest,
  Progress,
  TokenView,
} from '../../protocol/messages';
import { isRecord } from '../../core/json';
import { transferList, type FromWorker, type WireKind, type WireMap } from '../../protocol/wire';
import { isRequestKind, parseTestHook, PARSERS, type ParsedRequests, type WantedAdditions } from '../../protocol/requests';

export interface LoadedModel {
  models: Models;
  schedulerConfig: SchedulerConfigJson;
  result: LoadModelResult;
  dispose?(): Promise<void>;
  /**
   * The same model with LoRAs merged at their strengths and embeddings' trigger words added
   * (checkpoints only): the text encoder and UNet are rebuilt from bytes the worker kept, so
   * nothing is downloaded or re-parsed.
   */
  withAdditions?(additions: Additions): Promise<Models>;
}

export interface Additions {
  loras: readonly { name: string; file: LoraFile; scale: number }[];
  embeddings: readonly { name: string; file: LoraFile; trigger: string }[];
}

/** A LoRA file as the worker keeps it. */
export interface LoraFile {
  name: string;
  header: SafetensorsHeader;
  bytes: Uint8Array;
}

export interface HandlerDeps {
  post(message: FromWorker, transfer: ArrayBuffer[]): void;
  capabilities(): Promise<Capabilities>;
  loadModel(
    params: LoadModelParams,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel>;
  /** Why the GPU device was lost, or null while it is fine. */
  deviceLost?(): string | null;
  whenDeviceLost?(): Promise<string>;
  /** The in-browser benchmark (see workers/bench.ts). */
  bench?(model: LoadedModel, params: BenchParams): Promise<BenchResult>;
  benchGraph?(model: LoadedModel, params: BenchGraphParams): Promise<BenchGraphResult>;
  /** Fault injection for tests. */
  testHook?(action: TestHookAction): Promise<boolean>;
  /**
   * Lets queued messages (a cancel) run before the next network call. ONNX Runtime's WASM run
   * never returns to the event loop, so without this a cancel waited for the whole job.
   */
  yieldToEvents?: () => Promise<void>;
  /** Runs a depth estimator on an image; the map comes back at the image's size. */
  estimateDepth(
    image: RgbaImage,
    source: DepthEstimatorSource,
    backend: Backend,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<Plane>;
}

type Job = { id: number; controller: AbortController };

/** What a request's handler has besides its params: its job (for the signal) and its progress channel. */
interface Context {
  job: Job;
  onProgress: (progress: Progress) => void;
}

type Runners = { [K in WireKind]: (params: ParsedRequests[K], ctx: Context) => Promise<WireMap[K]['result']> };

/** x0 latents → a picture: through the VAE decoder, or the cheap linear map at latent size. */
async function previewImage(models: Models, x0: Tensor, kind: PreviewRequest['kind']): Promise<RgbaImage> {
  if (kind === 'fast') return latentsToRgbFast(x0);
  const decoded = await models.decode(tensor(scale(1 / models.info.vaeScalingFactor, x0.data), x0.dims));
  const [, , height, width] = decoded.dims as [number, number, number, number];
  return chwToRgba(decoded.data, width, height);
}

/** A depth plane as it crosses back: the numbers, and a grey picture to show. */
function depthResult(depth: Plane): DepthResult {
  return {
    width: depth.width,
    height: depth.height,
    data: depth.data.slice().buffer,
    pixels: planeToRgba(depth).pixels.buffer as ArrayBuffer,
  };
}

function deviceLostError(reason: string): DeviceLostError {
  return new DeviceLostError(
    `The GPU device was lost (${reason.replace(/\.$/, '')}). The app restarts its GPU runtime and reloads the model: press Generate again.`,
  );
}

const OUT_OF_MEMORY =
  /out of memory|\bOOM\b|failed to allocate|allocation fail|bad_alloc|maxBufferSize|maxStorageBufferBindingSize|exceeds? the max/i;

export function createHandler(deps: HandlerDeps): (message: unknown) => void {
  /** The model with a turn of the event loop before each network call (see yieldToEvents). */
  const withYields = (model: LoadedModel): LoadedModel => {
    const yieldNow = deps.yieldToEvents;
    if (!yieldNow) return model;
    // After the turn, a cancel that arrived meanwhile stops the job before the call, not after it.
    const pause = async (): Promise<void> => {
      await yieldNow();
      if (current?.controller.signal.aborted) throw new CancelledError();
    };
    const m = model.models;
    const models: Models = {
      ...m,
      tokenize: m.tokenize.bind(m),
      encodeText: async (ids) => (await pause(), m.encodeText(ids)),
      unet: async (sample, t, text, cond) => (await pause(), m.unet(sample, t, text, cond)),
      decode: async (latents) => (await pause(), m.decode(latents)),
      ...(m.encode ? { encode: async (image: Tensor) => (await pause(), m.encode!(image)) } : {}),
    };
    return { ...model, models };
  };

  /** Runtime failures in words a person can act on; our own errors pass through. */
  const explain = (error: unknown): unknown => {
    const lost = deps.deviceLost?.();
    if (lost && !(error instanceof CancelledError)) return deviceLostError(lost);
    if (error instanceof LatentStudioError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (OUT_OF_MEMORY.test(message)) {
      const adapter = loaded?.result.adapter;
      const limit = adapter
        ? ` This GPU allows ${Math.round(adapter.maxStorageBufferBindingSize / 2 ** 20)} MiB per buffer (maxStorageBufferBindingSize) and ${Math.round(adapter.maxBufferSize / 2 ** 20)} MiB in all per buffer (maxBufferSize).`
        : '';
      return new ModelError(
        `The model ran out of memory: ${message}.${limit} Try a smaller size, an fp16 model, or close other GPU-heavy tabs.`,
      );
    }
    return error;
  };

  const loraFiles = new Map<string, LoraFile>();
  /** The LoRA settings the loaded model's networks were last built with (null: unknown, rebuild). */
  let appliedLoras: string | null = '[]';
  /** The loaded model as loaded, before any LoRA (the one to merge into again). */
  let plain: Models | null = null;

  /** Rebuilds the model's networks when the LoRAs or their strengths changed since the last run. */
  async function useLoras(
    { loras: wanted, embeddings: triggers }: WantedAdditions,
    onProgress: (p: Progress) => void,
  ): Promise<void> {
    if (!loaded) return;
    const key = JSON.stringify([wanted, triggers]);
    if (key === appliedLoras) return;
    if ((wanted.length > 0 || triggers.length > 0) && !loaded.withAdditions) {
      throw new ValidationError(
        'LoRAs and embeddings need a diffusers checkpoint (safetensors); this model is an ONNX export.',
        'lora',
      );
    }
    const fileOf = (name: string, what: string) => {
      const file = loraFiles.get(name);
      if (!file) throw new ValidationError(`The ${what} "${name}" is not loaded: add its file again.`, 'lora');
      return file;
    };
    const additions: Additions = {
      loras: wanted.map((l) => ({ name: l.name, file: fileOf(l.name, 'LoRA'), scale: l.scale })),
      embeddings: triggers.map((e) => ({ name: e.name, file: fileOf(e.name, 'embedding'), trigger: e.trigger })),
    };
    onProgress({ kind: 'session', part: 'lora' });
    plain ??= loaded.models;
    const none = wanted.length === 0 && triggers.length === 0;
    let models: Models;
    try {
      models = none ? plain : withYields({ ...loaded, models: await loaded.withAdditions!(additions) }).models;
    } catch (error) {
      // The model's previous LoRA sessions may be released already: fall back to the plain model.
      loaded = { ...loaded, models: plain };
      appliedLoras = '[]';
      throw error;
    }
    loaded = { ...loaded, models };
    appliedLoras = key;
  }

  const jobs = new Map<number, Job>();
  /** The job the queue is running (requests run one at a time). */
  let current: Job | null = null;
  let loaded: LoadedModel | null = null;
  let estimator: DepthEstimatorSource | null = null;
  /** Requests run one after another: a generate waits for the model load before it. */
  let queue: Promise<void> = Promise.resolve();
  void deps.whenDeviceLost?.().then(() => {
    for (const job of jobs.values()) job.controller.abort();
  });

  const post = (message: FromWorker): void => deps.post(message, transferList(message));

  const requireLoaded = (): LoadedModel => {
    if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
    return loaded;
  };

  const runners: Runners = {
    capabilities: () => deps.capabilities(),
    loadModel: async (request, { job, onProgress }) => {
      const previous = loaded;
      loaded = null;
      await previous?.dispose?.();
      loaded = withYields(await deps.loadModel(request, onProgress, job.controller.signal));
      plain = loaded.models;
      appliedLoras = '[]';
      estimator = request.depthEstimator ?? null;
      return loaded.result;
    },
    addLora: ({ name, header, bytes }) => {
      loraFiles.set(name, { name, header, bytes });
      // A file of the same name replaces the old one: what was merged from it is stale.
      appliedLoras = null;
      return Promise.resolve({ name, tensors: header.tensors.size });
    },
    generate: async ({ request, additions, preview }, { job, onProgress }) => {
      const model = requireLoaded();
      await useLoras(additions, onProgress);
      checkSchedulerFor(request.scheduler, model.schedulerConfig, request.steps);
      const started = performance.now();
      const signal = job.controller.signal;
      if (request.mode === 'depth2img' && !request.depth) {
        onProgress({ kind: 'pipeline', phase: 'depth', step: 0, totalSteps: request.steps });
        request.depth = await estimate(request.image, requireLoaded(), onProgress, signal);
      }
      const current = requireLoaded();
      const output = await runPipeline(current.models, request, pipelineOptions(current, preview, job, onProgress));
      return {
        width: output.image.width,
        height: output.image.height,
        pixels: output.image.pixels.buffer as ArrayBuffer,
        seed: request.seed.toString(),
        truncated: output.truncated,
        backend: current.result.backend,
        timings: { ...output.timings, totalMs: performance.now() - started },
        ...(output.encoderLatents ? { encoderLatents: output.encoderLatents } : {}),
        ...(output.depth ? { depth: depthResult(output.depth) } : {}),
      };
    },
    compare: async ({ request, cells, additions, preview }, { job, onProgress }) => {
      const before = requireLoaded();
      for (const cell of cells) checkSchedulerFor(cell.scheduler, before.schedulerConfig, cell.steps);
      await useLoras(additions, onProgress);
      const started = performance.now();
      const model = requireLoaded();
      await compareGrid(model.models, request, cells, pipelineOptions(model, preview, job, onProgress), (index, r) =>
        onProgress({
          kind: 'cell',
          index,
          width: r.image.width,
          height: r.image.height,
          pixels: r.image.pixels.buffer as ArrayBuffer,
          timings: r.timings,
        }),
      );
      return { cells: cells.length, totalMs: performance.now() - started };
    },
    tokenize: async ({ text, additions }, { onProgress }) => {
      requireLoaded();
      await useLoras(additions, onProgress);
      const { models } = requireLoaded();
      const tokenized = await models.tokenize(text);
      const ids = Array.from(tokenized.ids);
      const special = models.specialTokens ?? { bos: 49406, eos: 49407, pad: 49407 };
      const view: TokenView = {
        ids,
        tokens: models.describeTokens?.(ids) ?? ids.map(String),
        used: tokenized.used,
        truncated: tokenized.truncated,
        bosId: special.bos,
        eosId: special.eos,
        padId: special.pad,
      };
      return view;
    },
    vaeRoundTrip: async ({ image }) => {
      const trip = await vaeRoundTrip(requireLoaded().models, image);
      return {
        width: image.width,
        height: image.height,
        pixels: trip.reconstruction.pixels.buffer as ArrayBuffer,
        latents: trip.latents.buffer as ArrayBuffer,
        channels: trip.channels,
        latentWidth: trip.latentWidth,
        latentHeight: trip.latentHeight,
        meanAbsError: trip.meanAbsError,
        psnr: trip.psnr,
      };
    },
    estimateDepth: async ({ image }, { job, onProgress }) =>
      depthResult(await estimate(image, requireLoaded(), onProgress, job.controller.signal)),
    bench: async (params) => {
      const model = requireLoaded();
      if (!deps.bench) throw new ValidationError('This worker has no benchmark.');
      return deps.bench(model, params);
    },
    benchGraph: async (params) => {
      const model = requireLoaded();
      if (!deps.benchGraph) throw new ValidationError('This worker has no benchmark.');
      return deps.benchGraph(model, params);
    },
    testHook: async ({ action }) => ({ done: (await deps.testHook?.(action)) ?? false }),
  };

  /** Parses the params at the edge and runs the kind's handler: the one place a kind meets its types. */
  const dispatch = <K extends WireKind>(kind: K, raw: Record<string, unknown>, ctx: Context) =>
    runners[kind](PARSERS[kind](raw), ctx);

  function pipelineOptions(
    model: LoadedModel,
    preview: PreviewRequest | null,
    job: Job,
    onProgress: (progress: Progress) => void,
  ): PipelineOptions {
    return {
      schedulerConfig: model.schedulerConfig,
      signal: job.controller.signal,
      onProgress: (p) => onProgress({ kind: 'pipeline', ...p }),
      ...(preview
        ? {
            preview: {
              every: preview.every,
              onPreview: async (step: number, totalSteps: number, x0: Tensor) => {
                const image = await previewImage(model.models, x0, preview.kind);
                onProgress({
                  kind: 'preview',
                  step,
                  totalSteps,
                  width: image.width,
                  height: image.height,
                  pixels: image.pixels.buffer as ArrayBuffer,
                });
              },
            },
          }
        : {}),
    };
  }

  async function estimate(
    image: RgbaImage,
    model: LoadedModel,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<Plane> {
    if (!estimator) {
      throw new ValidationError(
        'This model has no depth estimator: upload a depth map, or choose a depth model that comes with one.',
        'depth',
      );
    }
    const depth = await deps.estimateDepth(image, estimator, model.result.backend, onProgress, signal);
    if (signal.aborted) throw new CancelledError();
    return depth;
  }

  /** The result envelope of one kind (TypeScript cannot tie a generic kind to the union's member by itself). */
  const resultMessage = <K extends WireKind>(id: number, kind: K, result: WireMap[K]['result']): FromWorker =>
    ({ type: 'result', id, kind, result }) as FromWorker;

  async function runJob<K extends WireKind>(kind: K, params: Record<string, unknown>, job: Job): Promise<void> {
    current = job;
    const ctx: Context = { job, onProgress: (progress) => post({ type: 'progress', id: job.id, progress }) };
    try {
      if (job.controller.signal.aborted) throw new CancelledError();
      const lostBefore = deps.deviceLost?.();
      if (lostBefore && kind !== 'capabilities' && kind !== 'testHook') throw deviceLostError(lostBefore);
      // A run stuck on a dead device never returns: losing the device aborts it (see below).
      const aborted = new Promise<never>((_, reject) =>
        job.controller.signal.addEventListener('abort', () => {
          const reason = deps.deviceLost?.();
          if (reason) reject(deviceLostError(reason));
        }),
      );
      aborted.catch(() => undefined);
      // The test hook that loses the device must report that it did.
      const running = dispatch(kind, params, ctx);
      const result = await (kind === 'testHook' ? running : Promise.race([running, aborted]));
      post(resultMessage(job.id, kind, result));
    } catch (error) {
      post({ type: 'error', id: job.id, error: serializeError(explain(error)) });
    } finally {
      jobs.delete(job.id);
      current = null;
    }
  }

  return (message: unknown): void => {
    const id =
      isRecord(message) && typeof message['id'] === 'number' && Number.isFinite(message['id']) ? message['id'] : -1;
    try {
      if (!isRecord(message)) throw new ValidationError('A message must be an object.');
      if (message['type'] === 'cancel') {
        jobs.get(id)?.controller.abort();
        return;
      }
      if (message['type'] === 'ping') {
        post({ type: 'pong', id });
        return;
      }
      // The 'close' fault acts at once, not after the queued jobs: a worker that dies mid-run.
      const params0 = message['params'];
      if (message['kind'] === 'testHook' && isRecord(params0) && params0['action'] === 'close' && deps.testHook) {
        void deps.testHook(parseTestHook(params0).action).then((done) => post(resultMessage(id, 'testHook', { done })));
        return;
      }
      if (message['type'] !== 'request')
        throw new ValidationError(`Unknown message type "${String(message['type'])}".`);
      if (id < 0) throw new ValidationError('A request needs a numeric id.');
      const kind = message['kind'];
      if (!isRequestKind(kind)) throw new ValidationError(`Unknown request kind "${String(kind)}".`);
      const params = message['params'];
      if (!isRecord(params)) throw new ValidationError(`The ${kind} request needs a params object.`);
      const job: Job = { id, controller: new AbortController() };
      jobs.set(id, job);
      queue = queue.then(() => runJob(kind, params, job));
    } catch (error) {
      post({ type: 'error', id, error: serializeError(error) });
    }
  };
}
