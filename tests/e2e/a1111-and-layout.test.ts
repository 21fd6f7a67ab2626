/**
 * The habits of A1111 users and the page on every screen (#32): the page fits a desktop and a
 * phone without sideways scrolling, Generate stays in view, the mask editor comes before Generate
 * on a phone and paints by touch; A1111's prompt syntax in explore, hires fix, a dropped A1111
 * PNG's Karras, clip skip and hires restored (and what cannot be, named); a catalog model offline
 * says so, and one click goes back to the model that worked.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { encodePng } from '../../scripts/node-gpu/png';
import { addPngText, readPngText } from '../../src/core/formats/png-text';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { canvasData, canvasPixels, dropPng, generate, pixelDiff, setSettings, SMALL_WASM } from './helpers/app';
import { SCREENSHOTS, type Session } from './helpers/browser';
import { openOnMockHub } from './helpers/golden-input';
import { useMockHub } from './helpers/hub';

async function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

async function inView(page: Page, testId: string): Promise<boolean> {
  const box = await page.getByTestId(testId).boundingBox();
  const { height, width } = page.viewportSize()!;
  return box !== null && box.y >= 0 && box.y + box.height <= height && box.x >= 0 && box.x + box.width <= width;
}

/** A finger drawn across a canvas (CDP touch events: pointerType "touch", as on a phone). */
async function touchStroke(page: Page, testId: string, from: [number, number], to: [number, number]): Promise<void> {
  await page.getByTestId(testId).scrollIntoViewIfNeeded();
  const box = (await page.getByTestId(testId).boundingBox())!;
  const at = ([fx, fy]: [number, number]) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(from)] });
  for (let i = 1; i <= 8; i++) {
    const f: [number, number] = [from[0] + ((to[0] - from[0]) * i) / 8, from[1] + ((to[1] - from[1]) * i) / 8];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(f)] });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
  await cdp.detach();
}

describe('A1111 habits, and a page that fits every screen', () => {
  const hub = useMockHub(() => ({ 'stable-diffusion-v1-5/stable-diffusion-v1-5': `${NETWORKS_DIR}sd1` }));
  let session: Session;
  // A start picture: a gradient with a bright disc (64×64 RGBA).
  const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => {
    const p = i >> 2;
    const [x, y] = [p % 64, Math.floor(p / 64)];
    const disc = (x - 32) ** 2 + (y - 32) ** 2 < 200;
    return i % 4 === 3 ? 255 : disc ? 230 : (x * 4 + (i % 4) * 40) % 256;
  });
  const input = new Uint8Array(encodePng(64, 64, rgba));
  const inputPath = join(process.cwd(), 'test-results', 'files', 'a1111-start.png');

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    mkdirSync(join(process.cwd(), 'test-results', 'files'), { recursive: true });
    writeFileSync(inputPath, input);
    session = await openOnMockHub();
    await setSettings(session.page, SMALL_WASM);
  });
  afterAll(async () => session?.close());

  it('no sideways scroll at 1400×1000 or 390×844; Generate in view at 1366×768, top and bottom', async () => {
    const { page } = session;
    for (const [width, height] of [
      [1400, 1000],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const mode of ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'] as const) {
        await page.getByTestId(`mode-${mode}`).click();
        const { scrollWidth, innerWidth } = await overflow(page);
        expect(scrollWidth, `${mode} at ${width}`).toBeLessThanOrEqual(innerWidth);
      }
      // The tabs fit: two rows at most on a phone, each label on one line.
      const tabs = (await page.getByTestId('mode').boundingBox())!;
      expect(tabs.width).toBeLessThanOrEqual(width);
      expect(tabs.height).toBeLessThan(100);
      // The model select shows its whole label.
      const label = page.getByTestId('model');
      expect(await label.evaluate((s: HTMLSelectElement) => s.scrollWidth <= s.clientWidth + 24)).toBe(true);
      await page.getByTestId('mode-txt2img').click();
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SCREENSHOTS}/layout-${width}x${height}.png` });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    for (const y of [0, 100_000]) {
      await page.evaluate((top) => window.scrollTo(0, top), y);
      expect(await inView(page, 'generate'), `scrolled to ${y}`).toBe(true);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SCREENSHOTS}/layout-1366x768.png` });
  });

  it('on a phone: the mask editor before Generate, the message in view, and a finger paints the mask', async () => {
    const { page } = session;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('mode-img2img').click();
    await page.evaluate(() => window.scrollTo(0, 0));
    // No start image yet: refused, and the reason beside Generate, inside the window.
    if ((await page.getByTestId('init-image-info').count()) === 0) {
      expect(await generate(page)).toBe('error');
      expect(await page.getByTestId('generate-error').textContent()).toMatch(/starts from an image/);
      expect(await inView(page, 'generate-error')).toBe(true);
    }
    await page.getByTestId('mode-inpaint').click();
    await page.getByTestId('init-image-input').setInputFiles(inputPath);
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/a1111-start\.png/);
    // At the end of the page, Generate sits where it comes in the reading order: after the editor.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const editor = (await page.getByTestId('mask-canvas').boundingBox())!;
    const button = (await page.getByTestId('generate').boundingBox())!;
    expect(button.y).toBeGreaterThan(editor.y + editor.height);
    const alpha = async () => {
      const { pixels } = await canvasData(page, 'mask-canvas');
      return Array.from({ length: pixels.length / 4 }, (_, i) => pixels[i * 4 + 3]!).filter((v) => v > 0).length;
    };
    await page.getByTestId('mask-clear').click();
    expect(await alpha()).toBe(0);
    await touchStroke(page, 'mask-canvas', [0.1, 0.5], [0.9, 0.5]);
    expect(await alpha()).toBeGreaterThan(0);
    // Painting did not scroll the page sideways.
    expect((await overflow(page)).scrollWidth).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${SCREENSHOTS}/phone-inpaint.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId('mode-txt2img').click();
  });

  it("A1111's syntax: explore shows each weight and the chunks; plain mode reads the brackets as words", async () => {
    const { page } = session;
    await page.getByTestId('mode-explore').click();
    await setSettings(page, { prompt: 'a (yellow:1.3) triangle on a [green] background' });
    // Before any model is loaded, the tokens are shown on request (which loads the model).
    if ((await page.getByTestId('explore-tokenize').count()) > 0) await page.getByTestId('explore-tokenize').click();
    await expect
      .poll(() => page.getByTestId('token-weight').allTextContents(), { timeout: 60_000 })
      .toEqual(['×1.30', '×0.91']);
    await setSettings(page, { prompt: `${'red '.repeat(100)}circle` });
    await expect.poll(() => page.getByTestId('token-summary').textContent()).toMatch(/2 chunks of 77 tokens/);
    expect(await page.getByTestId('token-list').count()).toBe(2);
    expect(await page.getByTestId('token-truncated').count()).toBe(0);
    await page.getByTestId('prompt-syntax').selectOption('plain');
    await expect.poll(() => page.getByTestId('token-truncated').textContent()).toMatch(/drops: “red.*circle”/);
    await page.getByTestId('prompt-syntax').selectOption('a1111');
    await page.screenshot({ path: `${SCREENSHOTS}/explore-chunks.png` });

    // The same words with and without emphasis make different pictures.
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { prompt: 'a (yellow:1.5) triangle' });
    expect(await generate(page)).toBe('done');
    const weighted = (await canvasPixels(page)).pixels;
    await page.getByTestId('prompt-syntax').selectOption('plain');
    expect(await generate(page)).toBe('done');
    expect(pixelDiff((await canvasPixels(page)).pixels, weighted).mean).toBeGreaterThan(0.5);
    await page.getByTestId('prompt-syntax').selectOption('a1111');
  });

  it('hires fix makes the picture ×2, says so in its PNG; an A1111 PNG restores Karras, clip skip, hires', async () => {
    const { page } = session;
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { prompt: 'a flooble', width: 64, height: 64, steps: 3 });
    await page.getByTestId('hires-fix').check();
    await page.getByTestId('hires-scale').fill('2');
    await page.getByTestId('hires-steps').fill('4');
    await page.getByTestId('hires-denoise').fill('0.5');
    expect(await generate(page)).toBe('done');
    const shown = await canvasPixels(page);
    expect([shown.width, shown.height]).toEqual([128, 128]);
    expect(await page.getByTestId('result-mode').textContent()).toMatch(/64×64 → hires fix ×2/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const bytes = new Uint8Array(readFileSync(await download.path()));
    expect(readPngText(bytes).get('parameters')).toMatch(
      /Size: 64x64, .*Denoising strength: 0.5, Hires upscale: 2, Hires steps: 4, Hires upscaler: Latent/,
    );
    await page.getByTestId('hires-fix').uncheck();
    await page.screenshot({ path: `${SCREENSHOTS}/hires-fix.png` });

    // An A1111 picture's text, dropped on the page.
    const text = [
      'a cat, (detailed:1.2)',
      'Negative prompt: lowres',
      'Steps: 7, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 99, Size: 64x64, Model hash: 6ce0161689, ' +
        'Denoising strength: 0.45, Clip skip: 2, Hires upscale: 1.5, Hires steps: 5, Hires upscaler: R-ESRGAN 4x+, ' +
        'ADetailer model: face_yolov8n.pt, Version: v1.9.4',
    ].join('\n');
    await dropPng(page, addPngText(input, 'parameters', text), 'a1111.png');
    await expect.poll(() => page.getByTestId('scheduler').inputValue()).toBe('dpmpp-2m');
    expect(await page.getByTestId('karras').isChecked()).toBe(true);
    expect(await page.getByTestId('clip-skip').inputValue()).toBe('2');
    expect(await page.getByTestId('hires-fix').isChecked()).toBe(true);
    expect(await page.getByTestId('hires-scale').inputValue()).toBe('1.5');
    expect(await page.getByTestId('hires-steps').inputValue()).toBe('5');
    expect(await page.getByTestId('hires-denoise').inputValue()).toBe('0.45');
    expect(await page.getByTestId('hires-upscaler').inputValue()).toBe('lanczos');
    expect(await page.getByTestId('notice').textContent()).toMatch(
      /Not restored: Hires upscaler: R-ESRGAN 4x\+ \(Lanczos used here\); ADetailer model: face_yolov8n\.pt\./,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/a1111-png-restored.png` });
    // The restored settings run on a checkpoint (clip skip needs its text encoder's inner layers,
    // which the tiny model's ONNX export does not give: it says so).
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('generate-error').textContent()).toMatch(
      /^Clip skip needs the text encoder's inner layers/,
    );
    // Picking a model applies its own defaults: the picture's steps again.
    await page.getByTestId('model').selectOption('shapes-sd');
    await setSettings(page, { steps: 7, width: 64, height: 64 });
    expect(await generate(page)).toBe('done');
    expect((await canvasPixels(page)).width).toBe(96);
    await page.getByTestId('model').selectOption('tiny-sd');
    await page.getByTestId('hires-fix').uncheck();
    await page.getByTestId('karras').uncheck();
    await page.getByTestId('clip-skip').fill('1');
  });

  it('a catalog model offline says so; back-to-model returns to the model that worked', async () => {
    const { page, context } = session;
    expect(await generate(page)).toBe('done'); // the tiny model is the last that worked
    await page.getByTestId('model').selectOption('sd15');
    await context.setOffline(true);
    try {
      expect(await generate(page)).toBe('error');
      const message = page.getByTestId('generate-error');
      expect(await message.textContent()).toMatch(/^Could not reach 127\.0\.0\.1:4173 — you seem to be offline\./);
      expect(await inView(page, 'generate-error')).toBe(true);
      await page.screenshot({ path: `${SCREENSHOTS}/offline.png` });
      await page.getByTestId('back-to-model').click();
      expect(await page.getByTestId('model').inputValue()).toBe('tiny-sd');
      expect(await message.count()).toBe(0);
    } finally {
      await context.setOffline(false);
    }
    expect(await generate(page)).toBe('done');
    expect(hub.requests.some((p) => p.endsWith('.safetensors'))).toBe(false);
  });
});
