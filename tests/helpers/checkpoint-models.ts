/** A diffusers checkpoint folder on onnxruntime-node, through the worker's own session builder. */
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { createOnnxModels, type OnnxModels } from '../../src/worker/runtime/onnx-models';
import {
  checkpointSessions,
  controlNetSession,
  type ComponentBytes,
} from '../../src/worker/runtime/safetensors-sessions';
import { createControlNetModel } from '../../src/worker/runtime/controlnet-model';
import type { ControlNetModel } from '../../src/core/pipeline/control';
import { chunkTokenizerOf, createClipTokenizer } from '../../src/worker/loading/tokenizer';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { readLora } from '../../src/core/networks/lora';
import { MODELS_DIR, readJson } from './node-models';
import { readSingleFile } from '../../src/worker/loading/single-file';

/** The app's bundled CLIP tokenizer.json (the reference repos have only vocab.json + merges.txt). */
const TOKENIZER_JSON = `${MODELS_DIR}../tokenizers/clip/tokenizer.json`;

function component(dir: string, part: string, names: string[]): ComponentBytes {
  const name = names.find((n) => existsSync(`${dir}${part}/${n}`));
  if (!name) throw new Error(`${dir}${part} has none of ${names.join(', ')}`);
  return {
    configPath: `${part}/config.json`,
    config: readJson(`${dir}${part}/config.json`),
    weights: [{ path: `${part}/${name}`, bytes: new Uint8Array(readFileSync(`${dir}${part}/${name}`)) }],
  };
}

export async function loadCheckpoint(
  dir: string,
  options: {
    fp16?: boolean;
    padInputChannels?: boolean;
    loras?: { path: string; scale: number }[];
    /** Where the text encoder, VAE, tokenizer and scheduler are, when not in `dir` (a variant UNet's folder). */
    shared?: string;
    /** An original single-file checkpoint holding the weights, the folder giving only the configs. */
    singleFile?: string;
    /** The UNet takes a ControlNet's residuals. */
    control?: boolean;
    /** SDXL: overrides model_index.json's force_zeros_for_empty_prompt. */
    zerosForEmptyNegative?: boolean;
  } = {},
): Promise<{ models: OnnxModels; schedulerConfig: Record<string, unknown> }> {
  const variant = options.fp16 ? '.fp16' : '';
  const shared = options.shared ?? dir;
  let textEncoder = component(shared, 'text_encoder', [`model${variant}.safetensors`]);
  let unet = component(dir, 'unet', [`diffusion_pytorch_model${variant}.safetensors`]);
  let vae = component(shared, 'vae', [`diffusion_pytorch_model${variant}.safetensors`]);
  // SDXL: a second text encoder and tokenizer, and force_zeros_for_empty_prompt in model_index.json.
  const sdxl = existsSync(`${shared}text_encoder_2`);
  let textEncoder2 = sdxl ? component(shared, 'text_encoder_2', [`model${variant}.safetensors`]) : null;
  if (options.singleFile) {
    const config = (part: string, c: ComponentBytes) => ({ path: `${part}/config.json`, json: c.config });
    const file = new Blob([readFileSync(options.singleFile)]);
    const parts = await readSingleFile(file, options.singleFile.split('/').pop()!, {
      textEncoder: config('text_encoder', textEncoder),
      ...(textEncoder2 ? { textEncoder2: config('text_encoder_2', textEncoder2) } : {}),
      unet: config('unet', unet),
      vae: config('vae', vae),
    });
    ({ textEncoder, unet, vae } = parts);
    textEncoder2 = parts.textEncoder2 ?? null;
  }
  const names = (c: ComponentBytes) => [...parseSafetensors('w', c.weights[0]!.bytes).tensors.keys()];
  const modules = {
    unet: names(unet),
    text_encoder: names(textEncoder),
    ...(textEncoder2 ? { text_encoder_2: names(textEncoder2) } : {}),
  };
  const loras = (options.loras ?? []).map(({ path, scale }) => {
    const bytes = new Uint8Array(readFileSync(path));
    return { layers: readLora(path.split('/').pop()!, parseSafetensors(path, bytes), bytes, modules), scale };
  });
  const { sessions, vaeScalingFactor } = await checkpointSessions(
    { textEncoder, ...(textEncoder2 ? { textEncoder2 } : {}), unet, vae },
    (_part, model, externalData) => ort.InferenceSession.create(model, { externalData }),
    {
      padInputChannels: options.padInputChannels ?? false,
      loras,
      ...(options.control ? { controlResiduals: true } : {}),
    },
  );
  const tokenizer = createClipTokenizer(
    readJson<object>(TOKENIZER_JSON),
    readJson<Record<string, unknown>>(`${shared}tokenizer/tokenizer_config.json`),
  );
  const second = sdxl
    ? createClipTokenizer(
        readJson<object>(TOKENIZER_JSON),
        readJson<Record<string, unknown>>(`${shared}tokenizer_2/tokenizer_config.json`),
      )
    : null;
  const index = readJson<{ force_zeros_for_empty_prompt?: boolean }>(`${shared}model_index.json`);
  const models = createOnnxModels(ort, sessions, {
    ...(second
      ? {
          secondPadId: second.padId,
          zerosForEmptyNegative: options.zerosForEmptyNegative ?? index.force_zeros_for_empty_prompt ?? true,
        }
      : {}),
    tokenize: (text) => tokenizer.tokenize(text),
    chunkTokenizer: chunkTokenizerOf(tokenizer),
    describeTokens: (ids) => tokenizer.tokenStrings(ids),
    specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
    vaeScalingFactor,
  });
  return { models, schedulerConfig: readJson(`${shared}scheduler/scheduler_config.json`) };
}

/** A ControlNet folder (config.json + diffusion_pytorch_model[.fp16].safetensors) on onnxruntime-node. */
export async function loadControlNet(dir: string, options: { fp16?: boolean } = {}): Promise<ControlNetModel> {
  const name = `diffusion_pytorch_model${options.fp16 ? '.fp16' : ''}.safetensors`;
  const part: ComponentBytes = {
    configPath: 'config.json',
    config: readJson(`${dir}config.json`),
    weights: [{ path: name, bytes: new Uint8Array(readFileSync(`${dir}${name}`)) }],
  };
  return controlNetFrom(part);
}

/** A ControlNet's bytes (a folder's, or a single file read as one) as a model on onnxruntime-node. */
export async function controlNetFrom(part: ComponentBytes): Promise<ControlNetModel> {
  const { session, config } = await controlNetSession(
    part,
    (model, externalData) => ort.InferenceSession.create(model, { externalData }),
    {},
  );
  return createControlNetModel(ort, session, config);
}
