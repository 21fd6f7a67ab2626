/**
 * ControlNet in the browser on WASM: the `sd1` reference checkpoint by folder URL and the tiny
 * reference ControlNet by folder URL (and as an A1111 file), every diffusers run set up through
 * the panel as a person would, within 2/255 of diffusers' image; a ControlNet for another family
 * refused with what it is while the app goes on; two ControlNets summed; the PNG's fields.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../scripts/node-gpu/png';
import { readPngText } from '../../src/core/formats/png-text';
import { CONTROL_RUNS, CONTROLNET_SD1, controlGolden } from '../helpers/controlnet-goldens';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { maxAbsDiff, meanAbsDiff, rgbToRgba, type PipelineGolden } from '../helpers/pipeline-goldens';
import { canvasData, canvasPixels, generate, setSettings, stroke } from './helpers/app';
import { SCREENSHOTS, type Session } from './helpers/browser';
import { enterGolden, openOnMockHub } from './helpers/golden-input';
import { hubFolderUrl, useMockHub } from './helpers/hub';

const FILES = join(process.cwd(), 'test-results', 'files');

/** The tiny ControlNet with SD 2.x's text width in its config: a ControlNet for another family. */
function sd2Like(): string {
  const dir = join(FILES, 'controlnet-sd2-like');
  cpSync(CONTROLNET_SD1, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, cross_attention_dim: 1024 }));
  return dir;
}

function writePng(name: string, width: number, height: number, rgb: Uint8Array): string {
  const path = join(FILES, name);
  writeFileSync(path, encodePng(width, height, rgbToRgba(rgb)));
  return path;
}

/** A ControlNet run as the golden-input helper takes a pipeline run. */
function asPipelineGolden(run: string): { g: PipelineGolden; control: ReturnType<typeof controlGolden> } {
  const c = controlGolden(run);
  const s = c.settings;
  return {
    control: c,
    g: {
      case: 'controlnet',
      run,
      settings: {
        prompt: s.prompt,
        negative_prompt: s.negative_prompt,
        num_inference_steps: s.num_inference_steps,
        guidance_scale: s.guidance_scale,
        seed: s.seed,
        scheduler: s.scheduler,
        mode: s.mode,
        ...(s.strength !== undefined ? { strength: s.strength } : {}),
      },
      image: c.image,
      width: c.width,
      height: c.height,
      ...(c.startRgb ? { startImage: c.startRgb } : {}),
    },
  };
}

/** A control of the index-th ControlNet unit. */
const unit = (page: Page, testId: string, index = 0) =>
  testId === 'controlnet-unit'
    ? page.getByTestId(testId).nth(index)
    : page.getByTestId('controlnet-unit').nth(index).getByTestId(testId);

async function loadControlNet(page: Page, url: string, index = 0): Promise<void> {
  await unit(page, 'controlnet-input', index).fill(url);
  await unit(page, 'controlnet-load', index).click();
  await expect
    .poll(() => unit(page, 'controlnet-unit', index).getAttribute('data-loaded'), { timeout: 120_000 })
    .toBe('true');
}

describe('ControlNet on WASM', () => {
  useMockHub(() => {
    mkdirSync(FILES, { recursive: true });
    return {
      'fixtures/sd1': `${NETWORKS_DIR}sd1`,
      'fixtures/controlnet-sd1-canny': CONTROLNET_SD1,
      'fixtures/controlnet-sd2-like': sd2Like(),
    };
  });
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill(hubFolderUrl('fixtures/sd1'));
    await page.getByTestId('load-model').click();
    await page.getByTestId('controlnet-panel').locator('summary').click();
  });
  afterAll(async () => {
    await session?.close();
  });

  it.each(CONTROL_RUNS)("%s, set up through the panel: diffusers' image within 2/255", async (run) => {
    const { page } = session;
    const { g, control } = asPipelineGolden(run);
    const s = control.settings;
    await enterGolden(page, g);
    if ((await unit(page, 'controlnet-unit').getAttribute('data-loaded')) !== 'true') {
      await loadControlNet(page, hubFolderUrl('fixtures/controlnet-sd1-canny'));
    }
    // Canny's run starts from the source picture and the app's edges; the others from the control picture.
    const canny = s.preprocessor === 'canny';
    const picture = canny
      ? writePng(`${run}-source.png`, g.width, g.height, control.sourceRgb!)
      : writePng(`${run}-control.png`, control.control.width, control.control.height, control.controlRgb);
    await unit(page, 'control-preprocessor').selectOption(canny ? 'canny' : 'none');
    if (canny) {
      await unit(page, 'canny-low').fill(String(s.canny_low));
      await unit(page, 'canny-high').fill(String(s.canny_high));
    }
    await unit(page, 'control-image-input').setInputFiles(picture);
    await unit(page, 'control-scale').fill(String(s.controlnet_conditioning_scale));
    await unit(page, 'control-start').fill(String(s.control_guidance_start));
    await unit(page, 'control-end').fill(String(s.control_guidance_end));
    const guess = page.getByTestId('control-guess-mode');
    if ((await guess.isChecked()) !== s.guess_mode) await guess.click();
    // The preview shows what the ControlNet will see: for Canny, diffusers' own control picture.
    await expect.poll(() => unit(page, 'control-preview').getAttribute('data-shown'), { timeout: 30_000 }).toBe('true');
    if (canny) {
      const preview = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="control-preview"]')!;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        return { width: canvas.width, height: canvas.height, pixels: Array.from(data) };
      });
      expect([preview.width, preview.height]).toEqual([g.width, g.height]);
      expect(meanAbsDiff(preview.pixels, control.controlRgb)).toBe(0);
    }
    expect(await generate(page)).toBe('done');
    const { width, height, pixels } = await canvasPixels(page);
    expect([width, height]).toEqual([g.width, g.height]);
    const mean = meanAbsDiff(pixels, g.image);
    console.log(`controlnet ${run}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, g.image)}/255`);
    expect(mean).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(SCREENSHOTS, `controlnet-${run}.png`), fullPage: true });
    if (guess && s.guess_mode) await guess.click();
  });

  it('records the ControlNet in the PNG as A1111 does', async () => {
    const { page } = session;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const text = readPngText(new Uint8Array(readFileSync(await download.path()))).get('parameters') ?? '';
    expect(text).toMatch(
      /ControlNet 0: "Module: none, Model: [^"]*controlnet-sd1-canny[^"]*, Weight: 0.8, Guidance Start: 0, Guidance End: 1, Control Mode: Balanced"/,
    );
  });

  it('two ControlNets at 0.5 each give the picture of one at 1.0 (their residuals are summed)', async () => {
    const { page } = session;
    const { g, control } = asPipelineGolden('controlnet-canny');
    await enterGolden(page, g);
    const picture = writePng('two-control.png', g.width, g.height, control.controlRgb);
    await page.getByTestId('controlnet-add').click();
    await loadControlNet(page, hubFolderUrl('fixtures/controlnet-sd1-canny'), 1);
    for (const i of [0, 1]) {
      await unit(page, 'control-preprocessor', i).selectOption('none');
      await unit(page, 'control-image-input', i).setInputFiles(picture);
      await unit(page, 'control-scale', i).fill('0.5');
      await unit(page, 'control-start', i).fill('0');
      await unit(page, 'control-end', i).fill('1');
    }
    expect(await generate(page)).toBe('done');
    const mean = meanAbsDiff((await canvasPixels(page)).pixels, g.image);
    console.log(`controlnet two at 0.5: mean ${mean.toFixed(4)}/255`);
    expect(mean).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'controlnet-two-units.png'), fullPage: true });
    await unit(page, 'controlnet-remove', 1).click();
    await expect.poll(() => page.getByTestId('controlnet-unit').count()).toBe(1);
    await unit(page, 'control-scale').fill('1');
  });

  it('a ControlNet for another family is refused with what it is, and the app goes on', async () => {
    const { page } = session;
    await page.getByTestId('controlnet-add').click();
    await unit(page, 'controlnet-input', 1).fill(hubFolderUrl('fixtures/controlnet-sd2-like'));
    await unit(page, 'controlnet-load', 1).click();
    await expect
      .poll(() => unit(page, 'controlnet-error', 1).textContent(), { timeout: 60_000 })
      .toMatch(/controlnet-sd2-like is a ControlNet for SD 2\.x, which does not fit the loaded model/);
    await page.screenshot({ path: join(SCREENSHOTS, 'controlnet-other-family.png'), fullPage: true });
    // The refused unit takes no part; the loaded one still guides the next run.
    const { g } = asPipelineGolden('controlnet-canny');
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, g.image)).toBeLessThanOrEqual(2);
    await unit(page, 'controlnet-remove', 1).click();
  });

  it('a scribble drawn on the page is the control picture: white strokes on black, undone by Undo', async () => {
    const { page } = session;
    await unit(page, 'control-preprocessor').selectOption('scribble');
    // Nothing drawn yet: no control picture to show.
    await expect.poll(() => unit(page, 'control-preview').getAttribute('data-shown')).toBe('false');
    await stroke(page, 'control-scribble', [0.2, 0.5], [0.8, 0.5]);
    // The preview is the stroke itself: white across the middle, black in the corners.
    const at = async (fx: number, fy: number) => {
      const { width, height, pixels } = await canvasData(page, 'control-preview');
      return pixels[4 * (Math.floor(fy * height) * width + Math.floor(fx * width))];
    };
    await expect.poll(() => unit(page, 'control-preview').getAttribute('data-shown'), { timeout: 30_000 }).toBe('true');
    await expect.poll(() => at(0.5, 0.5), { timeout: 30_000 }).toBe(255);
    expect(await at(0.02, 0.05)).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'controlnet-scribble.png'), fullPage: true });
    expect(await generate(page)).toBe('done');
    await unit(page, 'scribble-undo').click();
    // Nothing drawn: no control picture, and a run says which unit lacks one.
    await expect.poll(() => unit(page, 'control-preview').getAttribute('data-shown')).toBe('false');
    expect(await generate(page)).toBe('error');
    await expect
      .poll(() => page.getByText(/ControlNet 1 \([^)]*\) has an empty scribble: draw on its pad/).count())
      .toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'controlnet-empty-scribble.png'), fullPage: true });
    await unit(page, 'control-preprocessor').selectOption('none');
  });

  it("an A1111 single-file ControlNet (control_model.*) gives diffusers' image too", async () => {
    const { page } = session;
    const { g } = asPipelineGolden('controlnet-canny');
    await unit(page, 'controlnet-file').setInputFiles(
      `${CONTROLNET_SD1}single-file/control_sd1_canny_tiny.safetensors`,
    );
    await expect
      .poll(() => unit(page, 'controlnet-status').textContent(), { timeout: 60_000 })
      .toMatch(/control_sd1_canny_tiny: a ControlNet for models with text width 16, ready on WASM/);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, g.image)).toBeLessThanOrEqual(2);
  });

  it('on a phone the open panel fits the screen: no sideways scrolling', async () => {
    const { page } = session;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('controlnet-add').click();
    await unit(page, 'control-preprocessor', 1).selectOption('scribble');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await unit(page, 'controlnet-unit', 1).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'controlnet-phone.png') });
    await unit(page, 'controlnet-remove', 1).click();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  // WebGPU here is SwiftShader (seconds per step): one run, the UNet and ControlNet built for WebGPU.
  it("on WebGPU too: controlnet-guess-mode within 2/255 of diffusers' image", async () => {
    const { page } = session;
    const { g, control } = asPipelineGolden('controlnet-guess-mode');
    await setSettings(page, { backend: 'webgpu' });
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${hubFolderUrl('fixtures/sd1')}`);
    await enterGolden(page, g);
    // A new backend loads the model again; its ControlNet is loaded again beside it, on WebGPU, when
    // the run asks (the unit says where).
    expect(await unit(page, 'controlnet-status').textContent()).toMatch(/ready on WASM/);
    await unit(page, 'control-preprocessor').selectOption('none');
    await unit(page, 'control-image-input').setInputFiles(
      writePng('webgpu-control.png', g.width, g.height, control.controlRgb),
    );
    await unit(page, 'control-scale').fill('1');
    const guess = page.getByTestId('control-guess-mode');
    if (!(await guess.isChecked())) await guess.click();
    expect(await generate(page, 300_000)).toBe('done');
    const mean = meanAbsDiff((await canvasPixels(page)).pixels, g.image);
    console.log(`controlnet guess mode on WebGPU: mean ${mean.toFixed(4)}/255`);
    expect(await unit(page, 'controlnet-status').textContent()).toMatch(/ready on WebGPU/);
    expect(mean).toBeLessThanOrEqual(2);
    await guess.click();
    await setSettings(page, { backend: 'wasm' });
  }, 360_000);
});
