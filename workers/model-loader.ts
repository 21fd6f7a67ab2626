/**
 * Loads a diffusers-layout ONNX model folder into onnxruntime-web sessions on WebGPU or WASM.
 */
import { ort, pinWasmPaths } from './ort-env';
import { ModelError } from '../src/core/errors';
import { schedulerNameForConfig, type SchedulerConfigJson } from '../src/core/schedulers';
import type { LoadModelParams, Progress } from '../src/protocol/messages';
import { describeAdapter, detectCapabilities, requestAdapter } from './capabilities';
import { fetchBytes, fetchJson } from './fetch-progress';
import type { LoadedModel } from './handler';
import { createOnnxModels, type OrtModule } from './onnx-models';
import { createClipTokenizer } from './tokenizer';

/** The app ships CLIP's tokenizer for model repos that only have vocab.json + merges.txt. */
const BUNDLED_TOKENIZER = `${import.meta.env.BASE_URL}tokenizers/clip/tokenizer.json`;

let configured = false;
async function configureRuntime(): Promise<void> {
  if (configured) return;
  pinWasmPaths();
  const caps = await detectCapabilities();
  ort.env.wasm.numThreads = caps.wasmThreads;
  ort.env.logLevel = 'error';
  configured = true;
}

export async function loadOrtModel(
  params: LoadModelParams,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<LoadedModel> {
  const started = performance.now();
  await configureRuntime();
  let backend = params.backend;
  let fallbackReason: string | null = null;
  let adapter = null;
  if (backend === 'webgpu') {
    const gpu = await requestAdapter();
    if (gpu) {
      adapter = describeAdapter(gpu);
    } else {
      backend = 'wasm';
      fallbackReason = 'WebGPU is not available in this browser, so the models run on the CPU (WASM), which is slower.';
    }
  }
  const url = (path: string): string => new URL(path, new URL(params.baseUrl, self.location.href)).href;

  const schedulerConfig = await fetchJson<SchedulerConfigJson>(
    url('scheduler/scheduler_config.json'),
    'scheduler/scheduler_config.json',
    signal,
  );
  if (!schedulerConfig) throw new ModelError('The model has no scheduler/scheduler_config.json.');
  const tokenizerConfig =
    (await fetchJson<Record<string, unknown>>(
      url('tokenizer/tokenizer_config.json'),
      'tokenizer/tokenizer_config.json',
      signal,
    )) ??
    (await fetchJson<Record<string, unknown>>(
      url('tokenizer/special_tokens_map.json'),
      'tokenizer/special_tokens_map.json',
      signal,
    )) ??
    {};
  const tokenizerJson =
    (await fetchJson<object>(url('tokenizer/tokenizer.json'), 'tokenizer/tokenizer.json', signal)) ??
    (await fetchJson<object>(new URL(BUNDLED_TOKENIZER, self.location.href).href, 'bundled CLIP tokenizer', signal));
  if (!tokenizerJson) throw new ModelError('No tokenizer could be loaded for this model.');
  const tokenizer = createClipTokenizer(tokenizerJson, { model_max_length: 77, ...tokenizerConfig });
  const vaeConfig = await fetchJson<{ scaling_factor?: number }>(
    url('vae_decoder/config.json'),
    'vae_decoder/config.json',
    signal,
  );

  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  };
  const session = async (part: string, required: boolean): Promise<ort.InferenceSession | undefined> => {
    const file = `${part}/model.onnx`;
    let bytes: Uint8Array;
    try {
      bytes = await fetchBytes(url(file), file, onProgress, signal);
    } catch (error) {
      if (!required && error instanceof ModelError && /answered 404/.test(error.message)) return undefined;
      throw error;
    }
    onProgress({ kind: 'session', part });
    try {
      return await ort.InferenceSession.create(bytes, options);
    } catch (error) {
      throw new ModelError(
        `${file} could not be loaded by ONNX Runtime (${backend}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  const textEncoder = (await session('text_encoder', true))!;
  const unet = (await session('unet', true))!;
  const vaeDecoder = (await session('vae_decoder', true))!;
  const vaeEncoder = await session('vae_encoder', false);
  const sessions = { textEncoder, unet, vaeDecoder, ...(vaeEncoder ? { vaeEncoder } : {}) };
  const models = createOnnxModels(ort as unknown as OrtModule, sessions, {
    tokenize: (text) => tokenizer.tokenize(text),
    describeTokens: (ids) => tokenizer.tokenStrings(ids),
    specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
    vaeScalingFactor: vaeConfig?.scaling_factor ?? 0.18215,
  });
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
    },
    async dispose() {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    },
  };
}
