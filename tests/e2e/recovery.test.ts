/**
 * Faults and recovery: bad settings, a crashed or silent worker, a lost GPU device, models that fail
 * to load (missing, HTML, fp16 without shader-f16). Each is said in words, and the next run works
 * with no reload.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepGraph } from '../../src/core/pipeline/step-graph';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { MODELS_DIR } from '../helpers/node-models';
import { generate, setSettings, SMALL_WASM, waitForOutcome } from './helpers/app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './helpers/browser';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { recordSteps, statusOf, waitForStep } from './helpers/steps';

const SD1_URL = hubFolderUrl('fixtures/sd1');
const FILES = join(process.cwd(), 'test-results', 'files');

describe('faults and recovery', () => {
  // The sd1 checkpoint under a name that is never cached, for faults; the built-in tiny model with
  // an fp16 graph as its UNet.
  const hub = useMockHub(() => {
    mkdirSync(FILES, { recursive: true });
    const fp16 = join(FILES, 'tiny-fp16');
    cpSync(`${MODELS_DIR}tiny-sd`, fp16, { recursive: true });
    writeFileSync(join(fp16, 'unet/model.onnx'), stepGraph('float16'));
    return {
      'fixtures/sd1-faulty': `${NETWORKS_DIR}sd1`,
      'fixtures/sd1-slow-index': `${NETWORKS_DIR}sd1`,
      'fixtures/tiny-fp16': fp16,
    };
  });
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp({ url: `${BASE_URL}?testHooks=1` });
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await recordSteps(session);
    await session.page.reload();
    await session.page.getByTestId('models-panel').locator('summary').click();
    await setSettings(session.page, SMALL_WASM);
  });
  afterAll(async () => session?.close());

  it('shows each bad input with its message, and the next good generation works', async () => {
    const { page } = session;
    const cases: [Parameters<typeof setSettings>[1], RegExp][] = [
      [{ width: 250 }, /Width must be a multiple of 8 .* nearest is 248/],
      [{ steps: 0 }, /Steps must be a whole number from 1 to 1000/],
      [{ steps: 5000 }, /Steps must be a whole number from 1 to 1000/],
      [{ seed: 'abc' }, /Seed must be a whole number from 0 to 18446744073709551615/],
      [{ seed: '18446744073709551616' }, /2\^64 − 1/],
      [{ guidance: -3 }, /Guidance scale must be between 0 and 100/],
      [{ height: 4096 }, /Height must be between 64 and 2048 pixels, got 4096/],
    ];
    for (const [bad, message] of cases) {
      await setSettings(page, bad);
      expect(await generate(page)).toBe('error');
      expect(await page.getByTestId('error').textContent()).toMatch(message);
      await setSettings(page, { width: 64, height: 64, steps: 3, seed: '1', guidance: 7.5 });
    }
    await page.getByTestId('guidance-scale').fill('');
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(/Guidance scale must be a number/);
    await setSettings(page, { guidance: 7.5 });
    // Empty prompt: allowed, as in diffusers.
    await setSettings(page, { prompt: '' });
    expect(await generate(page)).toBe('done');
    // Over 77 tokens: A1111's syntax encodes it in chunks, which this export's UNet (fixed at 77
    // tokens of text) cannot take: refused, saying what to do; read plainly, what CLIP cut is shown.
    await setSettings(page, { prompt: `a ${'very '.repeat(100)}long prompt about a flooble` });
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('generate-error').textContent()).toMatch(
      /exported for 77 tokens of text.*set prompt syntax to plain/,
    );
    await page.getByTestId('prompt-syntax').selectOption('plain');
    expect(await generate(page)).toBe('done');
    expect(await page.locator('.result-meta').textContent()).toMatch(/Cut past CLIP's 77 tokens: “.*flooble”/);
    await page.getByTestId('prompt-syntax').selectOption('a1111');
    await setSettings(page, { prompt: 'a flooble' });
    expect(await generate(page)).toBe('done');
  });

  it('says why beside Generate, in view, and takes the message away once the cause is fixed', async () => {
    const { page } = session;
    await page.setViewportSize({ width: 1400, height: 1000 });
    // No start image in this profile: img2img refuses, and the reason is where the eye is.
    await page.getByTestId('mode-img2img').click();
    expect(await generate(page)).toBe('error');
    const message = page.getByTestId('generate-error');
    expect(await message.textContent()).toMatch(/This mode starts from an image: choose a file/);
    const box = (await message.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(1000);
    await page.screenshot({ path: `${SCREENSHOTS}/error-beside-generate.png` });
    // It does not follow into another mode.
    await page.getByTestId('mode-txt2img').click();
    expect(await message.count()).toBe(0);

    // A wrong width: the message stays while the width is still wrong, and goes once it is right.
    await setSettings(page, { width: 250 });
    expect(await generate(page)).toBe('error');
    expect(await message.textContent()).toMatch(/Width must be a multiple of 8/);
    await setSettings(page, { width: 252 });
    expect(await message.count()).toBe(1);
    await setSettings(page, { width: 256 });
    expect(await message.count()).toBe(0);
    expect(await page.getByTestId('error').count()).toBe(0);
    expect(await page.getByTestId('width').getAttribute('aria-invalid')).toBeNull();
    // The swap button trades width and height.
    await setSettings(page, { width: 128, height: 64 });
    await page.getByTestId('swap-size').click();
    expect([await page.getByTestId('width').inputValue(), await page.getByTestId('height').inputValue()]).toEqual([
      '64',
      '128',
    ]);
    await page.locator('.controls').screenshot({ path: `${SCREENSHOTS}/size-swap.png` });
    await setSettings(page, { width: 64, height: 64 });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('a killed worker is noticed, restarted, and the next generation works', async () => {
    const { page } = session;
    await page.evaluate(() =>
      (window as unknown as { latentStudioTestHook(a: string): Promise<unknown> }).latentStudioTestHook('crash'),
    );
    await expect.poll(() => page.getByTestId('status').getAttribute('data-state')).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(/The inference worker crashed.*restarted/);
    await page.screenshot({ path: `${SCREENSHOTS}/worker-crash.png` });
    expect(await generate(page)).toBe('done');
  });

  it('a lost GPU device is reported, then the device and sessions are recreated', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'webgpu' });
    expect(await generate(page, 300_000)).toBe('done');
    const lost = await page.evaluate(() =>
      (window as unknown as { latentStudioTestHook(a: string): Promise<{ done: boolean }> }).latentStudioTestHook(
        'lose-device',
      ),
    );
    expect(lost).toEqual({ done: true });
    expect(await generate(page, 300_000)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /The GPU device was lost \(.*\)\. The app restarts its GPU runtime/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/device-lost.png` });
    expect(await generate(page, 300_000)).toBe('done');
    expect(await page.getByTestId('status').textContent()).toMatch(/WebGPU/);
    await setSettings(page, { backend: 'wasm' });
  }, 900_000);

  it('after a failed custom load, the built-in model generates with no reload', async () => {
    const { page } = session;
    hub.setFault('unet/diffusion_pytorch_model.safetensors', '404');
    hub.setFault('unet/diffusion_pytorch_model.fp16.safetensors', '404');
    await page.getByTestId('custom-model-input').fill(SD1_URL.replace('/sd1/', '/sd1-faulty/'));
    await page.getByTestId('load-model').click();
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /The model has none of unet\/diffusion_pytorch_model\.safetensors/,
    );
    hub.clearFaults();
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
  });

  it('Load, then Generate at once: Generate waits for the model being added and runs it, not the one before', async () => {
    const { page } = session;
    await page.getByTestId('model').selectOption('tiny-sd');
    // The repo's index arrives slowly (16 bytes every 40 ms: about a second and a half).
    hub.setFault('model_index.json', { throttle: 16 });
    try {
      const url = SD1_URL.replace('/sd1/', '/sd1-slow-index/');
      await page.getByTestId('custom-model-input').fill(url);
      await page.getByTestId('load-model').click();
      // While the model is being added, Generate cannot be pressed (it ran the previous model before),
      // and both buttons say why.
      expect(await page.getByTestId('generate').isDisabled()).toBe(true);
      expect(await page.getByTestId('generate').textContent()).toMatch(/^Adding the model…/);
      expect(await page.getByTestId('load-model').textContent()).toBe('Adding…');
      await page.getByTestId('load-model').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SCREENSHOTS}/adding-model.png`, fullPage: true });
      const before = hub.requests.length;
      expect(await generate(page)).toBe('done');
      expect(await page.getByTestId('model').inputValue()).toBe(`url:${url}`);
      // The run loaded the new checkpoint's UNet: it ran the model that was being added.
      expect(hub.requests.slice(before).some((p) => p.includes('sd1-slow-index/unet/'))).toBe(true);
    } finally {
      hub.clearFaults();
    }
  });

  it('a worker that exits mid-run without an error is noticed; the run fails with a message and the next one works', async () => {
    const { page } = session;
    // 6 s of silence instead of the product's 120 s (at 3 s, the run after a restart failed once in a
    // clean-clone CI run: 2 cores shared with the browser and the test runner, the new worker not
    // answering while it started up). Only here: a WebGPU session on SwiftShader is silent longer.
    await page.goto(`${BASE_URL}?testHooks=1&workerTimeout=6000`);
    try {
      await page.getByTestId('model').selectOption('tiny-sd');
      await setSettings(page, { backend: 'wasm', width: 512, height: 512, steps: 900 });
      const run = Number(await page.getByTestId('status').getAttribute('data-run'));
      await page.getByTestId('generate').click();
      await waitForStep(session, 20, 60_000);
      const closed = await page.evaluate(() =>
        (window as unknown as { latentStudioTestHook(a: string): Promise<unknown> }).latentStudioTestHook('close'),
      );
      expect(closed).toEqual({ done: true });
      const started = Date.now();
      await waitForOutcome(page, run, 30_000);
      expect(await statusOf(session)).toBe('error');
      expect(await page.getByTestId('error').textContent()).toMatch(
        /The inference worker stopped answering \(nothing for 6 s\)\. It was restarted; try again\./,
      );
      console.info(`worker closed mid-run, noticed after ${Date.now() - started} ms`);
      await page.getByTestId('error').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SCREENSHOTS}/worker-closed.png` });
      await setSettings(page, { width: 64, height: 64, steps: 3 });
      expect(await generate(page)).toBe('done');
    } finally {
      await page.goto(`${BASE_URL}?testHooks=1`);
      await page.getByTestId('models-panel').locator('summary').click();
    }
  });

  it('an HTML page served as a weights file, and a non-safetensors file, are named for what they are', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 2 });
    hub.setFault('unet/diffusion_pytorch_model.safetensors', 'html');
    await page.getByTestId('custom-model-input').fill(SD1_URL.replace('/sd1/', '/sd1-faulty/'));
    await page.getByTestId('load-model').click();
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /The server sent an HTML page \(\d+ bytes, text\/html; charset=utf-8\) instead of unet\/diffusion_pytorch_model\.safetensors: it begins "<!DOCTYPE html><html><head><title>Sign in/,
    );
    await page.getByTestId('error').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/html-as-weights.png` });
    hub.clearFaults();
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
  });

  it('an fp16 graph on a GPU without shader-f16 says what the GPU lacks, and keeps the cached files', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'webgpu', width: 64, height: 64, steps: 2 });
    const url = SD1_URL.replace('/sd1/', '/tiny-fp16/');
    await page.getByTestId('custom-model-input').fill(url);
    await page.getByTestId('load-model').click();
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /unet\/model\.onnx computes in fp16 \(it has float16 inputs or weights\), which needs WebGPU's shader-f16 feature; this GPU \(.*\) does not offer it\. The downloaded files stay cached/,
    );
    const cached = await page.evaluate(
      async (u) => (await (await caches.open('latent-studio-models-v1')).match(u)) !== undefined,
      `${url}unet/model.onnx`,
    );
    expect(cached).toBe(true);
    await page.getByTestId('model').selectOption('tiny-sd');
    await setSettings(page, { backend: 'wasm' });
    expect(await generate(page)).toBe('done');
  });
});
