/**
 * LoRAs and textual-inversion embeddings merged into a loaded checkpoint: its text encoder and
 * UNet are rebuilt from the bytes kept in memory, so a strength change downloads and re-reads
 * nothing. The sessions of the last build are released when the next replaces them.
 */
import { ModelError } from '../../core/errors';
import type { GraphForm } from '../../core/networks/graph';
import { readEmbedding } from '../../core/networks/embedding';
import { readLora } from '../../core/networks/lora';
import type { Models } from '../../core/pipeline/models';
import { parseSafetensors } from '../../core/formats/safetensors';
import type { Additions } from '../loaded-model';
import { createOnnxModels, type OnnxModelSet, type OnnxModelsOptions } from '../runtime/onnx-models';
import type { ort, OrtWeb } from '../runtime/ort-env';
import { additionSessions, weightNames, type CheckpointBytes } from '../runtime/safetensors-sessions';
import { chunkTokenizerOf, type AddedTokens, type ClipTokenizer } from './tokenizer';

type Session = ort.InferenceSession;
type SessionOptions = ort.InferenceSession.SessionOptions;

export interface AdditionsBuilder {
  build: (additions: Additions) => Promise<Models>;
  /** The sessions of the last build (released with the model). */
  sessions: () => Session[];
}

export function additionsBuilder(setup: {
  parts: Pick<CheckpointBytes, 'textEncoder' | 'unet'>;
  /** How the loaded graphs were built (linear form, compute type, kernels): rebuilt graphs match them. */
  graph: GraphForm;
  runtime: OrtWeb;
  options: SessionOptions;
  unetExtra: SessionOptions;
  plain: Models;
  plainSessions: OnnxModelSet;
  modelOptions: OnnxModelsOptions;
  tokenizer: ClipTokenizer;
}): AdditionsBuilder {
  const { parts, graph, runtime, options, unetExtra, plain, plainSessions, modelOptions, tokenizer } = setup;
  let built: Session[] = [];
  const build = async (additions: Additions): Promise<Models> => {
    if (plainSessions.textEncoder2 && (additions.loras.length > 0 || additions.embeddings.length > 0)) {
      // SDXL LoRAs name two text encoders (lora_te1_, lora_te2_) and SDXL's UNet blocks; embeddings
      // hold clip_l and clip_g vectors: neither is merged into SDXL here yet, so none is half-applied.
      throw new ModelError(
        'LoRAs and textual-inversion embeddings are not applied to SDXL models yet: remove them from the prompt (or the LoRA list) to generate with this model.',
      );
    }
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
    await Promise.all(built.map((x) => x.release().catch(() => undefined)));
    built = [];
    if (applied.length === 0 && count === 0 && !additions.control) return plain;
    const made = await additionSessions(
      parts,
      { loras: applied, embeddingRows: rows, embeddingCount: count },
      async (part, model, external) => {
        const session = await runtime.InferenceSession.create(model, {
          ...options,
          ...(part === 'unet' ? unetExtra : {}),
          externalData: external,
        });
        built.push(session);
        return session;
      },
      { padInputChannels: true, ...graph, ...(additions.control ? { controlResiduals: true } : {}) },
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
      {
        ...plainSessions,
        ...(made.textEncoder ? { textEncoder: made.textEncoder } : {}),
        ...(made.unet ? { unet: made.unet } : {}),
      },
      {
        ...modelOptions,
        tokenize: (text) => tokenizer.tokenize(text, added),
        chunkTokenizer: chunkTokenizerOf(tokenizer, added),
        describeTokens: names,
      },
    );
  };
  return { build, sessions: () => built };
}
