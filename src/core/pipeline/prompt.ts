/** Step "encode the prompt" of every pipeline: the text embeddings guidance needs, made once per run. */
import { ValidationError } from '../errors';
import { tensor, type Tensor } from '../math/tensor';
import { parsePromptAttention } from '../prompt/attention';
import { CHUNK_LENGTH, CHUNK_TOKENS, emptyChunk, promptChunks, type PromptChunk } from '../prompt/chunks';
import { applyEmphasis } from '../prompt/emphasis';
import type { PromptSyntax } from '../prompt/syntax';
import { guidanceScaleEmbedding, usesGuidance } from './guidance';
import type { Models, TextEncoding, TokenizedPrompt } from './models';

/** Text embeddings for guidance: the negative (unconditional) half first, as diffusers orders them. */
export interface PromptEmbeddings {
  cond: Tensor;
  uncond: Tensor | null;
  /** The batch-2 text the UNet takes every step when it runs both halves in one call, built once. */
  batched: Tensor | null;
  /** Reused every step for the batch-2 latent input, so the loop allocates no latent-sized pair. */
  pair?: Float32Array;
  truncated: string;
  /** How many 77-token chunks the text is (1 unless A1111's syntax made a long prompt longer). */
  chunks: number;
  /** An LCM UNet's guidance embedding [1, dim] (its guidance instead of an unconditional half). */
  timestepCond?: Tensor;
  /** SDXL's pooled text [1, pooled] per half, and batched as `batched` is; absent for SD 1.x/2.x. */
  pooled?: PooledText;
}

/** SDXL's pooled text for each half of a guided step, and the two as one batch. */
export interface PooledText {
  cond: Tensor;
  uncond: Tensor | null;
  batched: Tensor | null;
}

/** What encoding the prompt takes from a run's parameters. */
export interface PromptSettings {
  prompt: string;
  negativePrompt: string;
  guidanceScale: number;
  /** 'plain' reads the prompt as literal text cut at 77 tokens, as diffusers does; absent: A1111's syntax. */
  promptSyntax?: PromptSyntax;
  /** A1111's clip skip (2 and up; absent: the last layer). */
  clipSkip?: number;
}

/** Tokenize and encode the prompt, and the negative prompt when guided. */
export async function encodePrompt(models: Models, settings: PromptSettings): Promise<PromptEmbeddings> {
  const { prompt, negativePrompt, guidanceScale, clipSkip } = settings;
  checkClipSkip(models, clipSkip);
  const chunked = settings.promptSyntax !== 'plain' && models.chunkTokenizer;
  // An LCM UNet was distilled with guidance built in: one call with the scale's embedding, and no
  // negative prompt, as LatentConsistencyModelPipeline.
  const embedDim = models.info.guidanceEmbedDim;
  // diffusers encodes "" when there is no negative prompt.
  const guided = !embedDim && usesGuidance(guidanceScale);
  // SDXL's force_zeros_for_empty_prompt: an empty negative prompt is zeros, not the encoding of "".
  const zeroNegative = guided && models.info.zerosForEmptyNegative === true && negativePrompt === '';
  let cond: TextEncoding;
  let uncond: TextEncoding | null = null;
  let truncated = '';
  let chunks = 1;
  if (chunked) {
    const tokenizer = chunked;
    const positive = promptChunks(parsePromptAttention(prompt), tokenizer);
    const negative = guided && !zeroNegative ? promptChunks(parsePromptAttention(negativePrompt), tokenizer) : [];
    // Both halves of a guided step take one context length: the shorter is padded with empty
    // chunks, the encoding of an empty prompt (A1111's "pad prompt/negative prompt").
    chunks = Math.max(positive.length, negative.length);
    const padded = (list: PromptChunk[]) => [
      ...list,
      ...Array.from({ length: chunks - list.length }, () => emptyChunk(tokenizer)),
    ];
    checkTextLength(models, chunks);
    cond = await encodeChunks(models, padded(positive), clipSkip);
    if (guided && !zeroNegative) uncond = await encodeChunks(models, padded(negative), clipSkip);
  } else {
    const positive: TokenizedPrompt = await models.tokenize(prompt);
    cond = await models.encodeText(positive.ids, clipSkip);
    truncated = positive.truncated;
    if (guided && !zeroNegative)
      uncond = await models.encodeText((await models.tokenize(negativePrompt)).ids, clipSkip);
  }
  if (zeroNegative) uncond = { hidden: zerosLike(cond.hidden), pooled: cond.pooled && zerosLike(cond.pooled) };
  const batch = models.info.unetBatch;
  const pooled = cond.pooled ? { pooled: pooledText(cond.pooled, uncond?.pooled ?? null, batch) } : {};
  if (embedDim) {
    const unguided = { cond: cond.hidden, uncond: null, batched: null, truncated, chunks, ...pooled };
    return withGuidanceEmbedding(models, unguided, guidanceScale);
  }
  const hidden = uncond?.hidden ?? null;
  return {
    cond: cond.hidden,
    uncond: hidden,
    batched: batchOf(cond.hidden, hidden, batch),
    truncated,
    chunks,
    ...pooled,
  };
}

/**
 * What a UNet call takes for both halves at once: [uncond; cond] when guided, [cond; cond] for a
 * batch-2 export unguided; null where the halves are taken apart (a batch-1 export) or one suffices.
 */
function batchOf(cond: Tensor, uncond: Tensor | null, batch: Models['info']['unetBatch']): Tensor | null {
  if (uncond) return batch === 1 ? null : concatBatch(uncond, cond);
  return batch === 2 ? concatBatch(cond, cond) : null;
}

function pooledText(cond: Tensor, uncond: Tensor | null, batch: Models['info']['unetBatch']): PooledText {
  return { cond, uncond, batched: batchOf(cond, uncond, batch) };
}

function zerosLike(x: Tensor): Tensor {
  return tensor(new Float32Array(x.data.length), [...x.dims]);
}

/** One prompt as the text encoder will see it: its 77-token windows with each token's weight. */
export interface PromptTokens {
  chunks: PromptChunk[];
  /** What plain mode cut past 77 tokens ('' when nothing, and always with A1111's syntax). */
  truncated: string;
}

/** The prompt's tokens as encodePrompt reads them (for the explore view). */
export async function promptTokens(
  models: Models,
  text: string,
  syntax: PromptSyntax = 'a1111',
): Promise<PromptTokens> {
  if (syntax === 'a1111' && models.chunkTokenizer) {
    return { chunks: promptChunks(parsePromptAttention(text), models.chunkTokenizer), truncated: '' };
  }
  const { ids, used, truncated } = await models.tokenize(text);
  return { chunks: [{ ids, weights: new Float32Array(ids.length).fill(1), tokens: used - 2 }], truncated };
}

/**
 * Each chunk encoded on its own with its emphasis, then all of them one after another: [1, 77·n,
 * hidden]; SDXL's pooled text is the first chunk's, as A1111 takes it.
 */
async function encodeChunks(
  models: Models,
  chunks: readonly PromptChunk[],
  clipSkip: number | undefined,
): Promise<TextEncoding> {
  const parts: Tensor[] = [];
  let pooled: Tensor | null = null;
  for (const [i, chunk] of chunks.entries()) {
    const encoded = await models.encodeText(chunk.ids, clipSkip);
    if (i === 0) pooled = encoded.pooled;
    parts.push(applyEmphasis(encoded.hidden, chunk.weights));
  }
  return { hidden: joinChunks(parts), pooled };
}

/** Chunks' hidden states one after another along the token axis. */
function joinChunks(parts: Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const hidden = parts[0]!.dims[2]!;
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return tensor(data, [1, data.length / hidden, hidden]);
}

/** An export that fixes its text length at 77 cannot take a longer prompt: said before any encoding. */
function checkTextLength(models: Models, chunks: number): void {
  const fixed = models.info.fixedTextLength;
  if (fixed !== undefined && chunks * CHUNK_LENGTH > fixed) {
    throw new ValidationError(
      `This model's UNet was exported for ${fixed} tokens of text, and the prompt needs ${chunks} chunks of ${CHUNK_LENGTH}. ` +
        `Shorten it to ${CHUNK_TOKENS} tokens, or set prompt syntax to plain, which cuts it at the limit.`,
      'prompt',
    );
  }
}

function checkClipSkip(models: Models, clipSkip: number | undefined): void {
  if (clipSkip === undefined || clipSkip <= 1) return;
  const layers = models.info.textLayers;
  if (layers === undefined) {
    throw new ValidationError(
      "Clip skip needs the text encoder's inner layers, which this model's ONNX export does not give. Set clip skip to 1, or load the model as safetensors.",
      'clipSkip',
    );
  }
  if (clipSkip > layers) {
    throw new ValidationError(
      `Clip skip ${clipSkip} is more than this text encoder's ${layers} layers; use 1 to ${layers}.`,
      'clipSkip',
    );
  }
}

/** The embeddings of an LCM UNet for one guidance scale: the conditional half with the scale's embedding. */
function withGuidanceEmbedding(models: Models, embeddings: PromptEmbeddings, guidanceScale: number): PromptEmbeddings {
  const dim = models.info.guidanceEmbedDim!;
  return {
    ...unguided(models, embeddings),
    timestepCond: tensor(guidanceScaleEmbedding(guidanceScale, dim), [1, dim]),
  };
}

/** The conditional half alone, as a run without guidance takes it. */
function unguided(models: Models, full: PromptEmbeddings): PromptEmbeddings {
  const batch = models.info.unetBatch;
  const { cond, truncated, chunks, pooled } = full;
  return {
    cond,
    uncond: null,
    batched: batchOf(cond, null, batch),
    truncated,
    chunks,
    ...(pooled ? { pooled: pooledText(pooled.cond, null, batch) } : {}),
  };
}

/** [a; b] along the batch axis. */
function concatBatch(a: Tensor, b: Tensor): Tensor {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return tensor(data, [a.dims[0]! + b.dims[0]!, ...a.dims.slice(1)]);
}

/** [x; x] in the embeddings' reusable buffer (the UNet has copied it in before the call returns). */
export function duplicateBatch(x: Tensor, embeddings: PromptEmbeddings): Tensor {
  const n = x.data.length;
  if (embeddings.pair?.length !== 2 * n) embeddings.pair = new Float32Array(2 * n);
  embeddings.pair.set(x.data, 0);
  embeddings.pair.set(x.data, n);
  return tensor(embeddings.pair, [2 * x.dims[0]!, ...x.dims.slice(1)]);
}

/**
 * The embeddings one guidance scale needs, cut from an encoding made for the largest scale: the
 * unconditional half only when this scale uses guidance, as encodePrompt would have made them.
 */
export function embeddingsForGuidance(models: Models, full: PromptEmbeddings, guidanceScale: number): PromptEmbeddings {
  if (models.info.guidanceEmbedDim) return withGuidanceEmbedding(models, full, guidanceScale);
  if (usesGuidance(guidanceScale) || !full.uncond) return full;
  return unguided(models, full);
}
