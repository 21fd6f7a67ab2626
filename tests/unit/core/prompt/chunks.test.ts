/**
 * A1111's chunking of long prompts and its emphasis, on a tokenizer whose every word is one id, and
 * the prompt step's use of them (context length, negative prompt padding, plain mode unchanged).
 */
import { describe, expect, it } from 'vitest';
import { parsePromptAttention } from '../../../../src/core/prompt/attention';
import { CHUNK_LENGTH, promptChunks, type ChunkTokenizer } from '../../../../src/core/prompt/chunks';
import { applyEmphasis } from '../../../../src/core/prompt/emphasis';
import { encodePrompt } from '../../../../src/core/pipeline/prompt';
import { tensor } from '../../../../src/core/math/tensor';
import { fakeModels } from '../../../helpers/fake-models';

const BOS = 49406;
const EOS = 49407;
const COMMA = 267;
/** word k → id 1000 + k; "," → 267; "<emb>" → three ids in one group. */
const words: ChunkTokenizer = {
  groups: (text) =>
    text
      .replace(/,/g, ' , ')
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => (w === ',' ? [COMMA] : w === '<emb>' ? [90, 91, 92] : [1000 + Number(w.replace(/\D/g, '') || 0)])),
  bos: BOS,
  eos: EOS,
  pad: EOS,
  comma: COMMA,
};
const prompt = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i}`).join(' ');
const content = (ids: Int32Array, n: number) => Array.from(ids.slice(1, 1 + n));

describe('promptChunks', () => {
  it('a 150-token prompt is two 77-token windows of 75 words each', () => {
    const chunks = promptChunks(parsePromptAttention(prompt(150)), words);
    expect(chunks.map((c) => c.tokens)).toEqual([75, 75]);
    for (const [k, c] of chunks.entries()) {
      expect(c.ids.length).toBe(CHUNK_LENGTH);
      expect(c.ids[0]).toBe(BOS);
      expect(c.ids[76]).toBe(EOS);
      expect(content(c.ids, 75)).toEqual(Array.from({ length: 75 }, (_, i) => 1000 + 75 * k + i));
    }
  });

  it('a short prompt is one chunk padded as CLIPTokenizer pads (end token, then the pad id)', () => {
    const [chunk, ...rest] = promptChunks(parsePromptAttention('w1 w2'), { ...words, pad: 0 });
    expect(rest).toEqual([]);
    expect(Array.from(chunk!.ids.slice(0, 5))).toEqual([BOS, 1001, 1002, EOS, 0]);
    expect(chunk!.tokens).toBe(2);
    expect(promptChunks(parsePromptAttention(''), words).map((c) => c.tokens)).toEqual([0]);
  });

  it('weights follow their words; start, end and padding weigh 1', () => {
    const [chunk] = promptChunks(parsePromptAttention('w1 (w2:1.5) [w3]'), words);
    expect(Array.from(chunk!.weights.slice(0, 6))).toEqual([1, 1, 1.5, Math.fround(1 / 1.1), 1, 1]);
  });

  it('BREAK starts a new chunk', () => {
    const chunks = promptChunks(parsePromptAttention('w1 w2 BREAK w3'), words);
    expect(chunks.map((c) => content(c.ids, c.tokens))).toEqual([[1001, 1002], [1003]]);
  });

  it('a full chunk moves the words after a comma among its last 20 tokens to the next chunk', () => {
    // 70 words, a comma, then 10 words: the chunk fills at 75 with the comma 5 back.
    const chunks = promptChunks(parsePromptAttention(`${prompt(70)}, ${prompt(10, 100)}`), words);
    expect(chunks.map((c) => c.tokens)).toEqual([71, 10]);
    expect(chunks[0]!.ids[71]).toBe(COMMA);
    expect(content(chunks[1]!.ids, 10)).toEqual(Array.from({ length: 10 }, (_, i) => 1100 + i));
    // A comma further back than 20 tokens is not used: the chunk is cut at 75.
    const far = promptChunks(parsePromptAttention(`${prompt(40)}, ${prompt(50, 100)}`), words);
    expect(far.map((c) => c.tokens)).toEqual([75, 16]);
  });

  it("a trigger word's vectors are never split between chunks", () => {
    const chunks = promptChunks(parsePromptAttention(`${prompt(74)} <emb>`), words);
    expect(chunks.map((c) => c.tokens)).toEqual([74, 3]);
    expect(content(chunks[1]!.ids, 3)).toEqual([90, 91, 92]);
  });
});

describe('applyEmphasis', () => {
  it("scales each token's vector by its weight, then restores the chunk's mean", () => {
    const z = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 3, 2]);
    const out = applyEmphasis(z, Float32Array.from([1, 2, 1]));
    const scaled = [1, 2, 6, 8, 5, 6];
    const ratio = 21 / 6 / (28 / 6);
    expect(Array.from(out.data)).toEqual(scaled.map((v) => Math.fround(Math.fround(v) * ratio)));
    expect(out.data.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(3.5, 5);
  });

  it('returns a chunk without emphasis untouched (no rescale by mean/mean)', () => {
    const z = tensor(Float32Array.from([0.1, 0.2, 0.3, 0.7]), [1, 2, 2]);
    expect(applyEmphasis(z, Float32Array.from([1, 1]))).toBe(z);
  });
});

describe('encodePrompt with A1111 syntax', () => {
  const models = () => {
    const m = fakeModels();
    const calls: Int32Array[] = [];
    return {
      calls,
      models: {
        ...m,
        chunkTokenizer: words,
        // Each token's "embedding" is its id, so chunks and their order can be read back.
        async encodeText(ids: Int32Array) {
          calls.push(ids);
          return { hidden: tensor(Float32Array.from(ids), [1, ids.length, 1]), pooled: null };
        },
      },
    };
  };

  it('a 150-token prompt gives a 154-token context; the negative prompt is padded with an empty chunk', async () => {
    const { models: m, calls } = models();
    const e = await encodePrompt(m, { prompt: prompt(150), negativePrompt: 'w7', guidanceScale: 7.5 });
    expect(e.cond.dims).toEqual([1, 154, 1]);
    expect(e.uncond!.dims).toEqual([1, 154, 1]);
    expect(e.batched!.dims).toEqual([2, 154, 1]);
    expect(e.chunks).toBe(2);
    expect(e.truncated).toBe('');
    expect(calls).toHaveLength(4);
    // The second negative chunk is the empty prompt: start, end, padding.
    expect(Array.from(e.uncond!.data.slice(77, 80))).toEqual([BOS, EOS, EOS]);
  });

  it('a prompt longer than an export fixed at 77 tokens is refused with what to do', async () => {
    const { models: m } = models();
    const fixed = { ...m, info: { ...m.info, fixedTextLength: 77 } };
    await expect(encodePrompt(fixed, { prompt: prompt(80), negativePrompt: '', guidanceScale: 7.5 })).rejects.toThrow(
      /exported for 77 tokens.*prompt syntax to plain/,
    );
    await expect(
      encodePrompt(fixed, { prompt: prompt(80), negativePrompt: '', guidanceScale: 7.5, promptSyntax: 'plain' }),
    ).resolves.toBeDefined();
  });

  it("plain mode is the tokenizer's own 77 ids, with what was cut", async () => {
    const { models: m, calls } = models();
    const e = await encodePrompt(m, { prompt: '(w1)', negativePrompt: '', guidanceScale: 1, promptSyntax: 'plain' });
    expect(calls).toHaveLength(1);
    expect(calls[0]![1]).toBe('(w1)'.length); // fakeModels' tokenize: id 1 is the text's length
    expect(e.chunks).toBe(1);
  });

  it('clip skip past what the text encoder has is refused, naming the limit', async () => {
    const { models: m } = models();
    const base = { prompt: 'w1', negativePrompt: '', guidanceScale: 7.5 };
    await expect(encodePrompt(m, { ...base, clipSkip: 2 })).rejects.toThrow(/does not give/);
    const layered = { ...m, info: { ...m.info, textLayers: 2 } };
    await expect(encodePrompt(layered, { ...base, clipSkip: 3 })).rejects.toThrow(/1 to 2/);
  });
});
