/**
 * Loads a model from its load plan (every file URL resolved by the page) into onnxruntime-web
 * sessions on WebGPU or WASM. Files come from Cache Storage when there (a second visit works
 * offline) or are downloaded with progress; a cached file that no longer parses is removed.
 */
import { ort, ortFor, pinWasmPaths } from './ort-env';
import { CancelledError, ModelError } from '../src/core/errors';
import { schedulerNameForConfig, type SchedulerConfigJson } from '../src/core/schedulers';
import type { CheckpointPartRef, FileRef, LoadPlan, OnnxFileRef, PlanComponents } from '../src/protocol/load-plan';
import { cachedFile, deleteFile, listRecords, MODEL_CACHE, writeRecord } from '../src/storage/model-cache';
import type { AdapterInfo, LoadModelParams, Progress } from '../src/protocol/messages';
import { describeAdapter, detectCapabilities, requestAdapter } from './capabilities';
import { loadFile } from './download';
import type { Additions, LoadedModel } from './handler';
import { gpuMemory } from './gpu-memory';
import { createOnnxModels, type OnnxModelSet } from './onnx-models';
import { additionSessions, checkpointSessions, weightNames, type CheckpointBytes } from './safetensors-sessions';
import { readEmbedding } from '../src/core/networks/embedding';
import { readLora } from '../src/core/networks/lora';
import type { LinearForm } from '../src/core/networks';
import type { Models } from '../src/core/pipeline/models';
import { parseSafetensors, SafetensorsError } from '../src/core/safetensors';
import { onnxUsesFloat16 } from '../src/core/onnx-reader';
import { createClipTokenizer, type AddedTokens } from './tokenizer';

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
      ortDevice = await ort.env.webgpu.device;
      return s;
    },
    memory: () => {
      if (!ortDevice) throw new ModelError('The WebGPU step graph is not ready.');
      return gpuMemory(ortDevice);
    },
  };
}

/** The big files a plan downloads: ONNX graphs with their external data, or each checkpoint part's preferred weights. */
function plannedFiles(components: PlanComponents): FileRef[] {
  if (components.format === 'safetensors') {
    return [components.textEncoder, components.unet, components.vae].flatMap((p) => p.weights.slice(0, 1));
  }
  const { textEncoder, unet, vaeDecoder, vaeEncoder } = components;
  return [textEncoder, unet, vaeDecoder, ...(vaeEncoder ? [vaeEncoder] : [])].flatMap((f) => [
    f,
    ...(f.externalData ?? []),
  ]);
}

/** What will not fit, said before anything is downloaded. */
function checkFit(plan: LoadPlan, backend: 'webgpu' | 'wasm', adapter: AdapterInfo | null): void {
  if (plan.dtype === 'fp16' && backend === 'webgpu' && adapter && !adapter.shaderF16) {
    throw new ModelError(
      `${plan.name} has fp16 weights and needs WebGPU's shader-f16 feature, which this GPU (${adapter.vendor} ${adapter.architecture}) does not offer. Choose an fp32 model, or another browser or GPU.`,
    );
  }
  const files = plannedFiles(plan.components);
  const big = files.find((f) => (f.size ?? 0) > MAX_FILE_BYTES);
  if (big) {
    throw new ModelError(
      `${big.path} is ${(big.size! / 2 ** 30).toFixed(2)} GiB, more than the ~2 GiB a browser can hold in one buffer. Use an export with external data (model.onnx + model.onnx_data) or fp16 weights.`,
    );
  }
  const total = files.reduce((s, f) => s + (f.size ?? 0), 0) || plan.approxBytes || 0;
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

const isNotFound = (error: unknown): boolean => error instanceof ModelError && /\(404\)/.test(error.message);

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
  const planned = plannedFiles(plan.components);
  const overallTotal = (): number | null => {
    // Sizes the server told, plus the planned files not started yet.
    const sum =
      [...known.values()].reduce((s, n) => s + n, 0) +
      planned.filter((f) => !known.has(f.url)).reduce((s, f) => s + (f.size ?? 0), 0);
    return sum > 0 ? sum : (plan.approxBytes ?? null);
  };
  const fetched: string[] = [];
  const get = async (ref: FileRef): Promise<{ bytes: Uint8Array; fromCache: boolean }> => {
    const got = await loadFile(ref, {
      signal,
      cache: plan.cache,
      ...(plan.hosts ? { hosts: plan.hosts } : {}),
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
      const { bytes } = await loadFile(ref, {
        signal,
        cache: plan.cache,
        ...(plan.hosts ? { hosts: plan.hosts } : {}),
        onBytes: () => undefined,
      });
      fetched.push(ref.url);
      return bytes;
    } catch (error) {
      if (isNotFound(error)) {
        await rememberMissing(ref);
        return null;
      }
      throw error;
    }
  };
  const rememberMissing = async (ref: FileRef): Promise<void> => {
    if (!plan.cache) return;
    await caches
      .open(MODEL_CACHE)
      .then((c) => c.put(ref.url, new Response(new Uint8Array(0), { headers: { [MISSING]: '1' } })));
    fetched.push(ref.url);
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
  /** A session from a graph and its external data; a failure of cached bytes removes them. */
  const create = async (
    part: string,
    path: string,
    model: Uint8Array,
    external: { path: string; data: Uint8Array }[],
    cachedUrls: string[],
    extra: ort.InferenceSession.SessionOptions = {},
  ): Promise<ort.InferenceSession> => {
    if (signal.aborted) throw new CancelledError();
    onProgress({ kind: 'session', part });
    try {
      const s = await runtime.InferenceSession.create(model, {
        ...options,
        ...extra,
        ...(external.length > 0 ? { externalData: external } : {}),
      });
      created.push(s);
      return s;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A cached file that does not load is damaged: remove it so the next try downloads it again.
      if (cachedUrls.length > 0) {
        for (const url of cachedUrls) await deleteFile(url);
        throw new ModelError(
          `${path} from this browser's cache could not be loaded (${reason}). The damaged copy was removed: press Generate to download it again.`,
        );
      }
      if (/protobuf parsing failed/i.test(reason)) {
        throw new ModelError(
          `${path} is not a complete ONNX model (${model.length} bytes; ONNX Runtime: ${reason}): the file is truncated or damaged.`,
        );
      }
      throw new ModelError(`${path} could not be loaded by ONNX Runtime (${backend}): ${reason}`);
    }
  };
  const onnxSession = async (
    part: string,
    ref: OnnxFileRef,
    extra: ort.InferenceSession.SessionOptions = {},
  ): Promise<ort.InferenceSession> => {
    const main = await get(ref);
    // A float16 graph cannot run on WebGPU without shader-f16: said before ORT tries, and the
    // cached files are kept (they are not damaged), whatever the manifest claimed.
    if (backend === 'webgpu' && adapter && !adapter.shaderF16 && onnxUsesFloat16(main.bytes)) {
      throw new ModelError(
        `${ref.path} computes in fp16 (it has float16 inputs or weights), which needs WebGPU's shader-f16 feature; this GPU (${adapter.vendor} ${adapter.architecture}) does not offer it. The downloaded files stay cached: choose WASM as the backend, or a GPU or browser with shader-f16.`,
      );
    }
    const external = [];
    for (const e of ref.externalData ?? []) external.push({ ref: e, ...(await get(e)) });
    const cached = [{ ref, ...main }, ...external].filter((f) => f.fromCache).map((f) => f.ref.url);
    return create(
      part,
      ref.path,
      main.bytes,
      external.map((e) => ({ path: e.ref.path.split('/').pop()!, data: e.bytes })),
      cached.length > 0 ? [ref.url, ...(ref.externalData ?? []).map((e) => e.url)] : [],
      extra,
    );
  };
  /** The first of a checkpoint part's weight files that exists (404s are remembered for offline loads). */
  const getFirst = async (refs: FileRef[]): Promise<{ ref: FileRef; bytes: Uint8Array; fromCache: boolean }> => {
    const absent: FileRef[] = [];
    for (const ref of refs) {
      if (ref.missing) continue;
      if (plan.cache && (await cachedFile(ref.url))?.headers.get(MISSING)) continue;
      try {
        const got = { ref, ...(await get(ref)) };
        // Remembered only once another candidate is there: a load that finds none must ask again.
        for (const a of absent) await rememberMissing(a);
        return got;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        absent.push(ref);
      }
    }
    throw new ModelError(`The model has none of ${refs.map((r) => r.path).join(', ')}.`);
  };
  const checkpointPart = async (part: CheckpointPartRef) => {
    const config = json<unknown>(await getOptional(part.config), part.config.path);
    if (config === null) throw new ModelError(`The model has no ${part.config.path}.`);
    const weights = await getFirst(part.weights);
    return {
      configPath: part.config.path,
      config,
      weights: [{ path: weights.ref.path, bytes: weights.bytes }],
      from: weights,
    };
  };
  // On WebGPU the UNet's output stays on the GPU: the resident loop feeds it to the step graph.
  const onGpu = backend === 'webgpu' && device !== null;
  const unetExtra: ort.InferenceSession.SessionOptions = onGpu ? { preferredOutputLocation: 'gpu-buffer' } : {};
  // A checkpoint's text encoder and UNet bytes stay in memory while it is loaded, so LoRAs can be
  // merged (and their strengths changed) without downloading or re-reading anything.
  let kept: { parts: Pick<CheckpointBytes, 'textEncoder' | 'unet'>; linear: LinearForm } | null = null;
  try {
    const c = plan.components;
    let sessions: OnnxModelSet;
    let vaeScalingFactor: number | undefined;
    if (c.format === 'onnx') {
      const textEncoder = await onnxSession('text_encoder', c.textEncoder);
      const unet = await onnxSession('unet', c.unet, unetExtra);
      const vaeDecoder = await onnxSession('vae_decoder', c.vaeDecoder);
      const vaeEncoder = c.vaeEncoder ? await onnxSession('vae_encoder', c.vaeEncoder) : undefined;
      sessions = { textEncoder, unet, vaeDecoder, ...(vaeEncoder ? { vaeEncoder } : {}) };
    } else {
      const parts = {
        textEncoder: await checkpointPart(c.textEncoder),
        unet: await checkpointPart(c.unet),
        vae: await checkpointPart(c.vae),
      };
      const byPart = {
        text_encoder: parts.textEncoder,
        unet: parts.unet,
        vae_encoder: parts.vae,
        vae_decoder: parts.vae,
      };
      // WASM: MatMul was 2–11 % faster than Gemm in three bench runs (the folded transposed copies
      // fit its heap for any model WASM can hold). WebGPU: Gemm reads the weights as stored, so
      // nothing is folded into a copy on the CPU on the way to the GPU; step times there were
      // equal within the software rasteriser's ±10 %.
      const linear: LinearForm = backend === 'wasm' ? 'matmul' : 'gemm';
      kept = { parts: { textEncoder: parts.textEncoder, unet: parts.unet }, linear };
      try {
        ({ sessions, vaeScalingFactor } = await checkpointSessions(
          parts,
          (part, model, external) => {
            const from = byPart[part].from;
            return create(
              part,
              from.ref.path,
              model,
              external,
              from.fromCache ? [from.ref.url] : [],
              part === 'unet' ? unetExtra : {},
            );
          },
          {
            // Always: WebGPU's Conv needs it for 9-channel UNets, and it changes nothing on WASM.
            padInputChannels: true,
            linear,
          },
        ));
      } catch (error) {
        // A cached weights file whose header no longer parses is damaged: remove it as above.
        if (error instanceof SafetensorsError) {
          const part = Object.values(parts).find((p) => p.from.ref.path === error.file);
          if (part?.from.fromCache) {
            await deleteFile(part.from.ref.url);
            throw new ModelError(
              `${error.message} It came from this browser's cache and was removed: press Generate to download it again.`,
            );
          }
        }
        throw error;
      }
    }
    const modelOptions = {
      tokenize: (text: string) => tokenizer.tokenize(text),
      describeTokens: (ids: ArrayLike<number>) => tokenizer.tokenStrings(ids),
      specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
      vaeScalingFactor: vaeScalingFactor ?? vaeConfig?.scaling_factor ?? 0.18215,
      ...(onGpu ? { resident: residentOnGpu(created) } : {}),
    };
    const models = createOnnxModels(runtime, sessions, modelOptions);
    const plainSessions = sessions;
    /** The sessions of the last LoRA/embedding build, released when the next replaces them. */
    let extraBuilt: ort.InferenceSession[] = [];
    const withAdditionsFn = kept
      ? async (additions: Additions): Promise<Models> => {
          const { parts, linear } = kept!;
          const modules = { unet: weightNames(parts.unet), text_encoder: weightNames(parts.textEncoder) };
          const applied = additions.loras.map((l) => ({
            layers: readLora(`${l.name}.safetensors`, l.file.header, l.file.bytes, modules),
            scale: l.scale,
          }));
          // Embedding vectors become token rows after the vocabulary, in the order given.
          const tokenTable = parts.textEncoder.weights
            .map((w) => parseSafetensors(w.path, w.bytes))
            .flatMap((h) => [...h.tensors.values()])
            .find((e) => e.name.endsWith('embeddings.token_embedding.weight'));
          if (!tokenTable) throw new ModelError('The text encoder has no token embedding table.');
          const [vocab, hidden] = tokenTable.shape as [number, number];
          const read = additions.embeddings.map((e) => ({
            trigger: e.trigger,
            ...readEmbedding(`${e.name}.safetensors`, e.file.header, e.file.bytes, hidden),
          }));
          const count = read.reduce((n, e) => n + e.count, 0);
          const rows = new Float32Array(count * hidden);
          const added: AddedTokens[] = [];
          let next = 0;
          for (const e of read) {
            rows.set(e.vectors, next * hidden);
            added.push({ trigger: e.trigger, ids: Array.from({ length: e.count }, (_, k) => vocab + next + k) });
            next += e.count;
          }
          await Promise.all(extraBuilt.map((x) => x.release().catch(() => undefined)));
          extraBuilt = [];
          if (applied.length === 0 && count === 0) return models;
          const made = await additionSessions(
            parts,
            { loras: applied, embeddingRows: rows, embeddingCount: count },
            async (part, model, external) => {
              const session = await runtime.InferenceSession.create(model, {
                ...options,
                ...(part === 'unet' ? unetExtra : {}),
                externalData: external,
              });
              extraBuilt.push(session);
              return session;
            },
            { padInputChannels: true, linear },
          );
          const names = (ids: ArrayLike<number>) =>
            Array.from(ids, (id) => {
              const owner = added.find((a) => a.ids.includes(Number(id)));
              if (!owner) return tokenizer.tokenStrings([id])[0] ?? '';
              const k = owner.ids.indexOf(Number(id));
              return k === 0 ? owner.trigger : `${owner.trigger}_${k}`;
            });
          return createOnnxModels(
            runtime,
            { ...plainSessions, textEncoder: made.textEncoder, ...(made.unet ? { unet: made.unet } : {}) },
            { ...modelOptions, tokenize: (text) => tokenizer.tokenize(text, added), describeTokens: names },
          );
        }
      : undefined;
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
      ...(withAdditionsFn ? { withAdditions: withAdditionsFn } : {}),
      async dispose() {
        // `created` also holds the step graph's session, made on first use.
        await Promise.all([...created, ...extraBuilt].map((s) => s.release()));
      },
    };
  } catch (error) {
    await Promise.all(created.map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}
