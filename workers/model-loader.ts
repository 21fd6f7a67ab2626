/**
 * Loads a model from its load plan (every file URL resolved by the page) into onnxruntime-web
 * sessions on WebGPU or WASM. Files come from Cache Storage when there (a second visit works
 * offline) or are downloaded with progress; a cached file that no longer parses is removed.
 */
import { ort, ortFor, pinWasmPaths } from './ort-env';
import { CancelledError, ModelError } from '../src/core/errors';
import { schedulerNameForConfig, type SchedulerConfigJson } from '../src/core/schedulers';
import type { FileRef, LoadPlan } from '../src/protocol/load-plan';
import { cachedFile, deleteFile, listRecords, MODEL_CACHE, writeRecord } from '../src/storage/model-cache';
import type { AdapterInfo, LoadModelParams, Progress } from '../src/protocol/messages';
import { describeAdapter, detectCapabilities, requestAdapter } from './capabilities';
import { loadFile } from './download';
import type { LoadedModel } from './handler';
import { gpuMemory } from './gpu-memory';
import { createOnnxModels, type OrtModule } from './onnx-models';
import { createClipTokenizer } from './tokenizer';

/** The app ships CLIP's tokenizer for model repos that only have vocab.json + merges.txt. */
const BUNDLED_TOKENIZER = `${import.meta.env.BASE_URL}tokenizers/clip/tokenizer.json`;
/** Cached stand-in for an optional file the server does not have, so offline loads know it is absent. */
const MISSING = 'x-latent-studio-missing';

/** Chrome cannot allocate one ArrayBuffer much past 2 GiB; the WASM heap stops at 4 GiB. */
const MAX_FILE_BYTES = 2 ** 31 - 1;
const WASM_MEMORY_BYTES = 4 * 2 ** 30;

let configured = false;
let deviceReady: Promise<void> | null = null;
let device: GPUDevice | null = null;
let lostReason: string | null = null;

/** Why the GPU device was lost, or null. ORT cannot switch devices, so the page restarts the worker. */
export function deviceLost(): string | null {
  return lostReason;
}

let resolveLost: ((reason: string) => void) | null = null;
const lostPromise = new Promise<string>((resolve) => (resolveLost = resolve));

/** Resolves when the device is lost (never, while it is fine), so a run stuck on a dead device ends. */
export function whenDeviceLost(): Promise<string> {
  return lostPromise;
}

/** Test hook: destroys the device as a driver reset would. */
export async function loseDevice(): Promise<boolean> {
  if (!device) return false;
  device.destroy();
  await device.lost;
  return true;
}

async function configureRuntime(threads?: number): Promise<void> {
  if (configured) return;
  pinWasmPaths();
  const caps = await detectCapabilities();
  // More threads than the page can share memory with would fail; fewer is the caller's choice.
  ort.env.wasm.numThreads = threads ? Math.min(threads, Math.max(caps.wasmThreads, 1)) : caps.wasmThreads;
  ort.env.logLevel = 'error';
  configured = true;
}

/**
 * Hands ORT a device with the adapter's own buffer limits (the defaults, 256/128 MiB, are the
 * usual cause of failed sessions and black images) and shader-f16 when the adapter has it.
 */
function prepareDevice(adapter: GPUAdapter): Promise<void> {
  deviceReady ??= (async () => {
    device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [],
      requiredLimits: {
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      },
    });
    void device.lost.then((info) => {
      lostReason = info.message || (info.reason === 'destroyed' ? 'the device was destroyed' : 'unknown reason');
      resolveLost?.(lostReason);
    });
    ort.env.webgpu.device = device;
  })();
  return deviceReady;
}

/**
 * The step graph's session, and GPU buffers for the loop's inputs on the device ORT really runs
 * on (read back from ORT once it has sessions: buffers from another device cannot be bound).
 */
function residentOnGpu(created: ort.InferenceSession[]) {
  let ortDevice: GPUDevice | null = null;
  return {
    async createStepSession(model: Uint8Array) {
      const s = await ort.InferenceSession.create(model, {
        executionProviders: ['webgpu'],
        preferredOutputLocation: 'gpu-buffer',
        // Shape arithmetic placed on the CPU is expected here; ORT would warn about it on every load.
        logSeverityLevel: 3,
      });
      created.push(s);
      ortDevice = (await ort.env.webgpu.device) as GPUDevice;
      return s;
    },
    memory: () => {
      if (!ortDevice) throw new ModelError('The WebGPU step graph is not ready.');
      return gpuMemory(ortDevice);
    },
  };
}

function sizeOf(ref: FileRef & { externalData?: FileRef[] }): number {
  return (ref.size ?? 0) + (ref.externalData ?? []).reduce((s, e) => s + (e.size ?? 0), 0);
}

/** What will not fit, said before anything is downloaded. */
function checkFit(plan: LoadPlan, backend: 'webgpu' | 'wasm', adapter: AdapterInfo | null): void {
  if (plan.dtype === 'fp16' && backend === 'webgpu' && adapter && !adapter.shaderF16) {
    throw new ModelError(
      `${plan.name} has fp16 weights and needs WebGPU's shader-f16 feature, which this GPU (${adapter.vendor} ${adapter.architecture}) does not offer. Choose an fp32 model, or another browser or GPU.`,
    );
  }
  const files = [plan.textEncoder, plan.unet, plan.vaeDecoder, ...(plan.vaeEncoder ? [plan.vaeEncoder] : [])];
  const big = files.flatMap((f) => [f, ...(f.externalData ?? [])]).find((f) => (f.size ?? 0) > MAX_FILE_BYTES);
  if (big) {
    throw new ModelError(
      `${big.path} is ${(big.size! / 2 ** 30).toFixed(2)} GiB, more than the ~2 GiB a browser can hold in one buffer. Use an export with external data (model.onnx + model.onnx_data) or fp16 weights.`,
    );
  }
  const total = files.reduce((s, f) => s + sizeOf(f), 0) || plan.approxBytes || 0;
  if (backend === 'wasm' && total > WASM_MEMORY_BYTES) {
    throw new ModelError(
      `${plan.name} needs about ${(total / 2 ** 30).toFixed(1)} GiB, more than WASM's 4 GiB memory. Use WebGPU or a smaller (fp16) model.`,
    );
  }
}

async function checkQuota(plan: LoadPlan): Promise<void> {
  if (!plan.cache || !navigator.storage?.estimate) return;
  const needed = plan.approxBytes ?? 0;
  const records = await listRecords();
  if (records.some((r) => r.modelId === plan.modelId)) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  if (quota > 0 && usage + needed > quota) {
    throw new ModelError(
      `${plan.name} needs about ${(needed / 2 ** 30).toFixed(2)} GiB but this site may only store ${((quota - usage) / 2 ** 30).toFixed(2)} GiB more. Delete cached models in "Cached models" or free disk space.`,
    );
  }
}

export async function loadOrtModel(
  params: LoadModelParams,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<LoadedModel> {
  const started = performance.now();
  const { plan } = params;
  await configureRuntime(params.wasmThreads);
  let backend = params.backend;
  let fallbackReason: string | null = null;
  let adapter: AdapterInfo | null = null;
  if (backend === 'webgpu') {
    const gpu = await requestAdapter();
    if (gpu) {
      adapter = describeAdapter(gpu);
      await prepareDevice(gpu);
    } else {
      backend = 'wasm';
      fallbackReason = 'WebGPU is not available in this browser, so the models run on the CPU (WASM), which is slower.';
    }
  }
  checkFit(plan, backend, adapter);
  await checkQuota(plan);
  const runtime = await ortFor(backend);

  // Overall progress across files: bytes done in finished files plus the current one.
  const known = new Map<string, number>();
  let finished = 0;
  const files = [plan.textEncoder, plan.unet, plan.vaeDecoder, ...(plan.vaeEncoder ? [plan.vaeEncoder] : [])];
  const planned = files.flatMap((f) => [f, ...(f.externalData ?? [])]);
  const overallTotal = (): number | null => {
    const sum = planned.reduce((s, f) => s + (known.get(f.url) ?? f.size ?? 0), 0);
    return sum > 0 ? sum : (plan.approxBytes ?? null);
  };
  const fetched: string[] = [];
  const get = async (ref: FileRef): Promise<{ bytes: Uint8Array; fromCache: boolean }> => {
    const got = await loadFile(ref, {
      signal,
      cache: plan.cache,
      ...(plan.stallMs ? { stallMs: plan.stallMs } : {}),
      onBytes: (loaded, total) => {
        if (total !== null) known.set(ref.url, total);
        onProgress({
          kind: 'download',
          file: ref.path,
          loaded,
          total,
          overall: { loaded: finished + loaded, total: overallTotal() },
        });
      },
    });
    finished += got.bytes.length;
    fetched.push(ref.url);
    return got;
  };
  /** Small optional files: null when the server has none (remembered in the cache for offline loads). */
  const getOptional = async (ref: FileRef): Promise<Uint8Array | null> => {
    if (plan.cache) {
      const hit = await cachedFile(ref.url);
      if (hit) {
        fetched.push(ref.url);
        return hit.headers.get(MISSING) ? null : new Uint8Array(await hit.arrayBuffer());
      }
    }
    try {
      const { bytes } = await loadFile(ref, { signal, cache: plan.cache, onBytes: () => undefined });
      fetched.push(ref.url);
      return bytes;
    } catch (error) {
      if (error instanceof ModelError && /\(404\)/.test(error.message)) {
        if (plan.cache) {
          await caches
            .open(MODEL_CACHE)
            .then((c) => c.put(ref.url, new Response(new Uint8Array(0), { headers: { [MISSING]: '1' } })));
          fetched.push(ref.url);
        }
        return null;
      }
      throw error;
    }
  };
  const json = <T>(bytes: Uint8Array | null, name: string): T | null => {
    if (!bytes) return null;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    } catch {
      throw new ModelError(`${name} is not valid JSON.`);
    }
  };

  const schedulerConfig =
    'config' in plan.scheduler
      ? plan.scheduler.config
      : json<SchedulerConfigJson>(await getOptional(plan.scheduler), plan.scheduler.path);
  if (!schedulerConfig)
    throw new ModelError(`The model has no ${'path' in plan.scheduler ? plan.scheduler.path : 'scheduler config'}.`);
  const tokenizerConfig =
    json<Record<string, unknown>>(await getOptional(plan.tokenizerConfig), plan.tokenizerConfig.path) ??
    json<Record<string, unknown>>(await getOptional(plan.specialTokensMap), plan.specialTokensMap.path) ??
    {};
  let tokenizerJson = plan.tokenizerJson
    ? json<object>(await getOptional(plan.tokenizerJson), plan.tokenizerJson.path)
    : null;
  if (!tokenizerJson) {
    const response = await fetch(new URL(BUNDLED_TOKENIZER, self.location.href).href, { signal }).catch(() => null);
    tokenizerJson = response?.ok ? ((await response.json()) as object) : null;
  }
  if (!tokenizerJson) throw new ModelError('No tokenizer could be loaded for this model.');
  const tokenizer = createClipTokenizer(tokenizerJson, {
    model_max_length: 77,
    ...tokenizerConfig,
    ...(plan.padToken !== undefined ? { pad_token: plan.padToken } : {}),
  });
  const vaeConfig = plan.vaeConfig
    ? json<{ scaling_factor?: number }>(await getOptional(plan.vaeConfig), plan.vaeConfig.path)
    : null;

  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    ...(plan.freeDimensionOverrides ? { freeDimensionOverrides: plan.freeDimensionOverrides } : {}),
  };
  const created: ort.InferenceSession[] = [];
  const session = async (
    part: string,
    ref: FileRef & { externalData?: FileRef[] },
    extra: ort.InferenceSession.SessionOptions = {},
  ): Promise<ort.InferenceSession> => {
    const main = await get(ref);
    const external = [];
    for (const e of ref.externalData ?? []) external.push({ ref: e, ...(await get(e)) });
    if (signal.aborted) throw new CancelledError();
    onProgress({ kind: 'session', part });
    try {
      const s = await runtime.InferenceSession.create(main.bytes, {
        ...options,
        ...extra,
        ...(external.length > 0
          ? { externalData: external.map((e) => ({ path: e.ref.path.split('/').pop()!, data: e.bytes })) }
          : {}),
      });
      created.push(s);
      return s;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A cached file that does not parse is damaged: remove it so the next try downloads it again.
      const cachedParts = [main, ...external].filter((f) => f.fromCache);
      if (cachedParts.length > 0) {
        await deleteFile(ref.url);
        for (const e of ref.externalData ?? []) await deleteFile(e.url);
        throw new ModelError(
          `${ref.path} from this browser's cache could not be loaded (${reason}). The damaged copy was removed: press Generate to download it again.`,
        );
      }
      throw new ModelError(`${ref.path} could not be loaded by ONNX Runtime (${backend}): ${reason}`);
    }
  };
  try {
    const textEncoder = await session('text_encoder', plan.textEncoder);
    // On WebGPU the UNet's output stays on the GPU: the resident loop feeds it to the step graph.
    const onGpu = backend === 'webgpu' && device !== null;
    const unet = await session('unet', plan.unet, onGpu ? { preferredOutputLocation: 'gpu-buffer' } : {});
    const vaeDecoder = await session('vae_decoder', plan.vaeDecoder);
    const vaeEncoder = plan.vaeEncoder ? await session('vae_encoder', plan.vaeEncoder) : undefined;
    const sessions = { textEncoder, unet, vaeDecoder, ...(vaeEncoder ? { vaeEncoder } : {}) };
    const models = createOnnxModels(runtime as unknown as OrtModule, sessions, {
      tokenize: (text) => tokenizer.tokenize(text),
      describeTokens: (ids) => tokenizer.tokenStrings(ids),
      specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
      vaeScalingFactor: vaeConfig?.scaling_factor ?? 0.18215,
      ...(onGpu ? { resident: residentOnGpu(created) } : {}),
    });
    if (plan.cache) {
      await writeRecord({
        modelId: plan.modelId,
        name: plan.name,
        files: fetched,
        bytes: finished,
        lastUsed: Date.now(),
      }).catch(() => undefined);
    }
    return {
      models,
      schedulerConfig,
      result: {
        modelId: params.modelId,
        backend,
        fallbackReason,
        adapter,
        defaultScheduler: schedulerNameForConfig(schedulerConfig),
        schedulerConfig,
        info: models.info,
        loadMs: performance.now() - started,
        bytes: finished,
      },
      async dispose() {
        // `created` also holds the step graph's session, made on first use.
        await Promise.all(created.map((s) => s.release()));
      },
    };
  } catch (error) {
    await Promise.all(created.map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}
