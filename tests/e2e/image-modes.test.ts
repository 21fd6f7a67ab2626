import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../scripts/node-gpu/png';
import { canvasData, canvasPixels, generate, pixelDiff, rgbStd, setRange, setSettings, stroke } from './helpers/app';
import { openApp, SCREENSHOTS, type Session } from './helpers/browser';

const SIZE = 128;
const FILES = join(process.cwd(), 'test-results', 'files');

/** A picture with structure: gradients, a disc and stripes, so changes are easy to see. */
function picture(size: number): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const disc = (x - size * 0.35) ** 2 + (y - size * 0.4) ** 2 < (size * 0.2) ** 2;
      rgba[i] = disc ? 240 : Math.round((x * 255) / size);
      rgba[i + 1] = disc ? 200 : Math.round((y * 255) / size);
      rgba[i + 2] = (Math.floor(x / 16) + Math.floor(y / 16)) % 2 ? 200 : 40;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

function meanDiff(a: Uint8Array, b: Uint8Array): number {
  return pixelDiff(a, b).mean;
}

describe('image modes in the browser', () => {
  let session: Session;
  const input = picture(SIZE);
  const inputPath = join(FILES, 'start.png');
  const textPath = join(FILES, 'notes.txt');
  const fakePngPath = join(FILES, 'broken.png');

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    mkdirSync(FILES, { recursive: true });
    writeFileSync(inputPath, encodePng(SIZE, SIZE, input));
    writeFileSync(textPath, 'not a picture\n');
    writeFileSync(fakePngPath, 'this is not PNG data');
    session = await openApp();
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await setSettings(session.page, {
      backend: 'wasm',
      prompt: 'a flooble in a garden',
      width: SIZE,
      height: SIZE,
      steps: 10,
      seed: '5',
      scheduler: 'pndm',
    });
  });
  afterAll(async () => session?.close());

  /** A mode with this file's start picture, whatever the tests before left (each test starts here). */
  async function startFrom(page: Session['page'], mode: 'img2img' | 'inpaint' | 'depth2img'): Promise<void> {
    await page.getByTestId(`mode-${mode}`).click();
    await expect.poll(() => page.getByTestId('image-input').isVisible()).toBe(true);
    if (/start\.png/.test((await page.getByTestId('init-image-info').textContent()) ?? '')) return;
    await page.getByTestId('init-image-input').setInputFiles(inputPath);
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/start\.png · 128×128/);
  }

  it('img2img: the result differs from the picture and depends on strength', async () => {
    const { page } = session;
    await page.getByTestId('mode-img2img').click();
    await expect.poll(() => page.getByTestId('image-input').isVisible()).toBe(true);
    await page.getByTestId('init-image-input').setInputFiles(inputPath);
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/start\.png · 128×128/);
    // The preview shows the picture exactly (same size: no resampling).
    const preview = await canvasData(page, 'init-image-preview');
    expect(pixelDiff(preview.pixels, input).max).toBe(0);

    await setRange(page, 'strength', 0.3);
    expect(await generate(page)).toBe('done');
    const low = (await canvasPixels(page)).pixels;
    await setRange(page, 'strength', 0.9);
    expect(await generate(page)).toBe('done');
    const high = (await canvasPixels(page)).pixels;
    await page.screenshot({ path: `${SCREENSHOTS}/img2img.png` });

    expect(meanDiff(low, input)).toBeGreaterThan(1);
    expect(meanDiff(high, low)).toBeGreaterThan(1);
    expect(meanDiff(high, input)).toBeGreaterThan(meanDiff(low, input));
    expect(await page.getByTestId('result-mode').getAttribute('data-mode')).toBe('img2img');
    expect(await page.getByTestId('encoder-latents').textContent()).toMatch(/sampled by the VAE encoder export/);
  });

  it('inpaint: stroke, undo, stroke, invert; outside the mask stays the picture, inside changes', async () => {
    const { page } = session;
    await startFrom(page, 'inpaint');
    // The 4-channel model can inpaint by blending, but the dedicated 9-channel one is preferred.
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('tiny-sd');
    await page.getByTestId('model').selectOption('tiny-sd-inpaint');
    await setRange(page, 'brush-size', 10);
    const maskAlpha = async () => {
      const { pixels } = await canvasData(page, 'mask-canvas');
      return Uint8Array.from({ length: pixels.length / 4 }, (_, i) => pixels[i * 4 + 3]!);
    };
    expect((await maskAlpha()).every((v) => v === 0)).toBe(true);

    await stroke(page, 'mask-canvas', [0.1, 0.2], [0.9, 0.25]);
    const first = await maskAlpha();
    expect(first.filter((v) => v === 255).length).toBeGreaterThan(500);
    await page.getByTestId('mask-undo').click();
    expect((await maskAlpha()).every((v) => v === 0)).toBe(true);
    await page.getByTestId('mask-redo').click();
    expect(Buffer.from(await maskAlpha()).equals(Buffer.from(first))).toBe(true);
    await page.keyboard.press('Control+z');
    expect((await maskAlpha()).every((v) => v === 0)).toBe(true);

    // A fast diagonal stroke with few mouse events is still continuous.
    await stroke(page, 'mask-canvas', [0.2, 0.9], [0.8, 0.5], 2);
    await page.getByTestId('mask-invert').click();
    const mask = await maskAlpha();
    const kept = mask.filter((v) => v === 0).length;
    expect(kept).toBeGreaterThan(500);
    expect(kept).toBeLessThan((SIZE * SIZE) / 2);
    // Continuity: every column the stroke crosses between 25 % and 75 % of the width has kept pixels.
    for (let x = Math.round(SIZE * 0.25); x < Math.round(SIZE * 0.75); x++) {
      let any = false;
      for (let y = 0; y < SIZE; y++) any ||= mask[y * SIZE + x] === 0;
      expect(any, `column ${x}`).toBe(true);
    }
    await page.screenshot({ path: `${SCREENSHOTS}/inpaint-mask.png` });

    expect(await page.getByTestId('paste-back').isChecked()).toBe(true);
    expect(await generate(page)).toBe('done');
    const out = (await canvasPixels(page)).pixels;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SCREENSHOTS}/inpaint.png` });
    // Paste-back feathers 1 px at this size: compare pixels at least 3 px from any repainted one.
    let outsideChecked = 0;
    let insideChanged = 0;
    let inside = 0;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = y * SIZE + x;
        let nearMask = false;
        for (let dy = -3; dy <= 3 && !nearMask; dy++)
          for (let dx = -3; dx <= 3 && !nearMask; dx++) {
            const yy = Math.min(Math.max(y + dy, 0), SIZE - 1);
            const xx = Math.min(Math.max(x + dx, 0), SIZE - 1);
            nearMask = mask[yy * SIZE + xx]! >= 128;
          }
        if (!nearMask) {
          for (let c = 0; c < 3; c++) expect(out[i * 4 + c], `pixel ${x},${y}`).toBe(input[i * 4 + c]);
          outsideChecked++;
        }
        if (mask[i]! >= 128) {
          inside++;
          if ([0, 1, 2].some((c) => Math.abs(out[i * 4 + c]! - input[i * 4 + c]!) > 2)) insideChanged++;
        }
      }
    }
    expect(outsideChecked).toBeGreaterThan(200);
    expect(insideChanged / inside).toBeGreaterThan(0.5);
  });

  it('depth2img: estimates and shows a depth map, then makes an image', async () => {
    const { page } = session;
    await startFrom(page, 'depth2img');
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('tiny-sd-depth');
    await expect.poll(() => page.getByTestId('model-notice').textContent()).toMatch(/Switched to Tiny SD depth/);
    expect(await page.getByTestId('depth-map').getAttribute('data-source')).toBe('none');
    expect(await generate(page)).toBe('done');
    expect(await page.getByTestId('depth-map').getAttribute('data-source')).toBe('estimated');
    const depth = await canvasData(page, 'depth-map');
    expect([depth.width, depth.height]).toEqual([SIZE, SIZE]);
    expect(rgbStd(depth.pixels)).toBeGreaterThan(20);
    const out = (await canvasPixels(page)).pixels;
    expect(rgbStd(out)).toBeGreaterThan(5);
    expect(meanDiff(out, input)).toBeGreaterThan(1);
    await page.screenshot({ path: `${SCREENSHOTS}/depth2img.png`, fullPage: true });
  });

  it('a file that is not an image, or not decodable, gives a clear message and the app keeps working', async () => {
    const { page } = session;
    await startFrom(page, 'img2img');
    await page.getByTestId('init-image-input').setInputFiles(textPath);
    await expect
      .poll(() => page.getByTestId('image-error').textContent())
      .toMatch(/notes\.txt.*text\/plain.*PNG, JPEG or WebP/);
    await page.getByTestId('init-image-input').setInputFiles(fakePngPath);
    await expect.poll(() => page.getByTestId('image-error').textContent()).toMatch(/broken\.png.*could not be decoded/);
    await page.screenshot({ path: `${SCREENSHOTS}/image-bad-file.png` });
    // The earlier picture is still the start image, and generating works.
    expect(await page.getByTestId('init-image-info').textContent()).toMatch(/start\.png/);
    expect(await generate(page)).toBe('done');
    await page.getByTestId('init-image-input').setInputFiles(inputPath);
    await expect.poll(() => page.getByTestId('image-error').count()).toBe(0);
  });

  it('takes a start image from a drop, a paste, or the last result', async () => {
    const { page } = session;
    // A result to take, made with this file's seed.
    await startFrom(page, 'img2img');
    expect(await generate(page)).toBe('done');
    const png = encodePng(
      SIZE,
      SIZE,
      picture(SIZE).map((v, i) => (i % 4 === 3 ? 255 : 255 - v)),
    );
    const send = (kind: 'drop' | 'paste', name: string) =>
      page.evaluate(
        ({ bytes, kind, name }) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
          const target = document.querySelector('[data-testid=image-input]')!;
          if (kind === 'drop') target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
          else window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true }));
        },
        { bytes: Array.from(png), kind, name },
      );
    await send('drop', 'dropped.png');
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/dropped\.png/);
    await send('paste', 'pasted.png');
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/pasted\.png/);
    await page.getByTestId('use-result').click();
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result \(seed 5\)/);
    const preview = await canvasData(page, 'init-image-preview');
    expect(pixelDiff(preview.pixels, (await canvasPixels(page)).pixels).max).toBe(0);
  });

  // Inpainting on WebGPU is checked where a 9-channel UNet must match: the optimum export against
  // diffusers (onnx-layouts.test.ts) and the Shapes inpainting UNet against WASM (trained-model.test.ts).
  it('img2img and depth2img (with the estimator on the GPU) also run on WebGPU', async () => {
    const { page } = session;
    await startFrom(page, 'img2img');
    // Two steps: what is checked is that each runs on WebGPU, not where it converges.
    await setSettings(page, { backend: 'webgpu', width: 64, height: 64, steps: 2 });
    for (const [mode, model] of [
      ['img2img', 'tiny-sd'],
      ['depth2img', 'tiny-sd-depth'],
    ] as const) {
      await page.getByTestId(`mode-${mode}`).click();
      await page.getByTestId('model').selectOption(model);
      expect(await generate(page, 300_000), mode).toBe('done');
      expect(await page.getByTestId('status').textContent()).toMatch(/WebGPU/);
      expect(rgbStd((await canvasPixels(page)).pixels), mode).toBeGreaterThan(3);
      // No depth map was given: the worker estimated one, on the model's backend.
      if (mode === 'depth2img')
        expect(await page.getByTestId('depth-map').getAttribute('data-source')).toBe('estimated');
    }
  }, 400_000);
});
