/**
 * The safety checker in the browser (WASM), as diffusers runs it: the `sd1-safety` reference
 * checkpoint loaded by folder URL checks every picture; `clean` is diffusers' image, `flagged` is not
 * drawn, kept or downloadable and says why; with the checker turned off for the model, `flagged` is
 * the picture diffusers made before its checker blacked it out; a site that requires the checker
 * shows it locked on. Also: a folder URL that redirects elsewhere sends no request there.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldensIn, meanAbsDiff } from '../helpers/pipeline-goldens';
import { readTensorFile } from '../helpers/fixtures';
import { canvasPixels, generate, setSettings } from './helpers/app';
import { BASE_URL, openApp, SCREENSHOTS, type Session } from './helpers/browser';
import { enterGolden, openOnMockHub } from './helpers/golden-input';
import { hubFolderUrl, useMockHub } from './helpers/hub';

const DIR = join(process.cwd(), 'tests/fixtures/safety/sd1-safety/');
const goldens = goldensIn(`${DIR}pipelines/`, 'sd1-safety');
const clean = goldens.find((g) => g.run === 'clean')!;
const flagged = goldens.find((g) => g.run === 'flagged')!;
const unchecked = readTensorFile(`${DIR}pipelines/flagged.safetensors`).u8('unchecked_image');

describe('the safety checker, as diffusers runs it', () => {
  useMockHub(() => ({ 'fixtures/sd1-safety': DIR }));
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => session?.close());

  const galleryCount = async () => Number(await session.page.getByTestId('gallery').getAttribute('data-count'));

  it("by folder URL; clean: checked, and diffusers' picture within 2/255", async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill(hubFolderUrl('fixtures/sd1-safety'));
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toMatch(/^url:.*sd1-safety/);
    expect(await page.getByTestId('safety-checker').isChecked()).toBe(true);
    await enterGolden(page, clean);
    expect(await generate(page)).toBe('done');
    const { pixels } = await canvasPixels(page);
    expect(meanAbsDiff(pixels, clean.image)).toBeLessThanOrEqual(2);
    expect(await page.getByTestId('safety-flagged').count()).toBe(0);
    expect(await page.getByTestId('safety-checked').textContent()).toBe('Checked by the safety checker');
    expect(await page.getByTestId('download').isDisabled()).toBe(false);
  });

  it('flagged: the message, no picture, nothing in the history, download disabled', async () => {
    const { page } = session;
    const before = await galleryCount();
    await enterGolden(page, flagged);
    expect(await generate(page)).toBe('done');
    expect(await page.getByTestId('safety-flagged').textContent()).toMatch(
      /This model's safety checker flagged the picture \(concept \d+.* of its 17.*\), so it is not shown, kept in the history or downloadable\. The checker can be turned off for this model in the settings/,
    );
    expect(await page.getByTestId('result-canvas').isVisible()).toBe(false);
    expect(await page.getByTestId('download').isDisabled()).toBe(true);
    expect(await galleryCount()).toBe(before);
    await page.screenshot({ path: `${SCREENSHOTS}/safety-flagged.png` });
  });

  it("with the checker off for this model (remembered), flagged is the picture diffusers' checker blacked out", async () => {
    const { page } = session;
    await page.getByTestId('safety-checker').uncheck();
    await page.reload();
    await expect.poll(() => page.getByTestId('safety-checker').isChecked()).toBe(false);
    await enterGolden(page, flagged);
    expect(await generate(page)).toBe('done');
    const { pixels } = await canvasPixels(page);
    expect(meanAbsDiff(pixels, unchecked)).toBeLessThanOrEqual(2);
    expect(await page.getByTestId('safety-flagged').count()).toBe(0);
    expect(await page.getByTestId('safety-checked').count()).toBe(0);
    await page.getByTestId('safety-checker').check();
  });
});

describe('a site that requires the safety checker', () => {
  // SD 1.5's checker repo as the hub has it (config.json, model.safetensors, preprocessor_config.json),
  // here holding the reference checkpoint's tiny checker.
  const hub = useMockHub(() => {
    const dir = join(process.cwd(), 'test-results', 'files', 'site-safety-checker');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(`${DIR}safety_checker/config.json`, join(dir, 'config.json'));
    cpSync(`${DIR}safety_checker/model.safetensors`, join(dir, 'model.safetensors'));
    cpSync(`${DIR}feature_extractor/preprocessor_config.json`, join(dir, 'preprocessor_config.json'));
    return { 'CompVis/stable-diffusion-safety-checker': dir };
  });

  it("shows it on and locked, and checks a model without its own with SD 1.5's checker", async () => {
    const session = await openOnMockHub();
    try {
      const { page } = session;
      // The site's build setting is a meta tag in its page: the same page with it set.
      await page.route(`${BASE_URL}**`, async (route) => {
        if (route.request().resourceType() !== 'document') return route.fallback();
        const response = await route.fetch();
        const html = (await response.text()).replace(
          /(<meta name="latent-studio:require-safety-checker" content=")false/,
          '$1true',
        );
        await route.fulfill({ response, body: html });
      });
      await page.reload();
      const toggle = page.getByTestId('safety-checker');
      expect(await toggle.isChecked()).toBe(true);
      expect(await toggle.isDisabled()).toBe(true);
      // The built-in tiny model has no checker: the site's comes from the hub beside it.
      await page.getByTestId('model').selectOption('tiny-sd');
      await setSettings(page, { backend: 'wasm', width: 64, height: 64, steps: 2, prompt: 'a flooble' });
      expect(await generate(page)).toBe('done');
      expect(
        await page.getByTestId('safety-checked').or(page.getByTestId('safety-flagged')).first().textContent(),
      ).toMatch(/site's safety checker|which this site requires/);
      const fetched = hub.requests.filter((p) => p.includes('CompVis/stable-diffusion-safety-checker'));
      expect(
        fetched.some((p) => p.endsWith('/model.safetensors')),
        fetched.join(', '),
      ).toBe(true);
      await page.locator('.controls').screenshot({ path: `${SCREENSHOTS}/safety-required.png` });
    } finally {
      await session.close();
    }
  });
});

describe('a folder URL that redirects', () => {
  let target: Server;
  let redirector: Server;
  const arrived: string[] = [];
  beforeAll(async () => {
    target = createServer((req, res) => {
      arrived.push(req.url ?? '');
      res.end('{}');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const to = (target.address() as AddressInfo).port;
    redirector = createServer((req, res) => {
      res.writeHead(302, { Location: `http://127.0.0.1:${to}${req.url ?? '/'}`, 'Access-Control-Allow-Origin': '*' });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => target.close(resolve));
    await new Promise((resolve) => redirector.close(resolve));
  });

  it('is refused by name, and no request reaches where it points', async () => {
    const session = await openApp();
    try {
      const { page } = session;
      await page.getByTestId('models-panel').locator('summary').click();
      const port = (redirector.address() as AddressInfo).port;
      await page.getByTestId('custom-model-input').fill(`http://127.0.0.1:${port}/some-model/`);
      await page.getByTestId('load-model').click();
      await expect
        .poll(() => page.getByTestId('custom-model-error').textContent())
        .toMatch(/some-model\/model_index\.json answered with a redirect, which this app does not follow/);
      expect(arrived).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
