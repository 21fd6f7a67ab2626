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
} from '../src/core/errors';
import type { RgbaImage } from '../src/core/image';
import type { PipelineOptions } from '../src/core/pipeline/txt2img';
import { planeToRgba, type Plane } from '../src/core/image-ops';
import { compareGrid, validateCells } from '../src/core/pipeline/compare';
import { vaeRoundTrip } from '../src/core/pipeline/explore';
import { runPipeline } from '../src/core/pipeline/generate';
import { latentsToRgbFast } from '../src/core/pipeline/preview';
import { chwToRgba } from '../src/core/image';
import { scale, tensor, type Tensor } from '../src/core/tensor';
import {
  validateGenerate,
  validateImage,
  validatePrompt,
  validateSize,
  validateSteps,
  validateTxt2Img,
} from '../src/core/validate';
import type { Models } from '../src/core/pipeline/models';
import type { SchedulerConfigJson } from '../src/core/schedulers/types';
import { checkStepsFor } from '../src/core/schedulers';
import { parseSafetensors, type SafetensorsHeader } from '../src/core/safetensors';
import {
  isRequestKind,
  transferList,
  type Backend,
  type EmbeddingSetting,
  type LoraSetting,
  type BenchGraphParams,
  type BenchGraphResult,
  type BenchParams,
  type BenchResult,
  type Capabilities,
  type DepthEstimatorSource,
  type DepthResult,
  type FromWorker,
  type GenerateResult,
  type PreviewRequest,
  type RoundTripResult,
  type TokenView,
  type LoadModelParams,
  type LoadModelResult,
  type Progress,
  type RequestKind,
  type RequestMap,
} from '../src/protocol/messages';

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
  testHook?(action: 'lose-device' | 'crash' | 'close'): Promise<boolean>;
  /**
   * Lets queued messages (a cancel) run before the next network call. ONNX Runtime's WASM run
   * never returns to the event loop, so without this a cancel waited for the whole job.
   */
  yieldToEvents?(): Promise<void>;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const withSlash = (url: string): string => (url.endsWith('/') ? url : `${url}/`);

function isFileRef(value: unknown): boolean {
  return isRecord(value) && typeof value['url'] === 'string' && typeof value['path'] === 'string';
}

const isPart = (value: unknown): boolean =>
  isRecord(value) && isFileRef(value['config']) && Array.isArray(value['weights']) && value['weights'].every(isFileRef);

/** ONNX files for text encoder, UNet and VAE decoder, or a config and weight candidates for each checkpoint part. */
function hasComponents(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (value['format'] === 'onnx') return ['textEncoder', 'unet', 'vaeDecoder'].every((k) => isFileRef(value[k]));
  if (value['format'] === 'safetensors') return ['textEncoder', 'unet', 'vae'].every((k) => isPart(value[k]));
  return false;
}

function validateLoadModel(params: Record<string, unknown>): LoadModelParams {
  const { modelId, plan, backend, depthEstimator } = params;
  if (typeof modelId !== 'string' || modelId.length === 0) throw new ValidationError('Choose a model.', 'model');
  if (!isRecord(plan) || !isRecord(plan['scheduler']) || !hasComponents(plan['components'])) {
    throw new ValidationError('The model has no complete file list (text encoder, UNet, VAE, scheduler).', 'model');
  }
  const hosts = plan['hosts'];
  if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string'))) {
    throw new ValidationError('The model plan has a host list that is not a list of origins.', 'model');
  }
  if (backend !== 'webgpu' && backend !== 'wasm')
    throw new ValidationError('Backend must be WebGPU or WASM.', 'backend');
  const request: LoadModelParams = { modelId, plan: plan as unknown as LoadModelParams['plan'], backend };
  const threads = params['wasmThreads'];
  if (typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= 16) {
    request.wasmThreads = threads;
  }
  if (depthEstimator !== undefined) request.depthEstimator = validateDepthEstimator(depthEstimator);
  return request;
}

function validateDepthEstimator(value: unknown): DepthEstimatorSource {
  if (isRecord(value) && value['kind'] === 'silhouette') return { kind: 'silhouette' };
  if (
    !isRecord(value) ||
    value['kind'] !== 'transformers' ||
    typeof value['modelId'] !== 'string' ||
    typeof value['baseUrl'] !== 'string'
  ) {
    throw new ValidationError(
      'The depth estimator must be { kind: "silhouette" } or { kind: "transformers", modelId, baseUrl }.',
      'model',
    );
  }
  return { kind: 'transformers', modelId: value['modelId'], baseUrl: withSlash(value['baseUrl']) };
}

function validateLoras(value: unknown): LoraSetting[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 16)
    throw new ValidationError('loras must be a list of up to 16 {name, scale}.', 'lora');
  return value.map((v) => {
    if (!isRecord(v) || typeof v['name'] !== 'string')
      throw new ValidationError('A LoRA setting needs a name.', 'lora');
    const scale = v['scale'];
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < -2 || scale > 2) {
      throw new ValidationError(`The strength of LoRA "${v['name']}" must be between −2 and 2.`, 'lora');
    }
    return { name: v['name'], scale };
  });
}

function validateEmbeddings(value: unknown): EmbeddingSetting[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 32)
    throw new ValidationError('embeddings must be a list of {name, trigger}.', 'embedding');
  return value.map((v) => {
    if (!isRecord(v) || typeof v['name'] !== 'string' || typeof v['trigger'] !== 'string' || !v['trigger'].trim()) {
      throw new ValidationError('An embedding needs a name and a trigger word.', 'embedding');
    }
    return { name: v['name'], trigger: v['trigger'].trim() };
  });
}

function validatePreview(value: unknown): PreviewRequest | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw new ValidationError('preview must be {every, kind}.', 'preview');
  const { every, kind } = value;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > 1000) {
    throw new ValidationError('Preview every must be a whole number of steps from 1 to 1000.', 'preview');
  }
  if (kind !== 'vae' && kind !== 'fast') throw new ValidationError('Preview kind must be "vae" or "fast".', 'preview');
  return { every, kind };
}

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
    data: depth.data.slice().buffer as ArrayBuffer,
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
  async function useLoras(value: unknown, embeddingsValue: unknown, onProgress: (p: Progress) => void): Promise<void> {
    if (!loaded) return;
    const wanted = validateLoras(value).filter((l) => l.scale !== 0);
    const triggers = validateEmbeddings(embeddingsValue);
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

  async function run<K extends RequestKind>(
    kind: K,
    params: Record<string, unknown>,
    job: Job,
  ): Promise<RequestMap[K]['result']> {
    const onProgress = (progress: Progress): void => post({ type: 'progress', id: job.id, progress });
    switch (kind) {
      case 'capabilities':
        return (await deps.capabilities()) as RequestMap[K]['result'];
      case 'loadModel': {
        const request = validateLoadModel(params);
        const previous = loaded;
        loaded = null;
        await previous?.dispose?.();
        loaded = withYields(await deps.loadModel(request, onProgress, job.controller.signal));
        plain = loaded.models;
        appliedLoras = '[]';
        estimator = request.depthEstimator ?? null;
        return loaded.result as RequestMap[K]['result'];
      }
      case 'addLora': {
        const { name, bytes } = params;
        if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
          throw new ValidationError('A LoRA needs a name.', 'lora');
        }
        if (!(bytes instanceof ArrayBuffer)) throw new ValidationError('A LoRA needs its file bytes.', 'lora');
        const data = new Uint8Array(bytes);
        const header = parseSafetensors(`${name}.safetensors`, data);
        loraFiles.set(name, { name, header, bytes: data });
        // A file of the same name replaces the old one: what was merged from it is stale.
        appliedLoras = null;
        return { name, tensors: header.tensors.size } as RequestMap[K]['result'];
      }
      case 'generate': {
        const request = validateGenerate(params);
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        await useLoras(params['loras'], params['embeddings'], onProgress);
        checkStepsFor(request.scheduler, loaded.schedulerConfig, request.steps);
        const started = performance.now();
        const signal = job.controller.signal;
        if (request.mode === 'depth2img' && !request.depth) {
          onProgress({ kind: 'pipeline', phase: 'depth', step: 0, totalSteps: request.steps });
          request.depth = await estimate(request.image, loaded, onProgress, signal);
        }
        const output = await runPipeline(loaded.models, request, pipelineOptions(loaded, params, job, onProgress));
        const pixels = output.image.pixels;
        const result: GenerateResult = {
          width: output.image.width,
          height: output.image.height,
          pixels: pixels.buffer as ArrayBuffer,
          seed: request.seed.toString(),
          truncated: output.truncated,
          backend: loaded.result.backend,
          timings: { ...output.timings, totalMs: performance.now() - started },
          ...(output.encoderLatents ? { encoderLatents: output.encoderLatents } : {}),
          ...(output.depth ? { depth: depthResult(output.depth) } : {}),
        };
        return result as RequestMap[K]['result'];
      }
      case 'compare': {
        const request = validateTxt2Img(params);
        const cells = validateCells(params['cells']);
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        for (const cell of cells) checkStepsFor(cell.scheduler, loaded.schedulerConfig, cell.steps);
        await useLoras(params['loras'], params['embeddings'], onProgress);
        const started = performance.now();
        const model = loaded;
        await compareGrid(model.models, request, cells, pipelineOptions(model, params, job, onProgress), (index, r) =>
          onProgress({
            kind: 'cell',
            index,
            width: r.image.width,
            height: r.image.height,
            pixels: r.image.pixels.buffer as ArrayBuffer,
            timings: r.timings,
          }),
        );
        return { cells: cells.length, totalMs: performance.now() - started } as RequestMap[K]['result'];
      }
      case 'tokenize': {
        const text = validatePrompt(params['text'], 'prompt');
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        await useLoras(params['loras'], params['embeddings'], onProgress);
        const { models } = loaded;
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
        return view as RequestMap[K]['result'];
      }
      case 'vaeRoundTrip': {
        const raw = params['image'];
        const size = isRecord(raw) ? raw : {};
        const image = validateImage(raw, Number(size['width']), Number(size['height']));
        if (image.width % 8 !== 0 || image.height % 8 !== 0) {
          throw new ValidationError('The VAE works in 8×8 blocks: the image size must be a multiple of 8.', 'image');
        }
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        const trip = await vaeRoundTrip(loaded.models, image);
        const result: RoundTripResult = {
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
        return result as RequestMap[K]['result'];
      }
      case 'bench': {
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        if (!deps.bench) throw new ValidationError('This worker has no benchmark.');
        const width = validateSize(params['width'], 'width');
        const height = validateSize(params['height'], 'height');
        const steps = validateSteps(params['steps']);
        const runs = validateSteps(params['runs']);
        const resident = params['resident'] !== false;
        const graphUrl = params['graphUrl'];
        if (graphUrl !== undefined && (typeof graphUrl !== 'string' || !graphUrl.startsWith('/'))) {
          throw new ValidationError('graphUrl must be a path on this origin.');
        }
        const repeats = params['repeats'] === undefined ? 20 : validateSteps(params['repeats']);
        const benchParams = { width, height, steps, runs, resident, repeats, ...(graphUrl ? { graphUrl } : {}) };
        return (await deps.bench(loaded, benchParams)) as RequestMap[K]['result'];
      }
      case 'benchGraph': {
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        if (!deps.benchGraph) throw new ValidationError('This worker has no benchmark.');
        const onOrigin = (v: unknown): v is string => typeof v === 'string' && v.startsWith('/');
        const { url, external, dims, checkpoint } = params;
        if (url !== undefined && !onOrigin(url)) throw new ValidationError('url must be a path on this origin.');
        if (
          external !== undefined &&
          !(isRecord(external) && onOrigin(external['url']) && typeof external['path'] === 'string')
        ) {
          throw new ValidationError('external must be {path, url} with a path on this origin.');
        }
        const linear = isRecord(checkpoint) ? checkpoint['linear'] : undefined;
        if (
          checkpoint !== undefined &&
          !(
            isRecord(checkpoint) &&
            onOrigin(checkpoint['configUrl']) &&
            onOrigin(checkpoint['weightsUrl']) &&
            (linear === undefined || linear === 'gemm' || linear === 'matmul')
          )
        ) {
          throw new ValidationError('checkpoint must be {configUrl, weightsUrl, linear?} with paths on this origin.');
        }
        if ((url === undefined) === (checkpoint === undefined)) throw new ValidationError('Give url or checkpoint.');
        if (
          dims !== undefined &&
          !(isRecord(dims) && Object.values(dims).every((d) => Number.isInteger(d) && (d as number) > 0))
        ) {
          throw new ValidationError('dims must map names to whole numbers.');
        }
        const request: BenchGraphParams = {
          repeats: validateSteps(params['repeats']),
          ...(url !== undefined ? { url } : {}),
          ...(isRecord(checkpoint)
            ? {
                checkpoint: {
                  configUrl: String(checkpoint['configUrl']),
                  weightsUrl: String(checkpoint['weightsUrl']),
                  ...(linear === 'gemm' || linear === 'matmul' ? { linear } : {}),
                },
              }
            : {}),
          ...(isRecord(external) ? { external: { path: String(external['path']), url: String(external['url']) } } : {}),
          ...(isRecord(dims) ? { dims: dims as Record<string, number> } : {}),
        };
        return (await deps.benchGraph(loaded, request)) as RequestMap[K]['result'];
      }
      case 'testHook': {
        const action = params['action'];
        if (action !== 'lose-device' && action !== 'crash' && action !== 'close') {
          throw new ValidationError('Unknown test hook.');
        }
        return { done: (await deps.testHook?.(action)) ?? false } as RequestMap[K]['result'];
      }
      case 'estimateDepth': {
        const raw = params['image'];
        const size = isRecord(raw) ? raw : {};
        const image = validateImage(raw, Number(size['width']), Number(size['height']));
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        const depth = await estimate(image, loaded, onProgress, job.controller.signal);
        return depthResult(depth) as RequestMap[K]['result'];
      }
      default:
        throw new ValidationError(`Unknown request kind "${String(kind)}".`);
    }
  }

  function pipelineOptions(
    model: LoadedModel,
    params: Record<string, unknown>,
    job: Job,
    onProgress: (progress: Progress) => void,
  ): PipelineOptions {
    const preview = validatePreview(params['preview']);
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
        void deps.testHook('close').then((done) => post({ type: 'result', id, kind: 'testHook', result: { done } }));
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
      queue = queue.then(async () => {
        current = job;
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
          const result = await (kind === 'testHook'
            ? run(kind, params, job)
            : Promise.race([run(kind, params, job), aborted]));
          post({ type: 'result', id, kind, result } as FromWorker);
        } catch (error) {
          post({ type: 'error', id, error: serializeError(explain(error)) });
        } finally {
          jobs.delete(id);
          current = null;
        }
      });
    } catch (error) {
      post({ type: 'error', id, error: serializeError(error) });
    }
  };
}
