import { readFileSync } from 'node:fs';
import { checkSchedulerFor, checkStepsFor, maxStepsFor } from '../../../src/core/schedulers';
import { NETWORKS_DIR } from '../../helpers/fixtures';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/core/errors';
import { validateGenerate, validateTxt2Img } from '../../../src/core/validate';
import { parseScales } from '../../../src/core/pipeline/compare';

const good = {
  prompt: 'a cat',
  negativePrompt: '',
  guidanceScale: 7.5,
  steps: 20,
  seed: '42',
  width: 512,
  height: 512,
  scheduler: 'pndm',
};

function fault(params: Record<string, unknown>): { field: string | undefined; message: string } {
  try {
    validateGenerate(params);
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('no ValidationError');
}

const image = (w: number, h: number) => ({ width: w, height: h, pixels: new ArrayBuffer(w * h * 4) });

describe('validation rules, each with its message', () => {
  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['width not a multiple of 8', { width: 250 }, 'width', /multiple of 8 .* the nearest is 248/],
    ['height not a multiple of 8', { height: 509 }, 'height', /the nearest is 512/],
    ['size too small', { width: 32 }, 'width', /between 64 and 2048 pixels, got 32/],
    ['size too large', { height: 4096 }, 'height', /between 64 and 2048 pixels, got 4096/],
    [
      'size far too large and not a multiple of 8',
      { width: 99999999999 },
      'width',
      /^Width must be between 64 and 2048 pixels, got 99999999999\.$/,
    ],
    ['size not a number', { width: 'big' }, 'width', /Width must be a number/],
    ['steps zero', { steps: 0 }, 'steps', /whole number from 1 to 1000/],
    ['steps too many', { steps: 1001 }, 'steps', /1 to 1000/],
    ['steps fractional', { steps: 2.5 }, 'steps', /whole number/],
    ['guidance NaN', { guidanceScale: Number.NaN }, 'guidanceScale', /must be a number/],
    ['guidance negative', { guidanceScale: -1 }, 'guidanceScale', /between 0 and 100/],
    ['guidance huge', { guidanceScale: 1e9 }, 'guidanceScale', /between 0 and 100/],
    ['guidance infinite', { guidanceScale: Infinity }, 'guidanceScale', /between 0 and 100/],
    ['seed negative', { seed: '-1' }, 'seed', /0 to 18446744073709551615/],
    ['seed past 2^64 − 1', { seed: '18446744073709551616' }, 'seed', /2\^64 − 1/],
    ['seed not an integer', { seed: '4.2' }, 'seed', /whole number/],
    ['seed text', { seed: 'abc' }, 'seed', /whole number/],
    ['prompt not text', { prompt: 42 }, 'prompt', /Prompts must be text/],
    ['scheduler unknown', { scheduler: 'magic' }, 'scheduler', /one of pndm, ddim/],
    ['mode unknown', { mode: 'video' }, 'mode', /Mode must be one of/],
    ['strength above 1', { mode: 'img2img', strength: 1.5, image: image(512, 512) }, 'strength', /between 0 and 1/],
    ['strength negative', { mode: 'img2img', strength: -0.1, image: image(512, 512) }, 'strength', /between 0 and 1/],
    [
      'strength leaving no step',
      { mode: 'img2img', strength: 0.01, image: image(512, 512) },
      'strength',
      /no denoising step/,
    ],
    ['image missing', { mode: 'img2img' }, 'image', /starts from an image/],
    [
      'image of another size',
      { mode: 'img2img', image: image(256, 256) },
      'image',
      /256×256 but the output size is 512×512/,
    ],
    [
      'image damaged',
      { mode: 'img2img', image: { width: 512, height: 512, pixels: new ArrayBuffer(10) } },
      'image',
      /damaged/,
    ],
    ['mask missing', { mode: 'inpaint', image: image(512, 512) }, 'mask', /mask is missing/],
    [
      'depth with NaN',
      {
        mode: 'depth2img',
        image: image(512, 512),
        depth: { width: 2, height: 1, data: Float32Array.of(1, NaN).buffer },
      },
      'depth',
      /not numbers/,
    ],
  ])('%s', (_, change, field, message) => {
    const got = fault({ ...good, ...change });
    expect(got.field).toBe(field);
    expect(got.message).toMatch(message);
  });

  it('allows an empty prompt (as diffusers does) and the largest seed', () => {
    expect(validateTxt2Img({ ...good, prompt: '', seed: '18446744073709551615' }).seed).toBe(18446744073709551615n);
  });

  it('accepts a mask of another size (the pipeline resizes it)', () => {
    const r = validateGenerate({
      ...good,
      mode: 'inpaint',
      image: image(512, 512),
      mask: { width: 64, height: 64, pixels: new ArrayBuffer(64 * 64) },
    });
    expect(r.mode === 'inpaint' && r.mask.width).toBe(64);
  });

  it('explains bad guidance lists in compare', () => {
    expect(() => parseScales('8, NaN')).toThrow(/"NaN" is not a number/);
  });
});

describe('file types in messages', () => {
  it('take the right article', async () => {
    const { withArticle } = await import('../../../src/canvas/init-image');
    expect(withArticle('image/svg+xml')).toBe('an image/svg+xml');
    expect(withArticle('text/plain')).toBe('a text/plain');
    expect(withArticle('application/pdf')).toBe('an application/pdf');
  });
});

/** SD 1.x's own scheduler config, from the reference checkpoint. */
const SD = JSON.parse(readFileSync(`${NETWORKS_DIR}sd1/scheduler/scheduler_config.json`, 'utf8')) as Record<
  string,
  unknown
>;

function thrown(run: () => void): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('steps limits per scheduler, checked before running', () => {
  it('PNDM and DDIM with steps_offset 1 run at most 999 steps (1000 would reach timestep 1000)', () => {
    for (const name of ['pndm', 'ddim'] as const) {
      expect(maxStepsFor(name, SD, 1000)).toBe(999);
      expect(() => checkStepsFor(name, SD, 999)).not.toThrow();
      const error = thrown(() => checkStepsFor(name, SD, 1000));
      // Plain words first; the technical reason one click away.
      expect(error.message).toBe(
        `${name === 'pndm' ? 'PNDM' : 'DDIM'} runs at most 999 steps with this model. Use 999 steps or fewer, or another scheduler.`,
      );
      expect(error.detail).toBe(
        "With this model's scheduler config, at 1000 steps its schedule reaches timestep 1000, outside the model's 0..999.",
      );
    }
  });

  it('DPM++ 2M is refused where its schedule repeats a timestep (the cause of its NaN latents), not blamed on fp16', () => {
    const max = maxStepsFor('dpmpp-2m', SD, 1000);
    expect(max).toBeLessThan(1000);
    expect(() => checkStepsFor('dpmpp-2m', SD, max)).not.toThrow();
    let error: unknown;
    try {
      checkStepsFor('dpmpp-2m', SD, 1000);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('steps');
    expect((error as ValidationError).message).toMatch(/^DPM\+\+ 2M runs at most \d+ steps with this model\./);
    expect((error as ValidationError).detail).toMatch(/repeats timestep \d+, a zero-length step/);
    expect(`${(error as Error).message} ${(error as ValidationError).detail}`).not.toMatch(/fp16/);
  });

  it('every other scheduler runs the documented 1000', () => {
    for (const name of ['lms', 'euler', 'euler-ancestral'] as const)
      expect(() => checkStepsFor(name, SD, 1000)).not.toThrow();
  });
});

describe('a model trained on zero-terminal-SNR betas', () => {
  const ZERO_SNR = {
    ...SD,
    rescale_betas_zero_snr: true,
    prediction_type: 'v_prediction',
    timestep_spacing: 'trailing',
  };

  it("runs on the schedulers that rescale its betas, as diffusers' do", () => {
    for (const name of ['ddim', 'euler', 'euler-ancestral', 'dpmpp-2m', 'lcm'] as const)
      expect(() => checkSchedulerFor(name, ZERO_SNR, 20)).not.toThrow();
  });

  it('is refused by PNDM and LMS (they ignore the key), with the schedulers that take it named', () => {
    for (const [name, label] of [
      ['pndm', 'PNDM'],
      ['lms', 'LMS'],
    ] as const) {
      let error: unknown;
      try {
        checkSchedulerFor(name, ZERO_SNR, 20);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('scheduler');
      expect((error as Error).message).toBe(
        'This model only works with DDIM, Euler, Euler ancestral, DPM++ 2M, LCM. Choose one of them as the scheduler.',
      );
      expect((error as ValidationError).detail).toBe(
        `It was trained on zero-terminal-SNR betas (rescale_betas_zero_snr in its scheduler config), which ${label} ignores (as diffusers' does): it would sample a noise schedule the model never saw.`,
      );
      // The same scheduler on SD's own betas is fine.
      expect(() => checkSchedulerFor(name, SD, 20)).not.toThrow();
    }
  });
});
