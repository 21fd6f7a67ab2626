import { describe, expect, it } from 'vitest';
import { compareGrid, parseScales, validateCells } from '../../../../src/core/pipeline/compare';
import { scheduleCurves, vaeRoundTrip } from '../../../../src/core/pipeline/explore';
import { latentsToRgbFast, predictX0 } from '../../../../src/core/pipeline/preview';
import type { GenerationResult } from '../../../../src/core/pipeline/options';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import { createScheduler } from '../../../../src/core/schedulers';
import { tensor } from '../../../../src/core/math/tensor';
import type { Txt2ImgParams } from '../../../../src/core/validate';
import { fakeModels } from '../../../helpers/fake-models';
import { readGolden } from '../../../helpers/goldens';
import { loadTinyModels } from '../../../helpers/node-models';

const SD = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  skip_prk_steps: true,
  steps_offset: 1,
  set_alpha_to_one: false,
};

const base: Txt2ImgParams = {
  prompt: 'A painting of a flooble',
  negativePrompt: 'blurry',
  guidanceScale: 7.5,
  steps: 6,
  seed: 42n,
  width: 64,
  height: 64,
  scheduler: 'pndm',
};

describe('noise schedule plot data', () => {
  it("equals diffusers' betas-derived alphas_cumprod (noise-schedule.json) and its square roots", () => {
    const golden = readGolden<{ alphas_cumprod: number[] }>('noise-schedule.json');
    const curves = scheduleCurves(SD, 'pndm', 20);
    expect(curves.alphasCumprod).toHaveLength(1000);
    expect(Array.from(curves.alphasCumprod)).toEqual(golden.alphas_cumprod.map(Math.fround));
    for (const i of [0, 1, 500, 998, 999]) {
      expect(curves.sqrtAlphasCumprod[i]).toBeCloseTo(Math.sqrt(golden.alphas_cumprod[i]!), 6);
      expect(curves.sqrtOneMinusAlphasCumprod[i]).toBeCloseTo(Math.sqrt(1 - golden.alphas_cumprod[i]!), 6);
    }
    const pndm = createScheduler('pndm', SD);
    pndm.setTimesteps(20);
    expect(curves.timesteps).toEqual([...pndm.timesteps]);
  });
});

describe('compare', () => {
  it('parses scale lists and rejects bad ones with the field named', () => {
    expect(parseScales('1.1, 8, 12')).toEqual([1.1, 8, 12]);
    expect(parseScales(' 3;4 5 ')).toEqual([3, 4, 5]);
    expect(() => parseScales('1.1, lots')).toThrow(/"lots" is not a number/);
    expect(() => parseScales('')).toThrow(/at least one/);
    expect(() => parseScales('500')).toThrow(/between 0 and 100/);
    expect(() =>
      validateCells(Array.from({ length: 17 }, () => ({ guidanceScale: 1, steps: 1, scheduler: 'pndm' }))),
    ).toThrow(/at most 16/);
  });

  it('encodes the prompt once for all cells', async () => {
    const models = fakeModels();
    let encodes = 0;
    const encodeText = models.encodeText.bind(models);
    models.encodeText = async (ids) => {
      encodes++;
      return encodeText(ids);
    };
    const cells = [1.1, 8, 12].map((g) => ({ guidanceScale: g, steps: 3, scheduler: 'ddim' as const }));
    const got: number[] = [];
    await compareGrid(models, base, cells, { schedulerConfig: SD }, (i) => void got.push(i));
    expect(got).toEqual([0, 1, 2]);
    expect(encodes).toBe(2); // prompt and negative prompt, once each
  });

  it('gives each cell exactly the txt2img image for its settings (tiny model, onnxruntime-node)', async () => {
    const { models, schedulerConfig } = await loadTinyModels();
    const cells = [
      { guidanceScale: 1, steps: 6, scheduler: 'pndm' as const },
      { guidanceScale: 8, steps: 6, scheduler: 'pndm' as const },
      { guidanceScale: 8, steps: 4, scheduler: 'euler-ancestral' as const },
    ];
    const results: GenerationResult[] = [];
    await compareGrid(models, base, cells, { schedulerConfig }, (i, r) => void (results[i] = r));
    for (const [i, cell] of cells.entries()) {
      const single = await txt2img(models, { ...base, ...cell }, { schedulerConfig });
      expect(Buffer.from(results[i]!.image.pixels).equals(Buffer.from(single.image.pixels)), `cell ${i}`).toBe(true);
    }
    expect(Buffer.from(results[0]!.image.pixels).equals(Buffer.from(results[1]!.image.pixels))).toBe(false);
  });
});

describe('explore', () => {
  it('round-trips an image through the tiny VAE, reporting latents and the error', async () => {
    const { models } = await loadTinyModels();
    const pixels = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : ((i >> 2) % 64) * 4));
    const trip = await vaeRoundTrip(models, { width: 64, height: 64, pixels });
    expect([trip.channels, trip.latentHeight, trip.latentWidth]).toEqual([4, 8, 8]);
    expect(trip.latents).toHaveLength(4 * 8 * 8);
    expect(trip.reconstruction.width).toBe(64);
    expect(trip.meanAbsError).toBeGreaterThan(0);
    expect(trip.psnr).toBeGreaterThan(10);
    expect(trip.psnr).toBeLessThan(60);
  });

  it('predicts x0 from ε as (x − √(1−ᾱ)ε)/√ᾱ and maps latents to RGB without the VAE', () => {
    const s = createScheduler('ddim', SD);
    const a = s.alphasCumprod[500]!;
    const x0 = Float32Array.of(0.5, -0.25);
    const eps = Float32Array.of(1, -1);
    const xt = x0.map((v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]!);
    const back = predictX0(s, xt, 500, eps);
    expect(back[0]).toBeCloseTo(0.5, 5);
    expect(back[1]).toBeCloseTo(-0.25, 5);
    // A v-prediction model (v = √ᾱ·ε − √(1−ᾱ)·x0): the scheduler's own prediction type is used.
    const v = createScheduler('ddim', { ...SD, prediction_type: 'v_prediction' });
    const velocity = x0.map((x, i) => Math.sqrt(a) * eps[i]! - Math.sqrt(1 - a) * x);
    const fromV = predictX0(v, xt, 500, velocity);
    expect(fromV[0]).toBeCloseTo(0.5, 5);
    expect(fromV[1]).toBeCloseTo(-0.25, 5);
    const rgb = latentsToRgbFast(tensor(new Float32Array(4 * 2 * 3), [1, 4, 2, 3]));
    expect([rgb.width, rgb.height]).toEqual([3, 2]);
    expect(rgb.pixels[0]).toBe(128);
  });
});
