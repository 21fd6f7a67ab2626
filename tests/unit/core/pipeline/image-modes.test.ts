import { describe, expect, it } from 'vitest';
import { resizeBicubic, resizeNearest, featherMask, type Plane } from '../../../../src/core/image/planes';
import type { RgbaImage } from '../../../../src/core/image/rgba';
import { depth2img, prepareDepth } from '../../../../src/core/pipeline/depth2img';
import { img2img } from '../../../../src/core/pipeline/img2img';
import { encodeImageLatents, toChw, type ChwImage } from '../../../../src/core/pipeline/image-latents';
import { inpaint, latentMask, maskedImage, prepareMask } from '../../../../src/core/pipeline/inpaint';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import type { Models } from '../../../../src/core/pipeline/models';
import { TorchGenerator } from '../../../../src/core/math/random';
import { createScheduler, strengthTimesteps, type SchedulerName } from '../../../../src/core/schedulers';
import { tensor, type Tensor } from '../../../../src/core/math/tensor';
import { validateGenerate, type Img2ImgParams, type InpaintParams } from '../../../../src/core/validate';
import { fakeModels } from '../../../helpers/fake-models';
import { loadTinyModels, MODELS_DIR } from '../../../helpers/node-models';

const SD = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  skip_prk_steps: true,
  steps_offset: 1,
  set_alpha_to_one: false,
};

/** A 32×32 picture with a gradient and a bright square, so every 8×8 block differs. */
function testImage(width = 32, height = 32): RgbaImage {
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inSquare = x >= width / 4 && x < width / 2 && y >= height / 4 && y < height / 2;
      pixels[i] = inSquare ? 250 : (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 90;
      pixels[i + 3] = 255;
    }
  }
  return { width, height, pixels };
}

const base: Img2ImgParams = {
  prompt: 'a flooble',
  negativePrompt: '',
  guidanceScale: 7.5,
  steps: 10,
  seed: 7n,
  width: 32,
  height: 32,
  scheduler: 'ddim',
  strength: 0.6,
  image: testImage(),
};

/** Fake models whose decode is recorded, so tests can read the final latents. */
function recordingModels(info: Parameters<typeof fakeModels>[0] = {}) {
  const models = fakeModels(info);
  const decoded: Tensor[] = [];
  const decode = models.decode.bind(models);
  models.decode = async (latents) => {
    decoded.push(tensor(latents.data.slice(), latents.dims));
    return decode(latents);
  };
  return { models, decoded };
}

async function scaledImageLatents(models: Models, image: RgbaImage | ChwImage): Promise<Float32Array> {
  const chw = 'pixels' in image ? toChw(image) : image;
  return (await encodeImageLatents(models, chw, new TorchGenerator(0))).latents;
}

describe('img2img start (diffusers get_timesteps + prepare_latents)', () => {
  it.each<[SchedulerName, number]>([
    ['ddim', 0.6],
    ['euler', 0.6],
    ['pndm', 0.35],
    ['dpmpp-2m', 0.8],
  ])('%s at strength %s starts from addNoise at strengthTimesteps()[0]', async (name, strength) => {
    const models = fakeModels();
    await img2img(models, { ...base, scheduler: name, strength }, { schedulerConfig: SD });
    const reference = createScheduler(name, SD);
    const timesteps = strengthTimesteps(reference, base.steps, strength);
    const imageLatents = await scaledImageLatents(models, base.image);
    // The fake encoder returns a sampled latent, so the first draw from the seed is the start noise.
    const noise = new TorchGenerator(base.seed).randn(imageLatents.length);
    const start = reference.addNoise(imageLatents, noise, timesteps[0]!);
    const first = models.unetCalls[0]!;
    expect(first.t).toBe(timesteps[0]);
    const expected = reference.scaleModelInput(start, timesteps[0]!);
    const got = first.sample.subarray(0, expected.length);
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 6);
    // One UNet call per remaining timestep (PNDM's list already holds its repeated step).
    expect(models.unetCalls.map((c) => c.t)).toEqual(timesteps);
  });

  it('at strength 1 runs the whole schedule from addNoise, which keeps √ᾱ·x0 (not pure noise)', async () => {
    const models = fakeModels();
    await img2img(models, { ...base, strength: 1 }, { schedulerConfig: SD });
    const reference = createScheduler('ddim', SD);
    reference.setTimesteps(base.steps);
    expect(models.unetCalls.map((c) => c.t)).toEqual([...reference.timesteps]);
    const imageLatents = await scaledImageLatents(models, base.image);
    const noise = new TorchGenerator(base.seed).randn(imageLatents.length);
    const t0 = reference.timesteps[0]!;
    const alpha = reference.alphasCumprod[t0]!;
    const first = models.unetCalls[0]!.sample;
    // sample − √(1−ᾱ)·noise = √ᾱ·x0, non-zero because ᾱ at t=901 is small but not 0.
    for (let i = 0; i < imageLatents.length; i++) {
      expect(first[i]! - Math.sqrt(1 - alpha) * noise[i]!).toBeCloseTo(Math.sqrt(alpha) * imageLatents[i]!, 5);
    }
    expect(Math.sqrt(alpha)).toBeGreaterThan(0.05);
  });

  it('depends on strength and rejects a strength that leaves no step', async () => {
    const a = await img2img(fakeModels(), { ...base, strength: 0.3 }, { schedulerConfig: SD });
    const b = await img2img(fakeModels(), { ...base, strength: 0.9 }, { schedulerConfig: SD });
    expect(Buffer.from(a.image.pixels).equals(Buffer.from(b.image.pixels))).toBe(false);
    expect(() =>
      validateGenerate({
        ...wire({ ...base, width: 64, height: 64, image: testImage(64, 64) }),
        mode: 'img2img',
        strength: 0.05,
      }),
    ).toThrow(/leaves no denoising step/);
  });

  it('samples an 8-channel VAE posterior with the seeded generator, as diffusers', async () => {
    const models = fakeModels();
    models.encode = async (image) => {
      const h = image.dims[2]! / 8;
      const w = image.dims[3]! / 8;
      const out = new Float32Array(8 * h * w);
      out.fill(0.5, 0, 4 * h * w); // mean
      out.fill(Math.log(0.04), 4 * h * w); // logvar → σ = 0.2
      return tensor(out, [1, 8, h, w]);
    };
    const chw = toChw(base.image);
    const sampled = await encodeImageLatents(models, chw, new TorchGenerator(3));
    const noise = new TorchGenerator(3).randn(16);
    expect(sampled.source).toBe('seeded-sample');
    expect(sampled.latents[0]).toBeCloseTo((0.5 + 0.2 * noise[0]!) * 0.18215, 6);
    const mean = await encodeImageLatents(models, chw, new TorchGenerator(3), 'mean');
    expect(mean.source).toBe('mean');
    expect(mean.latents[5]).toBeCloseTo(0.5 * 0.18215, 7);
  });

  it('needs a VAE encoder and a 4-channel UNet', async () => {
    const models = fakeModels();
    delete models.encode;
    await expect(img2img(models, base, { schedulerConfig: SD })).rejects.toThrow(/no VAE encoder/);
    await expect(img2img(fakeModels({ unetInChannels: 9 }), base, { schedulerConfig: SD })).rejects.toThrow(
      /inpainting model/,
    );
    await expect(txt2img(fakeModels({ unetInChannels: 5 }), base, { schedulerConfig: SD })).rejects.toThrow(
      /depth model/,
    );
  });
});

/** The request as it crosses the worker boundary. */
function wire(p: Img2ImgParams): Record<string, unknown> {
  return {
    ...p,
    seed: p.seed.toString(),
    image: { width: p.image.width, height: p.image.height, pixels: p.image.pixels.slice().buffer },
  };
}

describe('mask preprocessing (diffusers VaeImageProcessor + prepare_mask_latents)', () => {
  // A 16×16 mask: a repaint block at x 8..15, y 8..15, one pixel at exactly 0.5 (→ 1), one at 0.49 (→ 0).
  const mask16 = (): Plane => {
    const data = new Float32Array(256);
    for (let y = 8; y < 16; y++) for (let x = 8; x < 16; x++) data[y * 16 + x] = 1;
    data[8 * 16 + 0] = 0.5; // (x 0, y 8)
    data[0 * 16 + 8] = 0.49; // (x 8, y 0)
    data[3 * 16 + 3] = 0.7; // (x 3, y 3), not a sampled pixel
    return { width: 16, height: 16, data };
  };

  it('binarizes at 0.5 and samples pixel (8j, 8i) for latent (i, j), as F.interpolate nearest', () => {
    const mask = prepareMask(mask16(), 16, 16);
    expect(mask.data[8 * 16]).toBe(1);
    expect(mask.data[8]).toBe(0);
    expect(mask.data[3 * 16 + 3]).toBe(1);
    expect(new Set(mask.data)).toEqual(new Set([0, 1]));
    // latent (0,0) ← pixel (0,0) = 0; (0,1) ← (8,0) = 0.49 → 0; (1,0) ← (0,8) = 0.5 → 1; (1,1) ← (8,8) = 1.
    expect(Array.from(latentMask(mask).data)).toEqual([0, 0, 1, 1]);
  });

  it('sets the masked image to 0 where the mask repaints, and keeps it elsewhere', () => {
    const mask = prepareMask(mask16(), 16, 16);
    const image = toChw(testImage(16, 16));
    const masked = maskedImage(image, mask);
    for (let c = 0; c < 3; c++) {
      expect(masked.data[c * 256 + 9 * 16 + 9]).toBe(0);
      expect(masked.data[c * 256 + 3 * 16 + 3]).toBe(0);
      expect(masked.data[c * 256 + 1 * 16 + 2]).toBe(image.data[c * 256 + 1 * 16 + 2]);
      expect(masked.data[c * 256 + 8]).toBe(image.data[c * 256 + 8]); // 0.49 keeps the pixel
    }
  });

  it('resizes a mask of another size to the image with nearest neighbours', () => {
    const big: Plane = { width: 32, height: 32, data: new Float32Array(1024) };
    for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) big.data[y * 32 + x] = 1;
    const m = prepareMask(big, 16, 16);
    expect(m.width).toBe(16);
    expect(m.data[0]).toBe(0);
    expect(m.data[8]).toBe(1);
  });
});

describe('resampling matches torch F.interpolate', () => {
  it('nearest picks floor(dst · in/out)', () => {
    const src: Plane = { width: 5, height: 1, data: Float32Array.of(0, 1, 2, 3, 4) };
    expect(Array.from(resizeNearest(src, 2, 1).data)).toEqual([0, 2]); // floor(0·2.5)=0, floor(1·2.5)=2
    expect(Array.from(resizeNearest(src, 3, 1).data)).toEqual([0, 1, 3]); // scale 5/3
  });

  it('bicubic (a = −0.75, half-pixel centres) keeps linear ramps in the interior and constants everywhere', () => {
    const ramp: Plane = { width: 16, height: 1, data: Float32Array.from({ length: 16 }, (_, i) => i) };
    const down = resizeBicubic(ramp, 8, 1).data;
    // Source position of output x is 2x + 0.5; away from the clamped borders cubic reproduces a line.
    for (let x = 1; x < 7; x++) expect(down[x]).toBeCloseTo(2 * x + 0.5, 5);
    const flat = resizeBicubic({ width: 7, height: 5, data: new Float32Array(35).fill(3) }, 3, 2).data;
    expect(Array.from(flat).every((v) => Math.abs(v - 3) < 1e-6)).toBe(true);
    // Upsampling 2 → 4: positions −0.25, 0.25, 0.75, 1.25 with clamped borders, weights by hand.
    const up = resizeBicubic({ width: 2, height: 1, data: Float32Array.of(0, 1) }, 4, 1).data;
    // x = 0: source −0.25, taps at −2, −1, 0, 1 (values 0, 0, 0, 1) with t = 0.75: only the far tap w(1.25) counts.
    // x = 1: source 0.25, taps −1, 0, 1, 2 (values 0, 0, 1, 1) with t = 0.25: w(0.75) + w(1.75).
    const w1 = (x: number) => (1.25 * x - 2.25) * x * x + 1;
    const w2 = (x: number) => ((-0.75 * x + 3.75) * x - 6) * x + 3;
    expect(up[0]).toBeCloseTo(w2(1.25), 6);
    expect(up[0]).toBeLessThan(0); // cubic overshoot, as torch gives
    expect(up[1]).toBeCloseTo(w1(0.75) + w2(1.75), 6);
    expect(up[3]).toBeCloseTo(1 - w2(1.25), 6);
  });
});

describe('UNet input channels in diffusers order', () => {
  const mask = (): Plane => {
    const data = new Float32Array(32 * 32);
    for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) data[y * 32 + x] = 1;
    return { width: 32, height: 32, data };
  };
  const inpaintParams = (): InpaintParams => ({ ...base, strength: 1, mask: mask(), pasteBack: false });

  it('9-channel inpainting: [scaled latents (4), mask (1), masked-image latents (4)], both CFG halves', async () => {
    const models = fakeModels({ unetInChannels: 9 });
    await inpaint(models, inpaintParams(), { schedulerConfig: SD });
    const call = models.unetCalls[0]!;
    expect(call.channels).toBe(9);
    expect(call.batch).toBe(2);
    const plane = 16;
    const expectedMask = latentMask(prepareMask(mask(), 32, 32)).data;
    const masked = await scaledImageLatents(models, maskedRgba());
    for (const half of [0, 1]) {
      const offset = half * 9 * plane;
      expect(Array.from(call.sample.subarray(offset + 4 * plane, offset + 5 * plane))).toEqual(
        Array.from(expectedMask),
      );
      const got = call.sample.subarray(offset + 5 * plane, offset + 9 * plane);
      for (let i = 0; i < masked.length; i++) expect(got[i]).toBeCloseTo(masked[i]!, 6);
    }
    // Strength 1: the first input is pure noise × init sigma (DDIM: 1).
    const noise = new TorchGenerator(base.seed).randn(4 * plane);
    expect(call.sample[0]).toBeCloseTo(noise[0]!, 6);
  });

  /** The test image with the repaint area set to 0 in [−1, 1], as the pipeline builds it. */
  function maskedRgba(): ChwImage {
    return maskedImage(toChw(testImage()), prepareMask(mask(), 32, 32));
  }

  it('5-channel depth: [scaled latents (4), depth normalised to [−1, 1] at latent size (1)]', async () => {
    const models = fakeModels({ unetInChannels: 5 });
    const depth: Plane = {
      width: 20,
      height: 12,
      data: Float32Array.from({ length: 240 }, (_, i) => (i % 20) * 0.3 + 2),
    };
    const result = await depth2img(models, { ...base, strength: 0.8, depth }, { schedulerConfig: SD });
    const call = models.unetCalls[0]!;
    expect(call.channels).toBe(5);
    const expected = prepareDepth(depth, 32, 32).data;
    expect(Math.min(...expected)).toBeCloseTo(-1, 6);
    expect(Math.max(...expected)).toBeCloseTo(1, 6);
    for (const half of [0, 1]) {
      const got = call.sample.subarray(half * 5 * 16 + 4 * 16, half * 5 * 16 + 5 * 16);
      expect(Array.from(got)).toEqual(Array.from(expected));
    }
    expect(result.depth).toBe(depth);
    await expect(
      depth2img(fakeModels({ unetInChannels: 4 }), { ...base, depth }, { schedulerConfig: SD }),
    ).rejects.toThrow(/5-channel/);
  });

  it('4-channel inpainting keeps the original latents outside the mask after the last step', async () => {
    const { models, decoded } = recordingModels();
    await inpaint(models, { ...inpaintParams(), strength: 0.7 }, { schedulerConfig: SD });
    expect(models.unetCalls[0]!.channels).toBe(4);
    const original = await scaledImageLatents(models, base.image);
    const final = decoded[0]!.data; // unscaled by 1/0.18215
    const m = latentMask(prepareMask(mask(), 32, 32)).data;
    let inside = 0;
    for (let c = 0; c < 4; c++) {
      for (let i = 0; i < 16; i++) {
        const k = c * 16 + i;
        if (m[i] === 0) expect(final[k]! * 0.18215).toBeCloseTo(original[k]!, 5);
        else inside += Math.abs(final[k]! * 0.18215 - original[k]!);
      }
    }
    expect(inside).toBeGreaterThan(1e-3);
  });

  it('pastes the original pixels back outside the feathered mask', async () => {
    const params = { ...inpaintParams(), pasteBack: true };
    const r = await inpaint(fakeModels({ unetInChannels: 9 }), params, { schedulerConfig: SD });
    const weight = featherMask(prepareMask(mask(), 32, 32), 1);
    let changedInside = 0;
    for (let i = 0; i < 32 * 32; i++) {
      for (let c = 0; c < 3; c++) {
        if (weight.data[i] === 0) expect(r.image.pixels[i * 4 + c]).toBe(base.image.pixels[i * 4 + c]);
        else if (r.image.pixels[i * 4 + c] !== base.image.pixels[i * 4 + c]) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(100);
  });
});

describe('image modes with the tiny models on onnxruntime-node', () => {
  it('img2img keeps the picture at low strength and moves away at high strength', async () => {
    const { models, schedulerConfig } = await loadTinyModels();
    const image = testImage(64, 64);
    const params = { ...base, image, width: 64, height: 64, scheduler: 'pndm' as const, steps: 10 };
    const diff = (a: RgbaImage) => {
      let s = 0;
      for (let i = 0; i < a.pixels.length; i += 4)
        for (let c = 0; c < 3; c++) s += Math.abs(a.pixels[i + c]! - image.pixels[i + c]!);
      return s / (64 * 64 * 3);
    };
    const low = await img2img(models, { ...params, strength: 0.2 }, { schedulerConfig });
    const high = await img2img(models, { ...params, strength: 0.9 }, { schedulerConfig });
    expect(low.encoderLatents).toBe('export-sampled');
    expect(diff(low.image)).toBeGreaterThan(0);
    expect(diff(high.image)).toBeGreaterThan(diff(low.image));
  });

  it('inpaint on the 9-channel tiny UNet repaints inside the mask and keeps the rest close to the input', async () => {
    const { models, schedulerConfig } = await loadTinyModels(`${MODELS_DIR}tiny-sd-inpaint/`);
    expect(models.info.unetInChannels).toBe(9);
    const image = testImage(64, 64);
    const data = new Float32Array(64 * 64);
    for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) data[y * 64 + x] = 1;
    const params: InpaintParams = {
      ...base,
      image,
      width: 64,
      height: 64,
      scheduler: 'pndm',
      strength: 1,
      mask: { width: 64, height: 64, data },
      pasteBack: false,
    };
    const r = await inpaint(models, params, { schedulerConfig });
    let inside = 0;
    let outside = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const d = Math.abs(r.image.pixels[i * 4]! - image.pixels[i * 4]!);
      if (data[i]) inside += d / 1024;
      else outside += d / (4096 - 1024);
    }
    expect(inside).toBeGreaterThan(2 * outside);
  });

  it('depth2img on the 5-channel tiny UNet follows the depth map', async () => {
    const { models, schedulerConfig } = await loadTinyModels(`${MODELS_DIR}tiny-sd-depth/`);
    expect(models.info.unetInChannels).toBe(5);
    const image = testImage(64, 64);
    const params = { ...base, image, width: 64, height: 64, scheduler: 'pndm' as const, strength: 0.8 };
    const ramp = (flip: boolean): Plane => ({
      width: 16,
      height: 16,
      data: Float32Array.from({ length: 256 }, (_, i) => (flip ? 15 - (i % 16) : i % 16)),
    });
    const a = await depth2img(models, { ...params, depth: ramp(false) }, { schedulerConfig });
    const b = await depth2img(models, { ...params, depth: ramp(true) }, { schedulerConfig });
    expect(Buffer.from(a.image.pixels).equals(Buffer.from(b.image.pixels))).toBe(false);
  });
});
