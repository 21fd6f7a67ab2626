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
  parts: Pick<CheckpointBytes, 'textEncoder' | 'textEncoder2' | 'unet'>;
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
    const modules = {
      unet: weightNames(parts.unet),
      text_encoder: weightNames(parts.textEncoder),
      ...(parts.textEncoder2 ? { text_encoder_2: weightNames(parts.textEncoder2) } : {}),
    };
    const applied = additions.loras.map((l) => ({
      layers: readLora(`${l.name}.safetensors`, l.file.header, l.file.bytes, modules),
      scale: l.scale,
    }));
    // Embedding vectors become token rows after the vocabulary, in the order given (SDXL: the same
    // ids in both encoders, each its own vectors).
    const [vocab, hidden] = tokenTableShape(parts.textEncoder);
    const hidden2 = parts.textEncoder2 ? tokenTableShape(parts.textEncoder2)[1] : undefined;
    const read = additions.embeddings.map((e) => ({
      trigger: e.trigger,
      ...readEmbedding(`${e.name}.safetensors`, e.file.header, e.file.bytes, hidden, hidden2),
    }));
    const count = read.reduce((n, e) => n + e.count, 0);
    const rows = new Float32Array(count * hidden);
    const rows2 = hidden2 !== undefined ? new Float32Array(count * hidden2) : undefined;
    const added: AddedTokens[] = [];
    let next = 0;
    for (const e of read) {
      rows.set(e.vectors, next * hidden);
      if (rows2 && e.second) rows2.set(e.second, next * hidden2!);
      added.push({ trigger: e.trigger, ids: Array.from({ length: e.count }, (_, k) => vocab + next + k) });
      next += e.count;
    }
    await Promise.all(built.map((x) => x.release().catch(() => undefined)));
    built = [];
    if (applied.length === 0 && count === 0 && !additions.control) return plain;
    const made = await additionSessions(
      parts,
      { loras: applied, embeddingRows: rows, ...(rows2 ? { embeddingRows2: rows2 } : {}), embeddingCount: count },
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
        ...(made.textEncoder2 ? { textEncoder2: made.textEncoder2 } : {}),
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

/** A text encoder's token table's [vocabulary, width], from its weights' headers. */
function tokenTableShape(part: CheckpointBytes['textEncoder']): [number, number] {
  const table = part.weights
    .map((w) => parseSafetensors(w.path, w.bytes))
    .flatMap((h) => [...h.tensors.values()])
    .find((e) => e.name.endsWith('embeddings.token_embedding.weight'));
  if (!table) throw new ModelError(`${part.configPath}: the text encoder has no token embedding table.`);
  return table.shape as [number, number];
}
