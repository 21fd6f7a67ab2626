import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../helpers/node-models';
import { HUB_URL, useMockHub } from './helpers/hub';
import { generate, setSettings, stroke } from './helpers/app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './helpers/browser';

const REPO = 'latent-studio/tiny-sd';
const MODEL_ID = `hub:${REPO}@main`;

describe('models from a hub (a local mock of huggingface.co)', () => {
  const hub = useMockHub(() => ({ [REPO]: `${MODELS_DIR}tiny-sd` }));
  let session: Session;
  const HUB = HUB_URL;
  // Files come from the commit the hub's listing names (the mock's: the sha1 of the repo name).
  const unetUrl = () => `${HUB}/${REPO}/resolve/${createHash('sha1').update(REPO).digest('hex')}/unet/model.onnx`;

  /** Whether Cache Storage holds a file, and the cache manager's model count. */
  const cached = (url: string) =>
    session.page.evaluate(
      async (u) => (await (await caches.open('latent-studio-models-v1')).match(u)) !== undefined,
      url,
    );
  const cacheCount = async () => Number(await session.page.getByTestId('model-cache').getAttribute('data-count'));
  const errorText = () => session.page.getByTestId('error').textContent();
  /** The "Models and storage" panel open (a reload closes it). */
  const openModelsPanel = async () => {
    const panel = session.page.getByTestId('models-panel');
    if (!(await panel.evaluate((el) => (el as HTMLDetailsElement).open))) await panel.locator('summary').click();
  };
  /** This file's hub model in the model list (added by repo id if it is not). */
  const ensureAdded = async () => {
    const { page } = session;
    await openModelsPanel();
    if ((await page.getByTestId('model').locator(`option[value="${MODEL_ID}"]`).count()) > 0) return;
    await page.getByTestId('custom-model-input').fill(REPO);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(MODEL_ID);
  };
  /** No model in the cache (the clear button shows only when there is one). */
  const clearCache = async () => {
    const clear = session.page.getByTestId('model-cache-clear');
    if ((await clear.count()) > 0) await clear.click();
    await expect.poll(cacheCount).toBe(0);
  };
  /** This file's hub model added, selected and in the cache, whatever the tests before left. */
  const ensureCached = async () => {
    const { page } = session;
    await openModelsPanel();
    if ((await cached(unetUrl())) && (await page.getByTestId('model').inputValue()) === MODEL_ID) return;
    await page.getByTestId('custom-model-input').fill(REPO);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(MODEL_ID);
    expect(await generate(page)).toBe('done');
    await expect.poll(() => cached(unetUrl())).toBe(true);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openApp({ url: `${BASE_URL}?hub=${encodeURIComponent(HUB)}&stall=1500` });
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await setSettings(session.page, { backend: 'wasm', width: 64, height: 64, steps: 2, prompt: 'a hub model' });
    await session.page.getByTestId('models-panel').locator('summary').click();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('picking a model applies its own defaults (SD-Turbo: 1 step, no guidance), with a notice', async () => {
    const { page } = session;
    expect(await page.getByTestId('model').locator('option[value="sd-turbo"]').textContent()).toMatch(
      /^SD-Turbo \(fp16, about 2.4 GB\) · 2.3 GiB · download$/,
    );
    await page.getByTestId('model').selectOption('sd-turbo');
    expect(await page.getByTestId('model-description').textContent()).toMatch(
      /Modes: Text → image, Compare, Explore\./,
    );
    expect(await page.getByTestId('steps').inputValue()).toBe('1');
    expect(await page.getByTestId('guidance-scale').inputValue()).toBe('0');
    expect(await page.getByTestId('notice').textContent()).toMatch(/its defaults are 1 step, guidance 0, 512×512/);
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await page.getByTestId('steps').inputValue()).toBe('20');
    await setSettings(page, { width: 64, height: 64, steps: 2 });
  });

  it('an unknown repo id gives a clear message', async () => {
    const { page } = session;
    await page.getByTestId('custom-model-input').fill('nobody/no-such-model');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('custom-model-error').textContent()).toMatch(/No model_index.json .*404/);
  });

  it('a custom repo id loads: the download progress advances and finishes, then the model is cached', async () => {
    const { page } = session;
    await page.getByTestId('custom-model-input').fill(REPO);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(MODEL_ID);
    expect(await page.getByTestId('model').locator('option:checked').textContent()).toMatch(
      /latent-studio\/tiny-sd · size unknown · download/,
    );
    // Slow the big file down so the progress can be watched.
    hub.setFault('text_encoder/model.onnx', { throttle: 256 * 1024 });
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      const el = document.querySelector('[data-testid=download-progress]')!;
      new MutationObserver(() => seen.push(Number(el.getAttribute('data-loaded')))).observe(el, { attributes: true });
    });
    expect(await generate(page)).toBe('done');
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    const positive = seen.filter((v) => v > 0);
    expect(positive.length).toBeGreaterThan(5);
    expect(positive.slice(1).every((v, i) => v >= positive[i]!)).toBe(true);
    // The .onnx files are about 3.2 MB, most of it the text encoder's token embedding.
    expect(Math.max(...positive)).toBeGreaterThan(3_000_000);
    hub.clearFaults();
    await expect.poll(cacheCount).toBe(1);
    expect(await cached(unetUrl())).toBe(true);
    expect(await page.getByTestId('model-cache-item').textContent()).toMatch(
      /latent-studio\/tiny-sd · 3 MiB · \d+ files/,
    );
    await page.screenshot({ path: `${SCREENSHOTS}/hub-model-cached.png`, fullPage: true });
  });

  it('a second visit loads from the cache with the hub stopped', async () => {
    const { page } = session;
    await ensureCached();
    await hub.stop();
    await page.reload();
    await setSettings(page, { backend: 'wasm' });
    expect(await page.getByTestId('model').inputValue()).toBe(MODEL_ID);
    expect(await generate(page)).toBe('done');
    await hub.start();
  });

  it('the cache manager deletes the model', async () => {
    const { page } = session;
    await ensureCached();
    await openModelsPanel();
    await expect.poll(cacheCount).toBe(1);
    await page.getByTestId('model-cache-delete').click();
    await expect.poll(cacheCount).toBe(0);
    expect(await cached(unetUrl())).toBe(false);
  });

  it('a truncated file gives a clear error and caches nothing; the retry works once the server is fixed', async () => {
    const { page } = session;
    await ensureAdded();
    await clearCache();
    // A fresh load is needed: switch away and back so the worker drops the loaded copy.
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
    await page.getByTestId('model').selectOption(MODEL_ID);
    hub.setFault('unet/model.onnx', 'truncate');
    expect(await generate(page)).toBe('error');
    expect(await errorText()).toMatch(/unet\/model\.onnx is incomplete: \d+ of \d+ bytes arrived\. Nothing was cached/);
    expect(await cached(unetUrl())).toBe(false);
    expect(await cacheCount()).toBe(0);
    await page.screenshot({ path: `${SCREENSHOTS}/hub-truncated.png` });
    hub.clearFaults();
    expect(await generate(page)).toBe('done');
    expect(await cached(unetUrl())).toBe(true);
  });

  it('a stalled connection and a wrong size are reported; a damaged cache entry is removed and downloaded again', async () => {
    const { page } = session;
    await ensureAdded();
    await clearCache();
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
    await page.getByTestId('model').selectOption(MODEL_ID);

    hub.setFault('vae_decoder/model.onnx', 'stall');
    expect(await generate(page)).toBe('error');
    expect(await errorText()).toMatch(/vae_decoder\/model\.onnx stalled: no data for 2 s/);
    hub.setFault('vae_decoder/model.onnx', 'wrong-size');
    expect(await generate(page)).toBe('error');
    // The hub's listing gave the size, so the lie is caught from the headers.
    expect(await errorText()).toMatch(/vae_decoder\/model\.onnx should be \d+ bytes but the server announces \d+/);
    hub.clearFaults();
    expect(await generate(page)).toBe('done');

    // Damage the cached UNet, as a disk error or an old broken download would.
    await page.evaluate(async (u) => {
      const cache = await caches.open('latent-studio-models-v1');
      await cache.put(u, new Response('this is not an onnx file'));
    }, unetUrl());
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
    await page.getByTestId('model').selectOption(MODEL_ID);
    expect(await generate(page)).toBe('error');
    expect(await errorText()).toMatch(
      /unet\/model\.onnx from this browser's cache could not be loaded .* removed: press Generate to download it again/,
    );
    expect(await cached(unetUrl())).toBe(false);
    expect(await generate(page)).toBe('done');
    expect(await cached(unetUrl())).toBe(true);
  });

  it('cancel during a download caches nothing', async () => {
    const { page } = session;
    await ensureAdded();
    await clearCache();
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
    await page.getByTestId('model').selectOption(MODEL_ID);
    hub.setFault('text_encoder/model.onnx', { throttle: 16 * 1024 });
    const run = Number(await page.getByTestId('status').getAttribute('data-run'));
    await page.getByTestId('generate').click();
    await expect
      .poll(async () => (await page.getByTestId('download-progress').getAttribute('data-file')) ?? '')
      .toBe('text_encoder/model.onnx');
    await expect
      .poll(async () => Number(await page.getByTestId('download-progress').getAttribute('data-loaded')))
      .toBeGreaterThan(0);
    await page.getByTestId('cancel').click();
    await page.waitForFunction((r) => {
      const s = document.querySelector('[data-testid=status]');
      return Number(s?.getAttribute('data-run')) > r && s?.getAttribute('data-state') === 'cancelled';
    }, run);
    hub.clearFaults();
    expect(await cached(unetUrl().replace('unet/', 'text_encoder/'))).toBe(false);
    expect(await cacheCount()).toBe(0);
    expect(await generate(page)).toBe('done');
  });

  it('a model folder picked from disk loads in place, with no download', async () => {
    const { page } = session;
    // A result to start the inpainting from, made with the built-in model.
    await page.getByTestId('model').selectOption('tiny-sd');
    expect(await generate(page)).toBe('done');
    const before = hub.requests.length;
    await page.getByTestId('local-model-input').setInputFiles(`${MODELS_DIR}tiny-sd-inpaint`);
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('local:tiny-sd-inpaint');
    // Its model_index.json names an inpainting pipeline: the app switches to inpaint when asked for it.
    expect(await page.getByTestId('model').locator('option:checked').textContent()).toMatch(
      /tiny-sd-inpaint \(local folder\)/,
    );
    expect(await page.getByTestId('model-description').textContent()).toMatch(/Modes: Inpaint\./);
    await page.getByTestId('mode-inpaint').click();
    await page.getByTestId('model').selectOption('local:tiny-sd-inpaint');
    await page.getByTestId('use-result').click();
    await expect.poll(() => page.getByTestId('init-image-info').textContent()).toMatch(/result/);
    await stroke(page, 'mask-canvas', [0.1, 0.5], [0.9, 0.5]);
    expect(await generate(page)).toBe('done');
    expect(hub.requests.length).toBe(before);
    await page.getByTestId('mode-txt2img').click();
  });
});
