import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txt2img } from '../../src/core/pipeline/txt2img';
import { loadTinyModels } from '../helpers/node-models';
import { canvasPixels, generate, pixelDiff, rgbStd, setSettings, statusState } from './helpers/app';
import { openApp, SCREENSHOTS, type Session } from './helpers/browser';

const SMALL = {
  prompt: 'A painting of a flooble',
  negativePrompt: '',
  guidance: 7.5,
  seed: '42',
  scheduler: 'pndm',
} as const;

describe('txt2img in the browser', () => {
  let session: Session;
  const images = new Map<string, Buffer>();

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp();
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
  });
  afterAll(async () => session?.close());

  it('shows the GPU the worker found and starts idle', async () => {
    const { page } = session;
    await expect.poll(() => page.getByTestId('gpu-info').textContent()).toMatch(/GPU: |No WebGPU/);
    expect(await statusState(page)).toBe('idle');
  });

  it('generates on WASM: not blank, reproducible by seed, changed by seed and by prompt', async () => {
    const { page } = session;
    await setSettings(page, { ...SMALL, backend: 'wasm', width: 256, height: 256, steps: 10 });
    expect(await generate(page)).toBe('done');
    const first = await canvasPixels(page);
    expect([first.width, first.height]).toEqual([256, 256]);
    expect(rgbStd(first.pixels)).toBeGreaterThan(10);
    await page.screenshot({ path: `${SCREENSHOTS}/txt2img-wasm.png` });

    expect(await generate(page)).toBe('done');
    expect((await canvasPixels(page)).pixels.equals(first.pixels)).toBe(true);

    await setSettings(page, { seed: '43' });
    expect(await generate(page)).toBe('done');
    expect(pixelDiff((await canvasPixels(page)).pixels, first.pixels).mean).toBeGreaterThan(1);

    await setSettings(page, { seed: '42', prompt: 'a red fox in the snow' });
    expect(await generate(page)).toBe('done');
    expect(pixelDiff((await canvasPixels(page)).pixels, first.pixels).mean).toBeGreaterThan(1);
    images.set('wasm-256', first.pixels);
  });

  it('makes the same image as onnxruntime-node for the same inputs (one pipeline, two runtimes)', async () => {
    const { page } = session;
    // The browser's picture for these settings: the one the test before made, or made here.
    if (!images.has('wasm-256')) {
      await setSettings(page, { ...SMALL, backend: 'wasm', width: 256, height: 256, steps: 10 });
      expect(await generate(page)).toBe('done');
      images.set('wasm-256', (await canvasPixels(page)).pixels);
    }
    const { models, schedulerConfig } = await loadTinyModels();
    const node = await txt2img(
      models,
      {
        ...SMALL,
        negativePrompt: '',
        guidanceScale: 7.5,
        steps: 10,
        seed: 42n,
        width: 256,
        height: 256,
        scheduler: 'pndm',
      },
      { schedulerConfig },
    );
    const diff = pixelDiff(Buffer.from(node.image.pixels), images.get('wasm-256')!);
    console.info('browser WASM vs onnxruntime-node, 256×256:', diff);
    expect(diff.max).toBeLessThanOrEqual(2);
  });

  it('generates on WebGPU and agrees with WASM within 2/255', async () => {
    const { page } = session;
    await setSettings(page, { ...SMALL, backend: 'wasm', width: 128, height: 128, steps: 4 });
    expect(await generate(page)).toBe('done');
    const wasm = await canvasPixels(page);
    await setSettings(page, { backend: 'webgpu' });
    expect(await generate(page)).toBe('done');
    expect(await page.getByTestId('status').textContent()).toContain('WebGPU');
    const gpu = await canvasPixels(page);
    expect(rgbStd(gpu.pixels)).toBeGreaterThan(10);
    expect(await generate(page)).toBe('done');
    expect((await canvasPixels(page)).pixels.equals(gpu.pixels)).toBe(true);
    const diff = pixelDiff(gpu.pixels, wasm.pixels);
    console.info('WebGPU vs WASM, 128×128:', diff);
    expect(diff.mean).toBeLessThanOrEqual(2);
    await page.screenshot({ path: `${SCREENSHOTS}/txt2img-webgpu.png` });
  });

  it('runs the models in the worker, not the page', async () => {
    const { page } = session;
    await setSettings(page, { ...SMALL, backend: 'wasm', width: 64, height: 64, steps: 2 });
    expect(await generate(page)).toBe('done');
    const pageFiles = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    expect(pageFiles.some((n) => /\.onnx$|\.wasm$/.test(n))).toBe(false);
    const [worker] = page.workers();
    expect(worker).toBeDefined();
    const workerFiles = await worker!.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    expect(workerFiles.some((n) => n.endsWith('unet/model.onnx'))).toBe(true);
    expect(workerFiles.some((n) => n.endsWith('.wasm'))).toBe(true);
    // And nothing went anywhere but this origin.
    expect([...pageFiles, ...workerFiles].every((n) => n.startsWith('http://127.0.0.1:'))).toBe(true);
  });

  it('keeps the page responsive while generating, and Cancel stops within one step', async () => {
    const { page } = session;
    await setSettings(page, { ...SMALL, backend: 'webgpu', width: 512, height: 512, steps: 40 });
    await page.evaluate(() => {
      const w = window as unknown as { __gaps: number[] };
      w.__gaps = [];
      let last = performance.now();
      const tick = () => {
        const now = performance.now();
        w.__gaps.push(now - last);
        last = now;
        if (w.__gaps.length < 100000) setTimeout(tick, 10);
      };
      setTimeout(tick, 10);
    });
    await page.getByTestId('generate').click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=progress]')?.getAttribute('data-step')) >= 2,
      null,
      {
        timeout: 120_000,
      },
    );
    // Typing while the worker works: the page answers.
    await page.getByTestId('negative-prompt').fill('typed during generation');
    expect(await page.getByTestId('negative-prompt').inputValue()).toBe('typed during generation');
    const stepAtCancel = Number(await page.getByTestId('progress').getAttribute('data-step'));
    await page.getByTestId('cancel').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.getAttribute('data-state') === 'cancelled',
      null,
      {
        timeout: 60_000,
      },
    );
    const stepAtStop = Number(await page.getByTestId('progress').getAttribute('data-step'));
    expect(stepAtStop - stepAtCancel).toBeLessThanOrEqual(1);
    const gaps = await page.evaluate(() => (window as unknown as { __gaps: number[] }).__gaps.slice(5));
    console.info(`page timer: ${gaps.length} ticks, longest gap ${Math.max(...gaps).toFixed(0)} ms`);
    expect(Math.max(...gaps)).toBeLessThan(250);
    await page.screenshot({ path: `${SCREENSHOTS}/txt2img-cancelled.png` });

    // The next Generate works.
    await setSettings(page, { backend: 'wasm', width: 256, height: 256, steps: 6, negativePrompt: '' });
    expect(await generate(page)).toBe('done');
    expect(rgbStd((await canvasPixels(page)).pixels)).toBeGreaterThan(10);
  });

  it('shows a clear message for a size that is not a multiple of 8, and keeps working', async () => {
    const { page } = session;
    await setSettings(page, { width: 250 });
    expect(await generate(page)).toBe('error');
    await expect.poll(() => page.getByTestId('error').textContent()).toContain('multiple of 8');
    expect(await page.getByTestId('error').textContent()).toContain('248');
    await page.screenshot({ path: `${SCREENSHOTS}/txt2img-bad-size.png` });
    await setSettings(page, { width: 256 });
    expect(await generate(page)).toBe('done');
    expect(await page.getByTestId('error').count()).toBe(0);
  });

  it('generates with Ctrl+Enter', async () => {
    const { page } = session;
    await setSettings(page, { seed: '7' });
    await page.getByTestId('prompt').focus();
    expect(await generate(page, 60_000, () => page.keyboard.press('Control+Enter'))).toBe('done');
    expect(await page.getByTestId('status').textContent()).toContain('seed 7');
  });
});
