/** The tiny model on onnxruntime-node: the same adapter and pipeline the worker runs, another runtime. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { Models } from '../../src/core/pipeline/models';
import { createOnnxModels } from '../../src/worker/runtime/onnx-models';
import { createClipTokenizer } from '../../src/worker/loading/tokenizer';

export const MODELS_DIR = fileURLToPath(new URL('../../public/models/', import.meta.url));
export const TINY_DIR = `${MODELS_DIR}tiny-sd/`;

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export async function loadTinyModels(
  dir = TINY_DIR,
): Promise<{ models: Models; schedulerConfig: Record<string, unknown> }> {
  const session = (part: string) =>
    ort.InferenceSession.create(readFileSync(`${dir}${part}/model.onnx`), { executionProviders: ['cpu'] });
  const [textEncoder, unet, vaeDecoder, vaeEncoder] = await Promise.all([
    session('text_encoder'),
    session('unet'),
    session('vae_decoder'),
    session('vae_encoder'),
  ]);
  const tokenizer = createClipTokenizer(
    readJson<object>(`${dir}tokenizer/tokenizer.json`),
    readJson<Record<string, unknown>>(`${dir}tokenizer/tokenizer_config.json`),
  );
  const vae = readJson<{ scaling_factor?: number }>(`${dir}vae_decoder/config.json`);
  const models = createOnnxModels(
    ort,
    { textEncoder, unet, vaeDecoder, vaeEncoder },
    {
      tokenize: (text) => tokenizer.tokenize(text),
      describeTokens: (ids) => tokenizer.tokenStrings(ids),
      specialTokens: { bos: tokenizer.bosId, eos: tokenizer.eosId, pad: tokenizer.padId },
      vaeScalingFactor: vae.scaling_factor ?? 0.18215,
    },
  );
  return { models, schedulerConfig: readJson(`${dir}scheduler/scheduler_config.json`) };
}
