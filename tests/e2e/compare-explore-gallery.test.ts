import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../src/core/formats/png-text';
import { canvasData, canvasPixels, dropPng, generate, pixelDiff, rgbStd, setRange, setSettings } from './helpers/app';
import { openApp, SCREENSHOTS, type Session } from './helpers/browser';

const SIZE = 128;

describe('compare, explore and the gallery in the browser', () => {
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp();
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await setSettings(session.page, {
      backend: 'wasm',
      prompt: 'A painting of a flooble',
      negativePrompt: '',
      width: SIZE,
      height: SIZE,
      steps: 8,
      seed: '1234',
      scheduler: 'pndm',
    });
  });
  afterAll(async () => session?.close());

  it('compare 1.1, 8, 12: three labelled cells that differ, and the 8 cell equals txt2img at guidance 8', async () => {
    const { page } = session;
    await page.getByTestId('mode-compare').click();
    expect(await page.getByTestId('compare-scales').inputValue()).toBe('1.1, 8, 12');
    const gallery = page.getByTestId('gallery');
    const before = Number(await gallery.getAttribute('data-count'));
    expect(await generate(page)).toBe('done');
    // Every cell is in the history, without opening it.
    await expect.poll(async () => Number(await gallery.getAttribute('data-count'))).toBe(before + 3);
    const cells = page.getByTestId('compare-cell');
    expect(await cells.count()).toBe(3);
    const images: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const cell = cells.nth(i);
      expect(await cell.getAttribute('data-done')).toBe('true');
      expect(await cell.getAttribute('data-steps')).toBe('8');
      expect(await cell.getAttribute('data-scheduler')).toBe('pndm');
      expect(await cell.locator('figcaption').textContent()).toMatch(/^CFG [\d.]+ · 8 steps · PNDM$/);
      images.push(
        Buffer.from(
          await cell.locator('canvas').evaluate((c: HTMLCanvasElement) => {
            const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
            return Array.from(d);
          }),
        ),
      );
    }
    expect(await cells.nth(0).getAttribute('data-guidance')).toBe('1.1');
    expect(await cells.nth(1).getAttribute('data-guidance')).toBe('8');
    expect(await cells.nth(2).getAttribute('data-guidance')).toBe('12');
    expect(pixelDiff(images[0]!, images[1]!).mean).toBeGreaterThan(0.5);
    expect(pixelDiff(images[1]!, images[2]!).mean).toBeGreaterThan(0.5);
    await page.screenshot({ path: `${SCREENSHOTS}/compare.png` });

    // The grid as one labelled PNG: three 128-px cells side by side with 8-px gaps, a label row above.
    const [grid] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export').click()]);
    expect(grid.suggestedFilename()).toBe('A_painting_of_a_flooble_1234_grid.png');
    const gridPath = `${SCREENSHOTS}/compare-grid-export.png`;
    await grid.saveAs(gridPath);
    const gridPng = readFileSync(gridPath);
    expect([gridPng.readUInt32BE(16), gridPng.readUInt32BE(20)]).toEqual([3 * SIZE + 4 * 8, SIZE + 20 + 2 * 8]);

    // The same prompt and seed as a plain txt2img run at guidance 8.
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { guidance: 8 });
    expect(await generate(page)).toBe('done');
    const single = await canvasPixels(page);
    const diff = pixelDiff(single.pixels, images[1]!);
    console.log('compare cell vs txt2img at guidance 8 (WASM):', diff);
    expect(diff.max).toBe(0);

    // Open a cell as a normal result.
    await page.getByTestId('mode-compare').click();
    await page.getByTestId('compare-open').nth(2).click();
    await expect.poll(() => page.getByTestId('mode').getAttribute('data-mode')).toBe('txt2img');
    expect(pixelDiff((await canvasPixels(page)).pixels, images[2]!).max).toBe(0);
    expect(await page.getByTestId('guidance-scale').inputValue()).toBe('12');
  });

  it('explore: tokens, the noise schedule plot with axes, a VAE round trip and a step scrubber', async () => {
    const { page } = session;
    await page.getByTestId('mode-explore').click();
    // Tokens follow the prompt once a model is loaded; with none loaded yet, ask for them.
    const ask = page.getByTestId('explore-tokenize');
    if ((await ask.count()) > 0) await ask.click();
    await expect
      .poll(() => page.getByTestId('token-ids').textContent())
      .toBe('49406, 320, 3086, 539, 320, 4062, 1059, 49407');
    // A model loaded just for the tokens leaves the job as it was, not stuck at "loading".
    await expect.poll(() => page.getByTestId('status').getAttribute('data-state')).not.toBe('loading');
    expect(await page.getByTestId('token-list').locator('li').first().textContent()).toMatch(
      /<\|startoftext\|>\s*49406/,
    );
    const plot = page.getByTestId('schedule-plot');
    expect(await plot.locator('path.curve').count()).toBe(3);
    expect(await plot.locator('text.tick').allTextContents()).toEqual([
      '0',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '0',
      '250',
      '500',
      '750',
      '999',
    ]);
    expect((await plot.getAttribute('data-timesteps'))!.split(',')).toHaveLength(9); // PNDM: 8 steps + 1
    // Past 75 tokens A1111's syntax (the default) makes chunks; plain mode shows what CLIP drops.
    await setSettings(page, { prompt: 'a long prompt ' + 'word '.repeat(90) });
    await expect.poll(() => page.getByTestId('token-summary').textContent()).toMatch(/2 chunks of 77 tokens/);
    await page.getByTestId('prompt-syntax').selectOption('plain');
    await expect.poll(() => page.getByTestId('token-truncated').textContent()).toMatch(/drops: “.*word/);
    await page.getByTestId('prompt-syntax').selectOption('a1111');
    await setSettings(page, { prompt: 'A painting of a flooble' });

    // The round trip takes the last result: one of its own when the tests before left none.
    if ((await page.getByTestId('result-mode').count()) === 0) expect(await generate(page)).toBe('done');
    await page.getByTestId('explore-vae').click();
    await expect.poll(() => page.getByTestId('latent-shape').textContent()).toMatch(/128×128 pixels → 4×16×16 latents/);
    for (let c = 0; c < 4; c++)
      expect(rgbStd((await canvasData(page, `latent-channel-${c}`)).pixels)).toBeGreaterThan(1);
    expect(await page.getByTestId('vae-error').textContent()).toMatch(
      /Reconstruction error: [\d.]+ \/ 255 mean absolute, PSNR [\d.]+ dB/,
    );

    await page.getByTestId('preview-every').fill('2');
    expect(await generate(page)).toBe('done');
    const scrubber = page.getByTestId('preview-scrubber');
    expect(await scrubber.getAttribute('max')).toBe('5'); // previews after steps 2, 4, 6, 8, 9 + the final image
    const final = (await canvasPixels(page)).pixels;
    await setRange(page, 'preview-scrubber', 0);
    await expect.poll(() => page.getByTestId('preview-label').textContent()).toMatch(/^Step 2 of 9/);
    const early = (await canvasPixels(page)).pixels;
    expect(pixelDiff(early, final).mean).toBeGreaterThan(0.5);
    await page.screenshot({ path: `${SCREENSHOTS}/explore.png`, fullPage: true });
    await setRange(page, 'preview-scrubber', 5);
    await expect.poll(() => page.getByTestId('preview-label').textContent()).toBe('Final image');
    expect(pixelDiff((await canvasPixels(page)).pixels, final).max).toBe(0);
  });

  it('seed −1 makes a new seed each Generate, shown with the result; batch count 3 adds three pictures', async () => {
    const { page } = session;
    const gallery = page.getByTestId('gallery');
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { seed: '-1', steps: 4 });
    const shownSeed = async () => (await page.getByTestId('result-seed').textContent())?.trim() ?? '';
    expect(await generate(page)).toBe('done');
    const first = await shownSeed();
    expect(first).toMatch(/^\d+$/);
    expect(await generate(page)).toBe('done');
    expect(await shownSeed()).toMatch(/^\d+$/);
    expect(await shownSeed()).not.toBe(first);
    expect(await page.getByTestId('seed').inputValue()).toBe('-1');

    await setSettings(page, { seed: '500' });
    await page.getByTestId('batch-count').fill('3');
    const before = Number(await gallery.getAttribute('data-count'));
    expect(await generate(page)).toBe('done');
    await expect.poll(async () => Number(await gallery.getAttribute('data-count'))).toBe(before + 3);
    const seeds = await page
      .getByTestId('gallery-item')
      .evaluateAll((items) => items.slice(0, 3).map((i) => i.getAttribute('data-seed')));
    expect(seeds).toEqual(['502', '501', '500']);
    expect(await shownSeed()).toBe('502');
    expect(await page.getByTestId('notice').textContent()).toMatch(/Made 3 pictures, seeds 500 to 502/);
    await page.screenshot({ path: `${SCREENSHOTS}/batch-count.png`, fullPage: true });
    await page.getByTestId('batch-count').fill('1');
    await setSettings(page, { seed: '1234', steps: 8 });
  });

  it('Karras: DPM++ 2M Karras makes another picture, written in its PNG and restored when dropped back', async () => {
    const { page } = session;
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { seed: '77', steps: 6, scheduler: 'dpmpp-2m' });
    expect(await generate(page)).toBe('done');
    const plain = (await canvasPixels(page)).pixels;
    await page.getByTestId('karras').check();
    expect(await generate(page)).toBe('done');
    expect(pixelDiff((await canvasPixels(page)).pixels, plain).mean).toBeGreaterThan(0.5);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const bytes = new Uint8Array(readFileSync(await download.path()));
    expect(readPngText(bytes).get('parameters')).toMatch(/Sampler: DPM\+\+ 2M Karras,/);

    // Off again and another scheduler; the dropped picture puts both back.
    await page.getByTestId('karras').uncheck();
    await setSettings(page, { scheduler: 'euler' });
    await dropPng(page, bytes, 'karras.png');
    await expect.poll(() => page.getByTestId('scheduler').inputValue()).toBe('dpmpp-2m');
    expect(await page.getByTestId('karras').isChecked()).toBe(true);

    // A scheduler without Karras sigmas is refused in words, next to nothing run.
    await setSettings(page, { scheduler: 'pndm' });
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(/PNDM has no Karras sigmas/);
    await page.getByTestId('karras').uncheck();
    await setSettings(page, { seed: '1234', steps: 8 });
  });

  it('keeps the gallery across a reload; a downloaded PNG dropped back restores prompt and seed', async () => {
    const { page } = session;
    const gallery = page.getByTestId('gallery');
    // The newest picture its own (seed 1234), and at least three in all.
    await page.getByTestId('mode-txt2img').click();
    do expect(await generate(page)).toBe('done');
    while (Number(await gallery.getAttribute('data-count')) < 3);
    const before = Number(await gallery.getAttribute('data-count'));
    expect(before).toBeGreaterThanOrEqual(3);
    await page.reload();
    await expect.poll(async () => Number(await gallery.getAttribute('data-count'))).toBe(before);
    const newest = page.getByTestId('gallery-item').first();
    expect(await newest.getAttribute('data-seed')).toBe('1234');
    await page.screenshot({ path: `${SCREENSHOTS}/gallery.png`, fullPage: true });

    // Download from the gallery: the file carries the parameters.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      newest.getByTestId('gallery-download').click(),
    ]);
    const path = await download.path();
    const bytes = new Uint8Array(readFileSync(path));
    const text = readPngText(bytes).get('parameters')!;
    // The guidance the newest picture was made with (12 after the compare test opened that cell).
    const cfg = await page.getByTestId('guidance-scale').inputValue();
    expect(text).toBe(
      `A painting of a flooble\nSteps: 8, Sampler: PNDM, CFG scale: ${cfg}, Seed: 1234, Size: 128x128, Model: tiny-sd, Mode: txt2img`,
    );

    await setSettings(page, { prompt: 'something else', seed: '99' });
    await dropPng(page, bytes, 'from-gallery.png');
    await expect.poll(() => page.getByTestId('prompt').inputValue()).toBe('A painting of a flooble');
    expect(await page.getByTestId('seed').inputValue()).toBe('1234');
    expect(await page.getByTestId('notice').textContent()).toMatch(/Settings restored from "from-gallery.png"/);

    // Delete removes it, and the deletion also survives a reload.
    await newest.getByTestId('gallery-delete').click();
    await expect.poll(async () => Number(await gallery.getAttribute('data-count'))).toBe(before - 1);
    await page.reload();
    await expect.poll(async () => Number(await gallery.getAttribute('data-count'))).toBe(before - 1);
  });
});
