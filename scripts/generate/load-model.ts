/**
 * A model for `npm run generate`, loaded as the app loads it: a diffusers folder (fp16 variant
 * preferred), an ONNX export (`unet/model.onnx` …) or a single-file checkpoint, from a path or a
 * folder URL, built into sessions by the worker's own code and wrapped as the core's `Models`.
 */
import { existsSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-common';
import { ModelError } from '../../src/core/errors';
import { SD_SCHEDULER_CONFIG, SDXL_SCHEDULER_CONFIG } from '../../src/core/schedulers/sd-scheduler';
import type { Precision } from '../../src/core/networks/graph';
import type { Models } from '../../src/core/pipeline/models';
import { readSingleFile, type SingleFileParts } from '../../src/worker/loading/single-file';
import { chunkTokenizerOf, createClipTokenizer } from '../../src/worker/loading/tokenizer';
import { createOnnxModels, type OnnxModelSet } from '../../src/worker/runtime/onnx-models';
import {
  checkpointSessions,
  controlNetSession,
  type ComponentBytes,
} from '../../src/worker/runtime/safetensors-sessions';
import { createControlNetModel } from '../../src/worker/runtime/controlnet-model';
import type { ControlNetModel } from '../../src/core/pipeline/control';
import type { OrtWeb } from '../node-gpu/runtime';
import { graphForm } from '../../src/worker/runtime/graph-form';
import type { Backend } from '../../src/protocol/messages';

const BUNDLED_TOKENIZER = fileURLToPath(new URL('../../public/tokenizers/clip/', import.meta.url));

/** Where files come from: a local folder, or a folder URL (files fetched as the app fetches them). */
interface Source {
  describe(path: string): string;
  has(path: string): Promise<boolean>;
  bytes(path: string): Promise<Uint8Array>;
}

function folderSource(root: string): Source {
  return {
    describe: (path) => join(root, path),
    has: (path) => Promise.resolve(existsSync(join(root, path))),
    bytes: (path) => Promise.resolve(new Uint8Array(readFileSync(join(root, path)))),
  };
}

function urlSource(base: string): Source {
  const url = (path: string) => new URL(path, base.endsWith('/') ? base : `${base}/`).href;
  const fetched = new Map<string, Promise<Response>>();
  const get = (path: string) => {
    let r = fetched.get(path);
    if (!r) fetched.set(path, (r = fetch(url(path))));
    return r;
  };
  return {
    describe: url,
    has: async (path) => (await get(path).catch(() => null))?.ok ?? false,
    bytes: async (path) => {
      const response = await get(path).catch((error: unknown) => {
        throw new ModelError(
          `Could not download ${url(path)}: ${error instanceof Error ? error.message : String(error)}.`,
        );
      });
      if (!response.ok) throw new ModelError(`Could not download ${url(path)}: HTTP ${response.status}.`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

async function json(source: Source, path: string): Promise<unknown> {
  const text = new TextDecoder().decode(await source.bytes(path));
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelError(`${source.describe(path)} is not valid JSON (${String(error)}).`);
  }
}

async function firstOf(source: Source, paths: string[]): Promise<string | null> {
  for (const p of paths) if (await source.has(p)) return p;
  return null;
}

async function component(source: Source, part: string, names: string[]): Promise<ComponentBytes> {
  const file = await firstOf(
    source,
    names.map((n) => `${part}/${n}`),
  );
  if (!file) throw new ModelError(`${source.describe(part)} has none of ${names.join(', ')}.`);
  return {
    configPath: `${part}/config.json`,
    config: await json(source, `${part}/config.json`),
    weights: [{ path: file, bytes: await source.bytes(file) }],
  };
}

export interface NodeSessions {
  ort: OrtWeb;
  /** A session from a graph (or ONNX file) and its external data. */
  create: (model: Uint8Array, externalData: { path: string; data: Uint8Array }[]) => Promise<InferenceSession>;
  /** The backend and the compute type of graphs built from checkpoints (see graphForm). */
  backend: Backend;
  precision: Precision;
  /** WebGPU: the adapter's maxStorageBufferBindingSize, which run sizes are checked against. */
  maxBindingBytes?: number;
  /** The UNet takes a ControlNet's residuals (see loadNodeControlNet). */
  controlResiduals?: boolean;
}

export interface LoadedNodeModel {
  models: Models;
  schedulerConfig: Record<string, unknown>;
  /** What each network computes in, and what the model is, for the JSON line. */
  precision: { textEncoder: Precision; unet: Precision; vae: Precision };
  format: 'diffusers' | 'onnx' | 'single-file';
}

async function tokenizerFor(source: Source | null, dir = 'tokenizer', padToken?: string) {
  const bundled = JSON.parse(readFileSync(`${BUNDLED_TOKENIZER}tokenizer.json`, 'utf8')) as object;
  const config =
    source && (await source.has(`${dir}/tokenizer_config.json`))
      ? ((await json(source, `${dir}/tokenizer_config.json`)) as Record<string, unknown>)
      : (JSON.parse(readFileSync(`${BUNDLED_TOKENIZER}tokenizer_config.json`, 'utf8')) as Record<string, unknown>);
  return createClipTokenizer(bundled, { ...config, ...(padToken !== undefined ? { pad_token: padToken } : {}) });
}

/**
 * SDXL's second tokenizer's padding and force_zeros_for_empty_prompt: from tokenizer_2/ and
 * model_index.json in a folder, OpenCLIP's "!" and the pipeline's default (true) for a single file.
 */
async function sdxlOptions(source: Source | null, parts: SingleFileParts<ComponentBytes>) {
  if (!parts.textEncoder2) return {};
  const second = await tokenizerFor(source, 'tokenizer_2', source ? undefined : '!');
  const index =
    source && (await source.has('model_index.json'))
      ? ((await json(source, 'model_index.json')) as { force_zeros_for_empty_prompt?: unknown })
      : {};
  return { secondPadId: second.padId, zerosForEmptyNegative: index.force_zeros_for_empty_prompt !== false };
}

export async function loadNodeModel(where: string, runtime: NodeSessions): Promise<LoadedNodeModel> {
  const isUrl = /^https?:\/\//.test(where);
  if (!isUrl && !existsSync(where)) throw new ModelError(`${where} does not exist.`);
  const singleFile = !isUrl && statSync(where).isFile();
  const source = singleFile ? null : isUrl ? urlSource(where) : folderSource(where);
  const tokenizer = await tokenizerFor(source);
  const modelOptions = {
    tokenize: (text: string) => tokenizer.tokenize(text),
    // A1111's prompt syntax, as the app reads prompts (a syntax-free prompt encodes as diffusers does).
    chunkTokenizer: chunkTokenizerOf(tokenizer),
    describeTokens: (ids: ArrayLike<number>) => tokenizer.tokenStrings(ids),
    specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
  };
  const ownScheduler =
    source && (await source.has('scheduler/scheduler_config.json'))
      ? ((await json(source, 'scheduler/scheduler_config.json')) as Record<string, unknown>)
      : null;

  // An ONNX export: its graphs as they are, computing in the type they were exported in.
  if (source && (await source.has('unet/model.onnx'))) {
    const onnx = async (part: string) => {
      const external = (await source.has(`${part}/model.onnx_data`))
        ? [{ path: 'model.onnx_data', data: await source.bytes(`${part}/model.onnx_data`) }]
        : [];
      return runtime.create(await source.bytes(`${part}/model.onnx`), external);
    };
    const sessions: OnnxModelSet = {
      textEncoder: await onnx('text_encoder'),
      unet: await onnx('unet'),
      vaeDecoder: await onnx('vae_decoder'),
      ...((await source.has('vae_encoder/model.onnx')) ? { vaeEncoder: await onnx('vae_encoder') } : {}),
    };
    const half = sessions.unet.inputMetadata.some((m) => m.isTensor && m.type === 'float16');
    const p: Precision = half ? 'float16' : 'float32';
    const vaeConfig = (await source.has('vae_decoder/config.json'))
      ? ((await json(source, 'vae_decoder/config.json')) as { scaling_factor?: number })
      : {};
    return {
      models: createOnnxModels(runtime.ort, sessions, {
        ...modelOptions,
        vaeScalingFactor: vaeConfig.scaling_factor ?? 0.18215,
        unetPrecision: p,
      }),
      schedulerConfig: ownScheduler ?? { ...SD_SCHEDULER_CONFIG },
      precision: { textEncoder: p, unet: p, vae: p },
      format: 'onnx',
    };
  }

  let parts: SingleFileParts<ComponentBytes>;
  if (singleFile) {
    const name = where.split('/').pop() ?? where;
    parts = await readSingleFile(await openAsBlob(where), name, null);
  } else if (source && (await source.has('unet/config.json'))) {
    const weights = (base: string) => [`${base}.fp16.safetensors`, `${base}.safetensors`];
    parts = {
      textEncoder: await component(source, 'text_encoder', weights('model')),
      ...((await source.has('text_encoder_2/config.json'))
        ? { textEncoder2: await component(source, 'text_encoder_2', weights('model')) }
        : {}),
      unet: await component(source, 'unet', weights('diffusion_pytorch_model')),
      vae: await component(source, 'vae', weights('diffusion_pytorch_model')),
    };
  } else {
    throw new ModelError(
      `${where} is neither a diffusers folder (unet/config.json), an ONNX export (unet/model.onnx) nor a single .safetensors file.`,
    );
  }
  const built = await checkpointSessions(parts, (_part, model, external) => runtime.create(model, external), {
    padInputChannels: true,
    ...graphForm(runtime.backend, runtime.precision),
    ...(runtime.maxBindingBytes ? { maxBindingBytes: runtime.maxBindingBytes } : {}),
    ...(runtime.controlResiduals ? { controlResiduals: true } : {}),
  });
  const p = built.precision;
  return {
    models: createOnnxModels(runtime.ort, built.sessions, {
      ...modelOptions,
      ...(await sdxlOptions(source, parts)),
      vaeScalingFactor: built.vaeScalingFactor,
      unetPrecision: p,
      ...(built.float32Vae ? { float32Vae: built.float32Vae } : {}),
      ...(built.checkSize ? { checkSize: built.checkSize } : {}),
    }),
    // A single file has no scheduler config: its family's own (SDXL's Euler, SD's PNDM).
    schedulerConfig: ownScheduler ?? { ...(parts.textEncoder2 ? SDXL_SCHEDULER_CONFIG : SD_SCHEDULER_CONFIG) },
    precision: { textEncoder: p, unet: p, vae: built.vaePrecision },
    format: singleFile ? 'single-file' : 'diffusers',
  };
}

/** A ControlNet folder (config.json and its weights, the fp16 variant first) built as the model's networks are. */
export async function loadNodeControlNet(where: string, runtime: NodeSessions): Promise<ControlNetModel> {
  const source = folderSource(where);
  const name = await firstOf(source, [
    'diffusion_pytorch_model.fp16.safetensors',
    'diffusion_pytorch_model.safetensors',
  ]);
  if (!name) throw new ModelError(`${where} has no diffusion_pytorch_model safetensors.`);
  const part: ComponentBytes = {
    configPath: 'config.json',
    config: await json(source, 'config.json'),
    weights: [{ path: name, bytes: await source.bytes(name) }],
  };
  const { session, config } = await controlNetSession(
    part,
    (model, external) => runtime.create(model, external),
    graphForm(runtime.backend, runtime.precision),
  );
  return createControlNetModel(runtime.ort, session, config);
}
