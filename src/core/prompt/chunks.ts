/**
 * A1111's long prompts: the weighted text cut into chunks of 75 tokens, each encoded on its own as
 * [start, 75 tokens, end] and the encodings concatenated (the UNet's cross-attention takes any
 * context length). A chunk that fills up moves the words after its last comma (when that comma is
 * among its last 20 tokens) to the next chunk, as A1111's default `comma_padding_backtrack` does;
 * a textual-inversion trigger's vectors are never split between chunks.
 */
import { ValidationError } from '../errors';
import type { PromptPiece } from './attention';

/** Content tokens per chunk; with the start and end tokens a chunk is CLIP's 77. */
export const CHUNK_TOKENS = 75;
export const CHUNK_LENGTH = CHUNK_TOKENS + 2;
const COMMA_BACKTRACK = 20;

export interface PromptChunk {
  /** CLIP's 77 ids: start, content, end, then padding, exactly as CLIPTokenizer pads. */
  ids: Int32Array;
  /** Each position's emphasis (1 for start, end and padding). */
  weights: Float32Array;
  /** Content tokens in the chunk (0..75). */
  tokens: number;
}

/** What chunking needs of the tokenizer. */
export interface ChunkTokenizer {
  /**
   * The ids of a piece of text with no start or end token, in groups: one id per word piece, and
   * all of a trigger word's vectors in one group.
   */
  groups(text: string): number[][];
  bos: number;
  eos: number;
  pad: number;
  /** The id of "," as a word of its own, or null when the vocabulary has none. */
  comma: number | null;
}

export function promptChunks(pieces: readonly PromptPiece[], tokenizer: ChunkTokenizer): PromptChunk[] {
  const { bos, eos, pad, comma } = tokenizer;
  const chunks: PromptChunk[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;

  const close = () => {
    const chunk: PromptChunk = {
      ids: new Int32Array(CHUNK_LENGTH).fill(pad),
      weights: new Float32Array(CHUNK_LENGTH).fill(1),
      tokens: ids.length,
    };
    // [start, content, end, padding…]: padding after the first end token, as CLIPTokenizer pads.
    chunk.ids[0] = bos;
    chunk.ids.set(ids, 1);
    chunk.weights.set(weights, 1);
    chunk.ids[ids.length + 1] = eos;
    chunks.push(chunk);
    ids = [];
    weights = [];
    lastComma = -1;
  };

  for (const piece of pieces) {
    if ('break' in piece) {
      close();
      continue;
    }
    for (const group of tokenizer.groups(piece.text)) {
      if (group.length > CHUNK_TOKENS) {
        throw new ValidationError(
          `An embedding in the prompt has ${group.length} vectors, more than the ${CHUNK_TOKENS} a chunk holds.`,
          'prompt',
        );
      }
      const isComma = group.length === 1 && group[0] === comma;
      if (isComma) lastComma = ids.length;
      else if (ids.length === CHUNK_TOKENS && lastComma !== -1 && ids.length - lastComma <= COMMA_BACKTRACK) {
        // The words after the last comma start the next chunk instead of being split from it.
        const at = lastComma + 1;
        const movedIds = ids.slice(at);
        const movedWeights = weights.slice(at);
        ids = ids.slice(0, at);
        weights = weights.slice(0, at);
        close();
        ids = movedIds;
        weights = movedWeights;
      }
      if (ids.length + group.length > CHUNK_TOKENS) close();
      ids.push(...group);
      for (let i = 0; i < group.length; i++) weights.push(piece.weight);
    }
  }
  if (ids.length > 0 || chunks.length === 0) close();
  return chunks;
}

/** A chunk with no content: what an empty prompt encodes as, used to bring two prompts to one length. */
export function emptyChunk(tokenizer: Pick<ChunkTokenizer, 'bos' | 'eos' | 'pad'>): PromptChunk {
  const ids = new Int32Array(CHUNK_LENGTH).fill(tokenizer.pad);
  ids[0] = tokenizer.bos;
  ids[1] = tokenizer.eos;
  return { ids, weights: new Float32Array(CHUNK_LENGTH).fill(1), tokens: 0 };
}
