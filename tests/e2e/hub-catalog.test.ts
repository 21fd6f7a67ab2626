/**
 * The catalog's hub checkpoints (SD 1.5, SD 1.5 inpainting, SD 2 depth, …) chosen in the model
 * selector, as a person would, with the mock hub serving the reference checkpoints under those
 * repo ids: the entry's licence is shown before anything downloads, its files come from the
 * hub's listing, and SD 2 depth estimates its depth with the transformers.js model it names.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { MODELS_DIR } from '../helpers/node-models';
import { useMockHub } from './helpers/hub';
import { meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { canvasPixels, generate, setSettings } from './helpers/app';
import { SCREENSHOTS, type Session } from './helpers/browser';
import { enterGolden, openOnMockHub } from './helpers/golden-input';

describe('catalog checkpoints on the hub, chosen in the selector', () => {
  const hub = useMockHub(() => ({
    'stable-diffusion-v1-5/stable-diffusion-v1-5': `${NETWORKS_DIR}sd1`,
    'stable-diffusion-v1-5/stable-diffusion-inpainting': `${NETWORKS_DIR}sd1-inpaint`,
    'stabilityai/stable-diffusion-2-depth': `${NETWORKS_DIR}sd2-depth`,
    'Xenova/dpt-hybrid-midas': `${MODELS_DIR}tiny-depth-anything`,
  }));
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('SD 1.5: its licence shown before download; loaded from the listing; diffusers’ image', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('model').selectOption('sd15');
    await expect
      .poll(() => page.getByTestId('model-description').textContent())
      .toMatch(/Licence: CreativeML Open RAIL-M/);
    expect(hub.requests.some((p) => p.includes('stable-diffusion-v1-5/stable-diffusion-v1-5'))).toBe(false);
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    await enterGolden(page, golden);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
    expect(hub.requests).toContain('/api/models/stable-diffusion-v1-5/stable-diffusion-v1-5/revision/main');
    const weights = hub.requests.filter((p) => p.endsWith('.safetensors'));
    expect(weights.length).toBe(3);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, 'catalog-sd15.png') });
  });

  it('Inpaint mode from SD 1.5 switches to SD 1.5 inpainting, which makes diffusers’ image', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('model').selectOption('sd15');
    const golden = pipelineGoldens('sd1-inpaint')[0]!;
    await page.getByTestId('mode-inpaint').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('sd15-inpaint');
    await enterGolden(page, golden);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
  });

  it('Depth mode from SD 1.5 switches to SD 2 depth, which estimates a depth map with its hub estimator and draws', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('mode-txt2img').click();
    await page.getByTestId('model').selectOption('sd15');
    await page.getByTestId('mode-depth2img').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('sd2-depth');
    const golden = pipelineGoldens('sd2-depth')[0]!;
    await enterGolden(page, golden);
    // diffusers' image with the depth map it was given…
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
    // …and the estimator the entry names, fetched from the hub by transformers.js.
    await page.getByTestId('depth-clear').click();
    await page.getByTestId('estimate-depth').click();
    await expect
      .poll(() => page.getByTestId('depth-map').getAttribute('data-source'), { timeout: 60_000 })
      .toBe('estimated');
    expect(hub.requests.some((p) => p.includes('Xenova/dpt-hybrid-midas') && p.endsWith('model.onnx'))).toBe(true);
    expect(await generate(page)).toBe('done');
    await page.screenshot({ path: join(SCREENSHOTS, 'catalog-sd2-depth.png') });
  });
});
