/**
 * The prompt step on reference checkpoints (onnxruntime-node): A1111's syntax leaves a syntax-free
 * prompt exactly as diffusers encodes it, emphasis and long prompts change only what they should,
 * and clip skip equals diffusers' `clip_skip`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePrompt } from '../../../../src/core/pipeline/prompt';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import type { OnnxModels } from '../../../../src/worker/runtime/onnx-models';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { NETWORKS_DIR } from '../../../helpers/fixtures';
import { normRelativeError, readGolden } from '../../../helpers/goldens';

interface ClipSkipCase {
  checkpoint: string;
  prompt: string;
  clipSkip: number;
  dims: number[];
  data: number[];
}
const golden = readGolden<{ cases: ClipSkipCase[] }>('clip-skip.json');

describe.each(['sd1', 'sd2-depth'])('%s', (name) => {
  let models: OnnxModels;
  beforeAll(async () => {
    ({ models } = await loadCheckpoint(`${NETWORKS_DIR}${name}/`));
  });
  const text = (prompt: string, extra: object = {}) =>
    encodePrompt(models, { prompt, negativePrompt: '', guidanceScale: 1, ...extra });

  it('a prompt without syntax, up to 75 tokens, encodes bit for bit as diffusers does (and as plain)', async () => {
    const prompt = 'a yellow triangle on a green background, high detail: 4k';
    const direct = (await models.encodeText((await models.tokenize(prompt)).ids)).hidden;
    expect((await text(prompt)).cond.data).toEqual(direct.data);
    expect((await text(prompt, { promptSyntax: 'plain' })).cond.data).toEqual(direct.data);
  });

  it('emphasis changes the weighted words and keeps the mean; plain mode reads the brackets as text', async () => {
    const plain = (await text('a yellow triangle')).cond;
    const weighted = (await text('a (yellow:1.3) triangle')).cond;
    const mean = (d: Float32Array) => d.reduce((a, b) => a + b, 0) / d.length;
    expect(weighted.dims).toEqual(plain.dims);
    expect(normRelativeError(weighted.data, plain.data)).toBeGreaterThan(1e-3);
    expect(mean(weighted.data)).toBeCloseTo(mean(plain.data), 5);
    const literal = (await text('a (yellow:1.3) triangle', { promptSyntax: 'plain' })).cond;
    const ids = await models.tokenize('a (yellow:1.3) triangle');
    expect(ids.used).toBeGreaterThan(6); // ( yellow : 1 . 3 ) as tokens
    expect(literal.data).toEqual((await models.encodeText(ids.ids)).hidden.data);
  });

  it('a long prompt is two chunks (context 154); plain mode cuts it at 77', async () => {
    const long = Array.from({ length: 100 }, () => 'red').join(' '); // 100 one-token words
    const chunked = await text(long);
    expect(chunked.cond.dims.slice(0, 2)).toEqual([1, 154]);
    expect(chunked.truncated).toBe('');
    const cut = await text(long, { promptSyntax: 'plain' });
    expect(cut.cond.dims.slice(0, 2)).toEqual([1, 77]);
    expect(cut.truncated).not.toBe('');
  });

  it.each([1, 2])("clip skip %i equals diffusers' clip_skip − 1", async (clipSkip) => {
    const c = golden.cases.find((g) => g.checkpoint === name && g.clipSkip === clipSkip)!;
    const out = (await text(c.prompt, { clipSkip })).cond;
    expect(out.dims).toEqual(c.dims);
    expect(normRelativeError(out.data, c.data)).toBeLessThan(1e-5);
  });

  it('clip skip 2 differs from the last layer', async () => {
    const a = (await text('a yellow triangle')).cond;
    const b = (await text('a yellow triangle', { clipSkip: 2 })).cond;
    expect(normRelativeError(b.data, a.data)).toBeGreaterThan(1e-2);
  });
});

describe('sd1 txt2img', () => {
  it('the UNet takes the longer context: a guided run with a two-chunk prompt makes a picture', async () => {
    const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const long = Array.from({ length: 90 }, () => 'red').join(' ');
    const params = { negativePrompt: 'blue', guidanceScale: 7.5, steps: 2, seed: 1n, width: 64, height: 64 };
    const run = (prompt: string) => txt2img(models, { ...params, prompt, scheduler: 'ddim' }, { schedulerConfig });
    const [a, b] = [await run(long), await run('red')];
    expect(a.image.pixels.length).toBe(64 * 64 * 4);
    expect(a.image.pixels).not.toEqual(b.image.pixels);
  });
});
