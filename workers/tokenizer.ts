/**
 * CLIP tokenization through @huggingface/transformers' CLIPTokenizer, built from a tokenizer.json
 * and the model's own tokenizer config (which decides the padding token: SD 1.x pads with
 * <|endoftext|>, SD 2.x with "!"). Truncation keeps the start and end tokens, as CLIP does.
 */
import { CLIPTokenizer } from '@huggingface/transformers';
import type { TokenizedPrompt } from '../src/core/pipeline/models';

export const MAX_TOKENS = 77;

export interface ClipTokenizer {
  tokenize(text: string): TokenizedPrompt;
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
  return {
    padId,
    bosId,
    eosId,
    tokenize(text: string): TokenizedPrompt {
      const full = tokenizer.encode(text);
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
