import { describe, expect, it } from 'vitest';
import { combineGuidance, guidanceScaleEmbedding } from '../../../../src/core/pipeline/guidance';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import { pixelStats } from '../../../../src/core/image/rgba';
import type { Txt2ImgParams } from '../../../../src/core/validate';
import { fakeModels } from '../../../helpers/fake-models';
import { loadTinyModels } from '../../../helpers/node-models';

const SD_PNDM = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  skip_prk_steps: true,
  steps_offset: 1,
};

const base: Txt2ImgParams = {
  prompt: 'A painting of a flooble',
  negativePrompt: '',
  guidanceScale: 7.5,
  steps: 4,
  seed: 42n,
  width: 64,
  height: 64,
  scheduler: 'pndm',
};

describe('classifier-free guidance', () => {
  it('combines uncond + g·(cond − uncond) as computed by hand', () => {
    const uncond = Float32Array.of(1, -2, 0.5, 0);
    const cond = Float32Array.of(3, -2, -0.5, 1);
    // 1 + 7.5·2 = 16; −2 + 0 = −2; 0.5 + 7.5·(−1) = −7; 0 + 7.5 = 7.5
    expect(Array.from(combineGuidance(uncond, cond, 7.5))).toEqual([16, -2, -7, 7.5]);
    expect(Array.from(combineGuidance(uncond, cond, 1))).toEqual(Array.from(cond));
  });

  it('batches both halves in one UNet call, negative first, when the model allows batch 2', async () => {
    const models = fakeModels();
    await txt2img(models, { ...base, negativePrompt: 'blurry' }, { schedulerConfig: SD_PNDM });
    expect(models.unetCalls).toHaveLength(base.steps + 1); // PNDM runs steps + 1 model calls
    expect(models.unetCalls.every((c) => c.batch === 2)).toBe(true);
    const first = models.unetCalls[0]!.text;
    expect(first[0]).toBe('blurry'.length);
    expect(first[77 * 4]).toBe(base.prompt.length);
  });

  it('makes two batch-1 calls per step for a UNet exported with batch 1', async () => {
    const models = fakeModels({ unetBatch: 1 });
    await txt2img(models, base, { schedulerConfig: SD_PNDM });
    expect(models.unetCalls).toHaveLength(2 * (base.steps + 1));
    expect(models.unetCalls.every((c) => c.batch === 1)).toBe(true);
  });

  it.each([1, 0.5, 0])('skips the unconditional pass at guidance %s, as diffusers does', async (g) => {
    const models = fakeModels();
    await txt2img(models, { ...base, guidanceScale: g }, { schedulerConfig: SD_PNDM });
    expect(models.unetCalls.every((c) => c.batch === 1 && c.text[0] === base.prompt.length)).toBe(true);
  });

  it('stops between steps when cancelled', async () => {
    const models = fakeModels();
    const controller = new AbortController();
    const steps: number[] = [];
    const run = txt2img(
      models,
      { ...base, steps: 20 },
      {
        schedulerConfig: SD_PNDM,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'denoise') steps.push(p.step);
          if (p.step === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ name: 'CancelledError' });
    expect(Math.max(...steps)).toBe(3);
  });
});

describe('txt2img with the tiny model on onnxruntime-node', () => {
  it('is deterministic for a seed and changes with seed and prompt', async () => {
    const { models, schedulerConfig } = await loadTinyModels();
    const params: Txt2ImgParams = { ...base, width: 128, height: 128, steps: 8 };
    const a = await txt2img(models, params, { schedulerConfig });
    const b = await txt2img(models, params, { schedulerConfig });
    const otherSeed = await txt2img(models, { ...params, seed: 43n }, { schedulerConfig });
    const otherPrompt = await txt2img(models, { ...params, prompt: 'a red fox in the snow' }, { schedulerConfig });
    expect(a.image.width).toBe(128);
    expect(Buffer.from(a.image.pixels).equals(Buffer.from(b.image.pixels))).toBe(true);
    expect(Buffer.from(a.image.pixels).equals(Buffer.from(otherSeed.image.pixels))).toBe(false);
    expect(Buffer.from(a.image.pixels).equals(Buffer.from(otherPrompt.image.pixels))).toBe(false);
    // Structure and colour, not a flat field.
    expect(pixelStats(a.image.pixels).std).toBeGreaterThan(10);
  });

  it('runs every scheduler to an image', async () => {
    const { models, schedulerConfig } = await loadTinyModels();
    for (const scheduler of ['pndm', 'ddim', 'lms', 'euler', 'euler-ancestral', 'dpmpp-2m', 'lcm'] as const) {
      const r = await txt2img(models, { ...base, scheduler, steps: 4 }, { schedulerConfig });
      expect(pixelStats(r.image.pixels).std, scheduler).toBeGreaterThan(10);
    }
  });
});

describe('LCM UNets (time_cond_proj_dim): guidance as an embedding', () => {
  const LCM = { ...SD_PNDM, _class_name: 'LCMScheduler' };

  it('embeds w = scale − 1 as [sin, cos] of 1000·w times the frequency ladder', () => {
    const e = guidanceScaleEmbedding(8, 8);
    const freqs = [0, 1, 2, 3].map((i) => Math.exp((-i * Math.log(10000)) / 3));
    freqs.forEach((f, i) => {
      expect(e[i]).toBeCloseTo(Math.sin(7000 * f), 3);
      expect(e[4 + i]).toBeCloseTo(Math.cos(7000 * f), 3);
    });
    // Guidance 1 is w = 0: sin 0 and cos 0.
    expect(Array.from(guidanceScaleEmbedding(1, 4))).toEqual([0, 0, 1, 1]);
  });

  it('one UNet call per step with the embedding, and no negative prompt, as LatentConsistencyModelPipeline', async () => {
    const models = fakeModels({ guidanceEmbedDim: 8 });
    await txt2img(
      models,
      { ...base, scheduler: 'lcm', negativePrompt: 'blurry', guidanceScale: 8 },
      { schedulerConfig: LCM },
    );
    expect(models.unetCalls).toHaveLength(4);
    for (const call of models.unetCalls) {
      expect(call.batch).toBe(1);
      expect(Array.from(call.timestepCond!)).toEqual(Array.from(guidanceScaleEmbedding(8, 8)));
    }
  });
});
