/**
 * What a person keeps: settings, the start image and the mask across a reload, the gallery across
 * tabs, and memory that does not grow over many generations.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, setSettings, SMALL_WASM } from './helpers/app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './helpers/browser';

/**
 * Bytes the page and its worker use, as Chrome measures them (cross-origin isolated pages only).
 * With one WASM thread (?threads=1) it answers at once: ORT's thread workers, blocked in
 * Atomics.wait, held every measurement to Chrome's 60 s timeout (measured: 81 ms with one thread,
 * more than 60 s with two).
 */
async function memoryBytes(session: Session): Promise<number> {
  return session.page.evaluate(async () => {
    const perf = performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ bytes: number }> };
    return (await perf.measureUserAgentSpecificMemory()).bytes;
  });
}

describe('state that lasts', () => {
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp({
      url: `${BASE_URL}?testHooks=1&threads=1`,
      // Makes measureUserAgentSpecificMemory answer at once instead of at the next idle GC.
      args: ['--enable-blink-features=ForceEagerMeasureMemory', '--js-flags=--expose-gc'],
    });
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await setSettings(session.page, SMALL_WASM);
  });
  afterAll(async () => session?.close());

  it('keeps the settings, the start image and the mask across a reload', async () => {
    const { page } = session;
    // Its own result to start from, whatever the tests before it left.
    await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 3, prompt: 'a flooble', seed: '1' });
    expect(await generate(page)).toBe('done');
    await page.getByTestId('mode-inpaint').click();
    await page.getByTestId('use-result').click();
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result \(seed 1\)/);
    const box = (await page.getByTestId('mask-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    const painted = () =>
      page.getByTestId('mask-canvas').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
    const before = await painted();
    expect(before).toBeGreaterThan(50);
    // The mask is saved shortly after the last stroke; the editor says when it is.
    await expect.poll(() => page.getByTestId('mask-canvas').getAttribute('data-saved')).toBe('true');
    await page.reload();
    expect(await page.getByTestId('mode').getAttribute('data-mode')).toBe('inpaint');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a flooble');
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result \(seed 1\)/);
    await expect.poll(painted).toBe(before);
    await page.getByTestId('mode-txt2img').click();
  });

  it("two open tabs see each other's new gallery entries without a reload", async () => {
    const { page, context } = session;
    await page.getByTestId('model').selectOption('tiny-sd');
    await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 2 });
    const other = await context.newPage();
    try {
      await other.goto(BASE_URL);
      const count = () => other.getByTestId('gallery').getAttribute('data-count').then(Number);
      const mine = () => page.getByTestId('gallery').getAttribute('data-count').then(Number);
      // The other tab has read the gallery when it shows what this one shows.
      const before = await mine();
      await expect.poll(count, { timeout: 10_000 }).toBe(before);
      expect(await generate(page)).toBe('done');
      await expect.poll(mine).toBe(before + 1);
      await expect.poll(count, { timeout: 10_000 }).toBe(before + 1);
    } finally {
      await other.close();
    }
  });

  it('runs 20 generations in a row without memory growth', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm', width: 128, height: 128, steps: 4 });
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      await setSettings(page, { seed: String(100 + i) });
      expect(await generate(page)).toBe('done');
      if (i === 4 || i === 19) {
        await page.evaluate(() => (globalThis as unknown as { gc?: () => void }).gc?.());
        samples.push(await memoryBytes(session));
      }
    }
    console.log('memory after 5 and 20 generations (bytes):', samples);
    // Growth from generation 5 to 20 under 10 %: buffers and tensors are freed each run.
    expect(samples[1]! / samples[0]!).toBeLessThan(1.1);
  }, 300_000);
});
