import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters } from '../../../../src/core/formats/parameters-text';
import type { GenerationSettings } from '../../../../src/core/generation-settings';
import { addPngText, crc32, readPngText } from '../../../../src/core/formats/png-text';
import { encodePng } from '../../../../scripts/node-gpu/png';

const params: GenerationSettings = {
  prompt: 'A painting of a flooble',
  negativePrompt: 'blurry, low quality',
  steps: 20,
  scheduler: 'euler-ancestral',
  guidanceScale: 7.5,
  seed: '18446744073709551615',
  width: 512,
  height: 384,
  model: 'tiny-sd',
  mode: 'txt2img',
};

const png = () => new Uint8Array(encodePng(2, 2, new Uint8Array(16).fill(200)));

describe('PNG text chunks', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('writes a tEXt chunk after IHDR that reads back, keeping the image chunks intact', () => {
    const original = png();
    const text = formatParameters(params);
    const out = addPngText(original, 'parameters', text);
    expect(String.fromCharCode(...out.subarray(37, 41))).toBe('tEXt');
    expect(readPngText(out).get('parameters')).toBe(text);
    expect(out.length).toBe(original.length + 12 + 'parameters'.length + 1 + text.length);
    expect(
      Buffer.from(out.subarray(out.length - 12)).equals(Buffer.from(original.subarray(original.length - 12))),
    ).toBe(true);
  });

  it('uses iTXt (UTF-8) for text beyond Latin-1', () => {
    const text = formatParameters({ ...params, prompt: '富士山の夕焼け, 🌅' });
    const out = addPngText(png(), 'parameters', text);
    expect(String.fromCharCode(...out.subarray(37, 41))).toBe('iTXt');
    expect(parseParameters(readPngText(out).get('parameters')!)?.prompt).toBe('富士山の夕焼け, 🌅');
  });

  it('writes and reads back a 1 MB parameters chunk, Latin-1 and UTF-8 (any size the app writes, it reads)', () => {
    const long = formatParameters({ ...params, prompt: 'a flooble, '.repeat(100_000) });
    expect(long.length).toBeGreaterThan(1_000_000);
    expect(readPngText(addPngText(png(), 'parameters', long)).get('parameters')).toBe(long);
    const wide = formatParameters({ ...params, prompt: '夕焼け, '.repeat(100_000) });
    expect(parseParameters(readPngText(addPngText(png(), 'parameters', wide)).get('parameters')!)?.prompt).toBe(
      '夕焼け, '.repeat(100_000).trim(),
    );
  });

  it('reads an A1111-style iTXt chunk placed before IEND by another tool', () => {
    const text = [
      'masterpiece, a cat on a windowsill, (detailed:1.2)',
      'soft light',
      'Negative prompt: lowres, bad anatomy',
      'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.6.0',
    ].join('\n');
    const enc = new TextEncoder();
    // iTXt: keyword NUL, compression flag 0, method 0, language "en" NUL, translated keyword "" NUL, text.
    const body = new Uint8Array([...enc.encode('parameters'), 0, 0, 0, ...enc.encode('en'), 0, 0, ...enc.encode(text)]);
    const chunk = new Uint8Array(12 + body.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, body.length);
    chunk.set(enc.encode('iTXt'), 4);
    chunk.set(body, 8);
    view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
    const base = png();
    const withText = new Uint8Array([
      ...base.subarray(0, base.length - 12),
      ...chunk,
      ...base.subarray(base.length - 12),
    ]);
    const parsed = parseParameters(readPngText(withText).get('parameters')!);
    expect(parsed).toEqual({
      prompt: 'masterpiece, a cat on a windowsill, (detailed:1.2)\nsoft light',
      negativePrompt: 'lowres, bad anatomy',
      steps: 28,
      scheduler: 'dpmpp-2m',
      karras: true,
      guidanceScale: 7,
      seed: '1234567890',
      width: 512,
      height: 768,
      model: 'v1-5-pruned-emaonly',
    });
  });
});

describe('parameter text', () => {
  it('writes the prompt line, the negative line and the settings line', () => {
    expect(formatParameters(params)).toBe(
      'A painting of a flooble\nNegative prompt: blurry, low quality\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 18446744073709551615, Size: 512x384, Model: tiny-sd, Mode: txt2img',
    );
  });

  it('round-trips every field, including strength, quoted values and an empty negative prompt', () => {
    const img2img: GenerationSettings = {
      ...params,
      negativePrompt: '',
      mode: 'img2img',
      strength: 0.6,
      model: 'my, model',
    };
    const text = formatParameters(img2img);
    expect(text).not.toMatch(/Negative prompt/);
    expect(text).toMatch(/Model: "my, model"/);
    expect(parseParameters(text)).toEqual(img2img);
  });

  it('writes Karras as A1111 names the sampler, and reads both of its forms', () => {
    const karras: GenerationSettings = { ...params, scheduler: 'dpmpp-2m', karras: true };
    const text = formatParameters(karras);
    expect(text).toMatch(/Sampler: DPM\+\+ 2M Karras,/);
    expect(parseParameters(text)).toEqual(karras);
    // A1111 1.9 and later: the schedule type as its own field.
    const later = parseParameters('a cat\nSteps: 20, Sampler: Euler, Schedule type: Karras, CFG scale: 7, Seed: 1');
    expect(later).toMatchObject({ scheduler: 'euler', karras: true });
    expect(parseParameters('a cat\nSteps: 20, Sampler: LMS, CFG scale: 7, Seed: 1')?.karras).toBeUndefined();
    // Euler ancestral has no Karras sigmas in diffusers: the sampler is read, Karras is not.
    expect(parseParameters('a cat\nSteps: 20, Sampler: Euler a Karras, Seed: 1')).toMatchObject({
      scheduler: 'euler-ancestral',
    });
    expect(parseParameters('a cat\nSteps: 20, Sampler: Euler a Karras, Seed: 1')?.karras).toBeUndefined();
  });

  it('writes and reads clip skip, hires fix and plain prompt syntax as A1111 names them', () => {
    const hires: GenerationSettings = {
      ...params,
      clipSkip: 2,
      promptSyntax: 'plain',
      hires: { scale: 2, steps: 10, denoise: 0.55, upscaler: 'lanczos' },
    };
    const text = formatParameters(hires);
    expect(text).toMatch(
      /Clip skip: 2, Denoising strength: 0.55, Hires upscale: 2, Hires steps: 10, Hires upscaler: Lanczos, Prompt syntax: plain, Mode: txt2img$/,
    );
    expect(parseParameters(text)).toEqual(hires);
    // Hires steps 0 (as many as the first pass) is left out, as A1111 does.
    const zero = formatParameters({ ...params, hires: { scale: 1.5, steps: 0, denoise: 0.7, upscaler: 'latent' } });
    expect(zero).not.toMatch(/Hires steps/);
    expect(parseParameters(zero)?.hires).toEqual({ scale: 1.5, steps: 0, denoise: 0.7, upscaler: 'latent' });
  });

  it("restores an A1111 picture's Karras, clip skip and hires, and names what it cannot restore", () => {
    const parsed = parseParameters(
      'a cat\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, Size: 512x512, Model hash: abc, ' +
        'Denoising strength: 0.45, Clip skip: 2, Hires upscale: 2, Hires steps: 12, Hires upscaler: R-ESRGAN 4x+, ' +
        'ADetailer model: face_yolov8n.pt, Version: v1.9.4',
    );
    expect(parsed).toMatchObject({
      scheduler: 'dpmpp-2m',
      karras: true,
      clipSkip: 2,
      hires: { scale: 2, steps: 12, denoise: 0.45, upscaler: 'lanczos' },
    });
    expect(parsed?.strength).toBeUndefined();
    expect(parsed?.notRestored).toEqual([
      'Hires upscaler: R-ESRGAN 4x+ (Lanczos used here)',
      'ADetailer model: face_yolov8n.pt',
    ]);
    // A Karras sampler diffusers has no Karras sigmas for is said, not dropped in silence.
    expect(parseParameters('a cat\nSteps: 20, Sampler: Euler a Karras, Seed: 1')?.notRestored).toEqual([
      'Karras (Euler a has no Karras sigmas here)',
    ]);
    expect(parseParameters('a cat\nSteps: 20, Sampler: UniPC, Seed: 1')?.notRestored).toEqual([
      'Sampler: UniPC (not available here)',
    ]);
  });

  it('returns null for text without a settings line', () => {
    expect(parseParameters('just a caption')).toBeNull();
  });
});

describe("A1111's <lora:name:w> prompt tags", () => {
  it('set strengths and leave the text the tokenizer sees', async () => {
    const { parseLoraTags, withLoraTags } = await import('../../../../src/core/prompt/lora-tags');
    expect(parseLoraTags('a red bicycle, <lora:style.kohya:0.8> leaning on a wall <lora:other>')).toEqual({
      prompt: 'a red bicycle, leaning on a wall',
      tags: [
        { name: 'style.kohya', scale: 0.8 },
        { name: 'other', scale: 1 },
      ],
    });
    expect(() => parseLoraTags('<lora:x:3>')).toThrow('<lora:x:3> needs a strength between −2 and 2.');
    expect(withLoraTags('a cat', [{ name: 'x', scale: 0.3 }])).toBe('a cat <lora:x:0.3>');
    expect(withLoraTags('a cat <lora:x:0.3>', [{ name: 'x', scale: 0.3 }])).toBe('a cat <lora:x:0.3>');
  });
});
