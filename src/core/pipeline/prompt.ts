/** Step "encode the prompt" of every pipeline: the text embeddings guidance needs, made once per run. */
import { tensor, type Tensor } from '../math/tensor';
import { guidanceScaleEmbedding, usesGuidance } from './guidance';
import type { Models, TokenizedPrompt } from './models';

/** Text embeddings for guidance: the negative (unconditional) half first, as diffusers orders them. */
export interface PromptEmbeddings {
  cond: Tensor;
  uncond: Tensor | null;
  /** The batch-2 text the UNet takes every step when it runs both halves in one call, built once. */
  batched: Tensor | null;
  /** Reused every step for the batch-2 latent input, so the loop allocates no latent-sized pair. */
  pair?: Float32Array;
  truncated: string;
  /** An LCM UNet's guidance embedding [1, dim] (its guidance instead of an unconditional half). */
  timestepCond?: Tensor;
}

/** Tokenize and encode the prompt, and the negative prompt when guided. */
export async function encodePrompt(
  models: Models,
  prompt: string,
  negativePrompt: string,
  guidanceScale: number,
): Promise<PromptEmbeddings> {
  const positive: TokenizedPrompt = await models.tokenize(prompt);
  const cond = await models.encodeText(positive.ids);
  // An LCM UNet was distilled with guidance built in: one call with the scale's embedding, and no
  // negative prompt, as LatentConsistencyModelPipeline.
  const embedDim = models.info.guidanceEmbedDim;
  if (embedDim)
    return withGuidanceEmbedding(
      models,
      { cond, uncond: null, batched: null, truncated: positive.truncated },
      guidanceScale,
    );
  // diffusers encodes "" when there is no negative prompt.
  const uncond = usesGuidance(guidanceScale)
    ? await models.encodeText((await models.tokenize(negativePrompt)).ids)
    : null;
  // A batch-2 export takes [uncond; cond] (or [cond; cond] unguided); a batch-1 export takes the halves apart.
  const batch = models.info.unetBatch;
  const batched = uncond
    ? batch === 1
      ? null
      : concatBatch(uncond, cond)
    : batch === 2
      ? concatBatch(cond, cond)
      : null;
  return { cond, uncond, batched, truncated: positive.truncated };
}

/** The embeddings of an LCM UNet for one guidance scale: the conditional half with the scale's embedding. */
function withGuidanceEmbedding(models: Models, embeddings: PromptEmbeddings, guidanceScale: number): PromptEmbeddings {
  const dim = models.info.guidanceEmbedDim!;
  const { cond, truncated } = embeddings;
  return {
    cond,
    uncond: null,
    batched: models.info.unetBatch === 2 ? concatBatch(cond, cond) : null,
    truncated,
    timestepCond: tensor(guidanceScaleEmbedding(guidanceScale, dim), [1, dim]),
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
  const batched = models.info.unetBatch === 2 ? concatBatch(full.cond, full.cond) : null;
  return { cond: full.cond, uncond: null, batched, truncated: full.truncated };
}
