/**
 * Loads a model from its load plan (every file URL resolved by the page) into onnxruntime-web
 * sessions on WebGPU or WASM. Files come from Cache Storage when there (a second visit works
 * offline) or are downloaded with progress; a cached file that no longer parses is removed.
 */
import { ort, ortFor, pinWasmPaths, type OrtWeb } from '../runtime/ort-env';
import type { SafetyChecker } from '../../core/safety/checker';
import { readClipImageConfig } from '../../core/safety/clip-image';
import { createSafetyChecker } from '../runtime/safety-checker';
import { ModelError } from '../../core/errors';
import { schedulerNameForConfig } from '../../core/schedulers';
import {
  cacheKey,
  type SafetyCheckerPlan,
  type CheckpointPartRef,
  type FileRef,
  type LoadPlan,
  type PlanComponents,
  type SingleFilePlan,
  type VaePlan,
} from '../../protocol/load-plan';
import { deleteFile, listRecords, writeRecord } from '../../storage/model-cache';
import type { AdapterInfo, LoadModelParams, Progress } from '../../protocol/messages';
import { describeAdapter, wasmThreads } from '../runtime/capabilities';
import type { GpuDevice } from '../runtime/gpu-device';
import type { LoadedModel } from '../loaded-model';
import { gpuMemory } from '../runtime/gpu-memory';
import { createOnnxModels, type OnnxModelSet, type VaePart } from '../runtime/onnx-models';
import {
  checkpointSessions,
  safetyCheckerSession,
  type CheckpointBytes,
  type ComponentBytes,
} from '../runtime/safetensors-sessions';
import { readSingleFile, readVaeFile, type SingleFileParts } from './single-file';
import { readVaeConfig } from '../../core/networks/config';
import type { GraphForm, Precision } from '../../core/networks/graph';
import type { SizeQuery } from '../../core/networks/tensor-sizes';
import { SafetensorsError } from '../../core/formats/safetensors';
import { modelFiles, parseJson, plannedFiles, weightFiles, type FetchedFile, type ModelFiles } from './model-files';
import { checkFit } from './fit';
import { readModelConfigs } from './model-configs';
import { chunkTokenizerOf } from './tokenizer';
import { sessionMaker, type SessionMaker } from '../runtime/ort-sessions';
import { additionsBuilder } from './checkpoint-additions';
import { graphForm } from '../runtime/graph-form';

let configured = false;

/** ORT's WASM threads and log level, set once before the first session. */
function configureRuntime(threads?: number): void {
  if (configured) return;
  pinWasmPaths();
  // More threads than the page can share memory with would fail; fewer is the caller's choice.
  const available = wasmThreads();
  ort.env.wasm.numThreads = threads ? Math.min(threads, Math.max(available, 1)) : available;
  ort.env.logLevel = 'error';
  configured = true;
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

async function requiredJson(files: ModelFiles, ref: FileRef): Promise<unknown> {
  const config = parseJson<unknown>(await files.getOptional(ref), ref.path);
  if (config === null) throw new ModelError(`The model has no ${ref.path}.`);
  return config;
}

/** A checkpoint part: its config and the first of its weight candidates that exists. */
async function checkpointPart(files: ModelFiles, part: CheckpointPartRef): Promise<KeptPart> {
  const config = await requiredJson(files, part.config);
  if (part.shards) {
    const shards: FetchedFile[] = [];
    for (const ref of part.shards) shards.push(await files.get(ref));
    return {
      configPath: part.config.path,
      config,
      weights: shards.flatMap(weightFiles),
      from: shards,
    };
  }
  const weights = await files.getFirst(part.weights);
  return {
    configPath: part.config.path,
    config,
    weights: weightFiles(weights),
    from: [weights],
  };
}

/** A component's bytes, and the downloads they came from (none: read from a picked file). */
type KeptPart = ComponentBytes & { from: FetchedFile[] };

/** A diffusers folder's three parts, downloaded or from the cache. */
async function folderParts(c: Extract<PlanComponents, { format: 'safetensors' }>, files: ModelFiles) {
  return {
    textEncoder: await checkpointPart(files, c.textEncoder),
    ...(c.textEncoder2 ? { textEncoder2: await checkpointPart(files, c.textEncoder2) } : {}),
    unet: await checkpointPart(files, c.unet),
    vae: await checkpointPart(files, c.vae),
  };
}

/** A picked single-file checkpoint's three parts, with the configs of the model it names, if any. */
async function singleFileParts(c: SingleFilePlan, files: ModelFiles): Promise<SingleFileParts<KeptPart>> {
  const json = async (ref: FileRef) => ({ path: ref.path, json: await requiredJson(files, ref) });
  const configs = c.configs
    ? {
        textEncoder: await json(c.configs.textEncoder),
        ...(c.configs.textEncoder2 ? { textEncoder2: await json(c.configs.textEncoder2) } : {}),
        unet: await json(c.configs.unet),
        vae: await json(c.configs.vae),
      }
    : null;
  const parts = await readSingleFile(c.file, c.fileName, configs);
  return {
    textEncoder: { ...parts.textEncoder, from: [] },
    ...(parts.textEncoder2 ? { textEncoder2: { ...parts.textEncoder2, from: [] } } : {}),
    unet: { ...parts.unet, from: [] },
    vae: { ...parts.vae, from: [] },
  };
}

/**
 * A checkpoint's networks built as graphs and made sessions. A cached weights file whose header no
 * longer parses is damaged: it is removed, so the next try downloads it again.
 */
async function checkpointNetworks(
  parts: SingleFileParts<KeptPart>,
  maker: SessionMaker,
  graph: GraphForm & { maxBindingBytes?: number },
  unetExtra: ort.InferenceSession.SessionOptions,
) {
  // checkpointSessions asks for text_encoder_2 only when the parts have one.
  const byPart = {
    text_encoder: parts.textEncoder,
    ...(parts.textEncoder2 ? { text_encoder_2: parts.textEncoder2 } : {}),
    unet: parts.unet,
    vae_encoder: parts.vae,
    vae_decoder: parts.vae,
  };
  try {
    const built = await checkpointSessions(
      parts,
      (part, model, external) => {
        const kept = byPart[part];
        if (!kept) throw new ModelError(`The checkpoint has no ${part}.`);
        const { from, weights } = kept;
        const cached = from.filter((f) => f.fromCache).map((f) => cacheKey(f.ref));
        const name = weights.map((w) => w.path).join(', ') || part;
        return maker.create(part, name, model, external, cached, part === 'unet' ? unetExtra : {});
      },
      // Always pad: WebGPU's Conv needs it for 9-channel UNets, and it changes nothing on WASM.
      { padInputChannels: true, ...graph },
    );
    return {
      ...built,
      kept: {
        textEncoder: parts.textEncoder,
        ...(parts.textEncoder2 ? { textEncoder2: parts.textEncoder2 } : {}),
        unet: parts.unet,
      } satisfies Pick<CheckpointBytes, 'textEncoder' | 'textEncoder2' | 'unet'>,
    };
  } catch (error) {
    if (error instanceof SafetensorsError) {
      const from = Object.values(parts)
        .flatMap((p) => p.from)
        .find((f) => error.file === f.ref.path || error.file.startsWith(`${f.ref.path}#part-`));
      if (from?.fromCache) {
        await deleteFile(cacheKey(from.ref));
        throw new ModelError(
          `${error.message} It came from this browser's cache and was removed: press Generate to download it again.`,
        );
      }
    }
    throw error;
  }
}

/**
 * The VAE a plan names instead of the checkpoint's own. A folder's config must decode the same
 * latent space (channels and scaling factor: SDXL's 0.13025, SD's 0.18215); a file takes the own
 * VAE's config, as A1111 does, since it stores none.
 */
async function vaeOverride(vae: VaePlan, own: KeptPart, files: ModelFiles): Promise<KeptPart> {
  if (vae.source.format === 'single-file') {
    const read = await readVaeFile(vae.source.file, vae.source.fileName, { path: own.configPath, json: own.config });
    return { ...read, from: [] };
  }
  const part = await checkpointPart(files, vae.source.part);
  const theirs = readVaeConfig(part.configPath, part.config);
  const ours = readVaeConfig(own.configPath, own.config);
  if (theirs.latentChannels !== ours.latentChannels || theirs.scalingFactor !== ours.scalingFactor) {
    throw new ModelError(
      `${vae.name} is a VAE for another latent space (${theirs.latentChannels} channels scaled by ${theirs.scalingFactor}; this model's own: ${ours.latentChannels} scaled by ${ours.scalingFactor}): choose "The model's own VAE" or a VAE made for this model's family.`,
    );
  }
  return part;
}

/** The checker computes as the networks would from safetensors: float16 where WebGPU has shader-f16. */
function safetyPrecision(backend: LoadModelParams['backend'], adapter: AdapterInfo | null): Precision {
  return backend === 'webgpu' && adapter?.shaderF16 ? 'float16' : 'float32';
}

/** The safety checker of the plan: its weights and preprocessing downloaded (or cached), built as a session. */
async function loadSafetyChecker(
  plan: SafetyCheckerPlan,
  files: ModelFiles,
  maker: SessionMaker,
  runtime: OrtWeb,
  options: GraphForm & { required: boolean },
): Promise<SafetyChecker> {
  const part = await checkpointPart(files, plan.part);
  const preprocessing = readClipImageConfig(plan.preprocessor.path, await requiredJson(files, plan.preprocessor));
  const cached = part.from.filter((f) => f.fromCache).map((f) => cacheKey(f.ref));
  const name = part.weights.map((w) => w.path).join(', ');
  const { session, concepts } = await safetyCheckerSession(
    part,
    (model, external) => maker.create('safety_checker', name, model, external, cached),
    options,
  );
  return createSafetyChecker(runtime, session, preprocessing, concepts, {
    source: plan.source,
    required: options.required,
  });
}

/** The backend a load runs on: WebGPU when an adapter is there (its device made), WASM otherwise. */
async function chooseBackend(
  gpu: GpuDevice,
  wanted: LoadModelParams['backend'],
): Promise<{ backend: LoadModelParams['backend']; adapter: AdapterInfo | null; fallbackReason: string | null }> {
  if (wanted !== 'webgpu') return { backend: wanted, adapter: null, fallbackReason: null };
  const adapter = await gpu.adapter();
  if (!adapter) {
    return {
      backend: 'wasm',
      adapter: null,
      fallbackReason: 'WebGPU is not available in this browser, so the models run on the CPU (WASM), which is slower.',
    };
  }
  // ORT takes its device once, before its first WebGPU session.
  const first = !gpu.isOpen;
  const device = await gpu.open(adapter);
  if (first) ort.env.webgpu.device = device;
  return { backend: 'webgpu', adapter: describeAdapter(adapter), fallbackReason: null };
}

/**
 * 1. runtime and backend 2. what will not fit, said before the first byte 3. configs and
 * tokenizer 4. the networks as sessions (ONNX files, or graphs built from a checkpoint) 5. the
 * model adapter, with LoRA rebuilds for checkpoints 6. the cache record.
 */
export async function loadOrtModel(
  gpu: GpuDevice,
  params: LoadModelParams,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<LoadedModel> {
  const started = performance.now();
  const { plan } = params;
  configureRuntime(params.wasmThreads);
  const { backend, adapter, fallbackReason } = await chooseBackend(gpu, params.backend);
  checkFit(plan, backend, adapter);
  await checkQuota(plan);
  const runtime = await ortFor(backend);

  const files = modelFiles({ ...plan, planned: plannedFiles(plan.components) }, signal, onProgress);
  const { schedulerConfig, tokenizer, secondPadId, vaeConfig } = await readModelConfigs(plan, files, signal);

  const maker = sessionMaker({
    runtime,
    backend,
    adapter,
    freeDimensionOverrides: plan.freeDimensionOverrides,
    files,
    signal,
    onProgress,
  });
  // On WebGPU the UNet's output stays on the GPU: the resident loop feeds it to the step graph.
  const onGpu = backend === 'webgpu' && gpu.isOpen;
  const unetExtra: ort.InferenceSession.SessionOptions = onGpu ? { preferredOutputLocation: 'gpu-buffer' } : {};
  try {
    const c = plan.components;
    let sessions: OnnxModelSet;
    let vaeScalingFactor: number | undefined;
    // A checkpoint's text encoder and UNet bytes stay in memory while it is loaded, so LoRAs can be
    // merged (and their strengths changed) without downloading or re-reading anything.
    let kept: {
      parts: Pick<CheckpointBytes, 'textEncoder' | 'textEncoder2' | 'unet'>;
      graph: GraphForm;
    } | null = null;
    let float32Vae: ((part: VaePart) => Promise<ort.InferenceSession>) | undefined;
    let checkSize: ((query: SizeQuery) => void) | undefined;
    // float16 wherever WebGPU has shader-f16: half the weights' memory and bandwidth. ONNX exports
    // compute in the type they were exported in.
    const precision: Precision =
      c.format === 'onnx'
        ? plan.dtype === 'fp16'
          ? 'float16'
          : 'float32'
        : backend === 'webgpu' && adapter?.shaderF16
          ? 'float16'
          : 'float32';
    let vaePrecision = precision;
    if (c.format === 'onnx') {
      const textEncoder = await maker.onnxSession('text_encoder', c.textEncoder);
      const unet = await maker.onnxSession('unet', c.unet, unetExtra);
      const vaeDecoder = await maker.onnxSession('vae_decoder', c.vaeDecoder);
      const vaeEncoder = c.vaeEncoder ? await maker.onnxSession('vae_encoder', c.vaeEncoder) : undefined;
      sessions = { textEncoder, unet, vaeDecoder, ...(vaeEncoder ? { vaeEncoder } : {}) };
    } else {
      const own = c.format === 'safetensors' ? await folderParts(c, files) : await singleFileParts(c, files);
      const parts = plan.vae ? { ...own, vae: await vaeOverride(plan.vae, own.vae, files) } : own;
      const graph = graphForm(backend, precision);
      const binding = backend === 'webgpu' && adapter ? { maxBindingBytes: adapter.maxStorageBufferBindingSize } : {};
      const built = await checkpointNetworks(parts, maker, { ...graph, ...binding }, unetExtra);
      ({ sessions, vaeScalingFactor, float32Vae, checkSize, vaePrecision } = built);
      kept = { parts: built.kept, graph };
    }
    const modelOptions = {
      tokenize: (text: string) => tokenizer.tokenize(text),
      chunkTokenizer: chunkTokenizerOf(tokenizer),
      describeTokens: (ids: ArrayLike<number>) => tokenizer.tokenStrings(ids),
      specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
      ...(secondPadId !== null ? { secondPadId, zerosForEmptyNegative: plan.zerosForEmptyNegative ?? true } : {}),
      vaeScalingFactor: vaeScalingFactor ?? vaeConfig?.scaling_factor ?? 0.18215,
      unetPrecision: precision,
      ...(float32Vae ? { float32Vae } : {}),
      ...(checkSize ? { checkSize } : {}),
      ...(onGpu ? { resident: residentOnGpu(maker.created) } : {}),
    };
    const models = createOnnxModels(runtime, sessions, modelOptions);
    const safety = plan.safetyChecker
      ? await loadSafetyChecker(plan.safetyChecker, files, maker, runtime, {
          ...graphForm(backend, safetyPrecision(backend, adapter)),
          required: params.requireSafetyChecker === true,
        })
      : null;
    const additions = kept
      ? additionsBuilder({
          ...kept,
          runtime,
          options: maker.options,
          unetExtra,
          plain: models,
          plainSessions: sessions,
          modelOptions,
          tokenizer,
        })
      : null;
    if (plan.cache) {
      await writeRecord({
        modelId: plan.modelId,
        name: plan.name,
        files: [...files.fetched],
        bytes: files.bytes(),
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
        precision: { textEncoder: precision, unet: precision, vae: vaePrecision },
        safetyChecker: safety ? { source: safety.source, required: safety.required } : null,
        loadMs: performance.now() - started,
        bytes: files.bytes(),
      },
      ...(additions ? { withAdditions: additions.build } : {}),
      ...(kept
        ? { controlNetHost: { runtime, backend, graph: kept.graph, textWidth: models.info.textWidth ?? null } }
        : {}),
      ...(safety ? { safety } : {}),
      async dispose() {
        // `created` also holds the step graph's session, made on first use.
        await Promise.all([...maker.created, ...(additions?.sessions() ?? [])].map((s) => s.release()));
      },
    };
  } catch (error) {
    await Promise.all(maker.created.map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}
