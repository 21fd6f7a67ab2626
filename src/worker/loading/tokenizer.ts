/**
 * CLIP tokenization through @huggingface/transformers' CLIPTokenizer, built from a tokenizer.json
 * and the model's own tokenizer config (which decides the padding token: SD 1.x pads with
 * <|endoftext|>, SD 2.x with "!"). Truncation keeps the start and end tokens, as CLIP does.
 */
import { CLIPTokenizer } from '@huggingface/transformers';
import type { TokenizedPrompt } from '../../core/pipeline/models';
import type { ChunkTokenizer } from '../../core/prompt/chunks';

export const MAX_TOKENS = 77;

/** A textual-inversion trigger word and the ids of its vectors (appended after the vocabulary). */
export interface AddedTokens {
  trigger: string;
  ids: number[];
}

export interface ClipTokenizer {
  tokenize(text: string, added?: readonly AddedTokens[]): TokenizedPrompt;
  /** A piece of text's ids without start or end token: one group per token, a trigger's ids as one. */
  groups(text: string, added?: readonly AddedTokens[]): number[][];
  /** The id of "," as a word of its own (A1111's chunking moves words after it), null if none. */
  readonly commaId: number | null;
  /** Token strings for ids, for the explore view. */
  tokenStrings(ids: ArrayLike<number>): string[];
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
}

export function createClipTokenizer(tokenizerJson: object, tokenizerConfig: Record<string, unknown>): ClipTokenizer {
  const tokenizer = new CLIPTokenizer(tokenizerJson, tokenizerConfig);
  const bosId = tokenizer.bos_token_id ?? 49406;
  const eosId = tokenizer.eos_token_id ?? 49407;
  const padId = tokenizer.pad_token_id ?? eosId;
  /**
   * The text split at the trigger words (as a tokenizer splits at added tokens), each piece encoded
   * alone and each trigger replaced by its vectors' ids, as diffusers' load_textual_inversion makes
   * "<tok>" into "<tok> <tok>_1 …" added tokens. No start or end token.
   */
  const pieces = (text: string, added: readonly AddedTokens[]): number[][] => {
    const words = (piece: string) =>
      piece.trim() ? tokenizer.encode(piece, { add_special_tokens: false }).map((id) => [Number(id)]) : [];
    if (added.length === 0) return words(text);
    const triggers = [...added].sort((a, b) => b.trigger.length - a.trigger.length);
    const out: number[][] = [];
    let rest = text;
    while (rest.length > 0) {
      let at = -1;
      let hit: AddedTokens | null = null;
      for (const t of triggers) {
        const i = rest.indexOf(t.trigger);
        if (i >= 0 && (at < 0 || i < at)) {
          at = i;
          hit = t;
        }
      }
      out.push(...words(hit ? rest.slice(0, at) : rest));
      if (!hit) break;
      out.push([...hit.ids]);
      rest = rest.slice(at + hit.trigger.length);
    }
    return out;
  };
  const withAdded = (text: string, added: readonly AddedTokens[]): number[] => [
    bosId,
    ...pieces(text, added).flat(),
    eosId,
  ];
  const comma = tokenizer.encode(',', { add_special_tokens: false });
  return {
    padId,
    bosId,
    eosId,
    commaId: comma.length === 1 ? Number(comma[0]) : null,
    groups: (text, added = []) => pieces(text, added),
    tokenize(text: string, added: readonly AddedTokens[] = []): TokenizedPrompt {
      const full = added.length === 0 ? tokenizer.encode(text) : withAdded(text, added);
      const ids = new Int32Array(MAX_TOKENS).fill(padId);
      let truncated = '';
      let kept = full;
      if (full.length > MAX_TOKENS) {
        // [BOS] 75 content tokens [EOS]: what CLIPTokenizer(truncation=True, max_length=77) keeps.
        truncated = tokenizer.decode(full.slice(MAX_TOKENS - 1, -1), { skip_special_tokens: true }).trim();
        kept = [...full.slice(0, MAX_TOKENS - 1), eosId];
      }
      ids.set(kept.map(Number));
      return { ids, used: kept.length, truncated };
    },
    tokenStrings(ids) {
      return Array.from(ids, (id) => tokenizer._tokenizer.id_to_token(Number(id)) ?? '');
    },
  };
}

/** What A1111's chunking needs of a tokenizer, with the run's trigger words. */
export function chunkTokenizerOf(tokenizer: ClipTokenizer, added: readonly AddedTokens[] = []): ChunkTokenizer {
  return {
    groups: (text) => tokenizer.groups(text, added),
    bos: tokenizer.bosId,
    eos: tokenizer.eosId,
    pad: tokenizer.padId,
    comma: tokenizer.commaId,
  };
}
