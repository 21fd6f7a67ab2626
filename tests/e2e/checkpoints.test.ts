/**
 * Diffusers checkpoints (config.json + safetensors) added by folder URL, their networks built in
 * the browser: every reference pipeline run gives diffusers' image.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_CASES, NETWORKS_DIR, readTensorFile } from '../helpers/fixtures';
import { MOCK_HUB_PORT } from '../helpers/mock-hub';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { canvasPixels, generate, setSettings } from './helpers/app';
import { enterGolden, openOnMockHub } from './helpers/golden-input';
import { SCREENSHOTS, type Session } from './helpers/browser';
import type { BenchResult } from '../../src/protocol/dev-messages';

const FILES = join(process.cwd(), 'test-results', 'files');
/** Each reference checkpoint as a plain folder of files, through the app's origin. */
const folderUrl = (name: string) => hubFolderUrl(`fixtures/${name}`);

/** The sd1 checkpoint with a UNet config value the app does not build (Kandinsky's image addition embedding). */
function unsupportedUnet(): string {
  const dir = join(FILES, 'unsupported-unet');
  cpSync(`${NETWORKS_DIR}sd1`, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'unet/config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'unet/config.json'), JSON.stringify({ ...config, addition_embed_type: 'image' }));
  return dir;
}

describe('diffusers checkpoints by folder URL, networks built in the browser', () => {
  useMockHub(() => {
    mkdirSync(FILES, { recursive: true });
    return {
      ...Object.fromEntries(NETWORK_CASES.map((n) => [`fixtures/${n}`, `${NETWORKS_DIR}${n}`])),
      'fixtures/unsupported-unet': unsupportedUnet(),
    };
  });
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // The mock hub is also this page's hub, so checkpoints load by repo id too.
    // With the benchmark's hooks: the WebGPU sd1 run also reads how its loop ran.
    session = await openOnMockHub('&bench');
  });
  afterAll(async () => {
    await session?.close();
  });

  // WebGPU (SwiftShader here, about 2.4 s per sd1 UNet step at 8×12 latents) runs one case per UNet
  // kind: 4- and 5-channel and LCM. The 4-channel case is the unguided one (4 steps at batch 1: 10 s
  // of steps, where the guided 6 at batch 2 took 23 s); guidance's batch 2 runs on WebGPU in the
  // depth2img case. The 9-channel UNet on WebGPU is checked against WASM in trained-model.test.ts
  // (the Shapes inpainting UNet, built by the same code) and onnx-layouts.test.ts.
  const ON_WEBGPU = new Set(['txt2img-noguidance', 'depth2img', 'lcm']);
  for (const backend of ['wasm', 'webgpu'] as const) {
    for (const name of NETWORK_CASES) {
      for (const golden of pipelineGoldens(name).filter((g) => backend === 'wasm' || ON_WEBGPU.has(g.run))) {
        it(`${name} ${golden.run} on ${backend}: diffusers' image within 2/255`, async () => {
          const { page } = session;
          await setSettings(page, { backend });
          await page.getByTestId('custom-model-input').fill(folderUrl(name));
          await page.getByTestId('load-model').click();
          await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl(name)}`);
          await enterGolden(session.page, golden);
          expect(await generate(page)).toBe('done');
          const { width, height, pixels } = await canvasPixels(page);
          expect([width, height]).toEqual([golden.width, golden.height]);
          const mean = meanAbsDiff(pixels, golden.image);
          console.log(
            `${name} ${golden.run} ${backend}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`,
          );
          expect(mean).toBeLessThanOrEqual(2);
          if (name === 'lcm') {
            // No silent drop: the negative prompt field says an LCM model ignores it.
            await expect.poll(() => page.getByText('ignores the negative prompt').count()).toBe(1);
          }
          if (name === 'sd1' && backend === 'webgpu') {
            // The same loaded model: its UNet runs in the GPU-resident loop, nothing read back per step.
            const result = (await page.evaluate(
              (p) => (window as unknown as { latentStudioBench(p: object): Promise<unknown> }).latentStudioBench(p),
              // One step is enough to see what a step reads back (a bench run took 30 s at two).
              { width: 96, height: 64, steps: 1, runs: 1, resident: true },
            )) as BenchResult;
            expect([result.backend, result.loop]).toEqual(['webgpu', 'linear']);
            expect(result.readbacksPerStep).toEqual({ latentSized: 0, all: 0 });
          }
          await page.screenshot({ path: join(SCREENSHOTS, `checkpoint-${name}-${golden.run}-${backend}.png`) });
        });
      }
    }
  }

  const load = async (url: string) => {
    const { page } = session;
    await page.getByTestId('custom-model-input').fill(url);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${url}`);
  };
  const txt2imgDefault = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;

  it('a folder URL on another 127.0.0.1 port loads (the page may reach it; its files come only from there)', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    const direct = `http://127.0.0.1:${MOCK_HUB_PORT}/cdn/fixtures/sd1/`;
    await load(direct);
    await enterGolden(session.page, txt2imgDefault);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, txt2imgDefault.image)).toBeLessThanOrEqual(2);
    // Plain http on another machine is refused before any request, with the reason.
    await page.getByTestId('custom-model-input').fill('http://192.0.2.7:8000/sd/');
    await page.getByTestId('load-model').click();
    await expect
      .poll(() => page.getByTestId('custom-model-error').textContent())
      .toMatch(/http:\/\/192\.0\.2\.7:8000 is plain http on another machine/);
    expect(await page.getByTestId('model').inputValue()).toBe(`url:${direct}`);
  });

  it('a checkpoint loads by hub repo id as well (fixtures/sd1-inpaint: inpaint on WASM)', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill('fixtures/sd1-inpaint');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('hub:fixtures/sd1-inpaint@main');
    const golden = pipelineGoldens('sd1-inpaint')[0]!;
    await enterGolden(session.page, golden);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
  });

  it('compare, live previews and explore run on a checkpoint too', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await load(folderUrl('sd1'));
    await enterGolden(session.page, txt2imgDefault);
    await page.getByTestId('mode-compare').click();
    await page.getByTestId('compare-scales').fill('1.1, 7.5, 12');
    expect(await generate(page)).toBe('done');
    const cells = page.getByTestId('compare-cell');
    expect(await cells.count()).toBe(3);
    const cell = await cells
      .nth(1)
      .locator('canvas')
      .evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
    expect(meanAbsDiff(cell, txt2imgDefault.image)).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'checkpoint-compare.png') });

    // Live previews take the plain loop; the final image is the same.
    await page.getByTestId('mode-txt2img').click();
    await page.getByTestId('live-preview').check();
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, txt2imgDefault.image)).toBeLessThanOrEqual(2);
    await page.getByTestId('live-preview').uncheck();

    await page.getByTestId('mode-explore').click();
    // The ids transformers' CLIPTokenizer gave diffusers for this prompt (io.safetensors), up to the end token.
    const ids = Array.from(readTensorFile(`${NETWORKS_DIR}sd1/io.safetensors`).floats('text.input_ids').slice(0, 77));
    const used = ids.slice(0, ids.indexOf(49407) + 1).join(', ');
    await expect.poll(() => page.getByTestId('token-ids').textContent()).toBe(used);
    await page.getByTestId('explore-vae').click();
    await expect.poll(() => page.getByTestId('latent-shape').textContent()).toMatch(/96×64 pixels → 4×8×12 latents/);
  });

  it('a config the app does not build is refused by name in the UI, and the app stays usable', async () => {
    const { page } = session;
    await page.getByTestId('mode-txt2img').click();
    await load(folderUrl('unsupported-unet'));
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /unet\/config\.json: addition_embed_type = "image" is not supported/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'checkpoint-unsupported.png') });
    // Back to a good checkpoint: it loads and draws diffusers' image.
    await load(folderUrl('sd1'));
    await enterGolden(session.page, txt2imgDefault);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, txt2imgDefault.image)).toBeLessThanOrEqual(2);
  });

  it('the checkpoint is cached and listed', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('mode-txt2img').click();
    await load(folderUrl('sd1'));
    await enterGolden(session.page, txt2imgDefault);
    expect(await generate(page)).toBe('done');
    const cache = page.getByTestId('model-cache');
    await expect.poll(async () => Number(await cache.getAttribute('data-count'))).toBeGreaterThan(0);
    expect(await cache.textContent()).toContain(folderUrl('sd1'));
  });
});
