/**
 * SDXL checkpoints (two text encoders, a text_time UNet) added by folder URL, their networks built
 * in the browser on WASM: every reference run gives diffusers' image.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, NETWORKS_DIR, SDXL_CASES, SDXL_DIR } from '../helpers/fixtures';
import { goldensIn, maxAbsDiff, meanAbsDiff, type PipelineGolden } from '../helpers/pipeline-goldens';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { canvasPixels, dropFile, generate, setRange, setSettings } from './helpers/app';
import { enterGolden, openOnMockHub } from './helpers/golden-input';
import { SCREENSHOTS, type Session } from './helpers/browser';

const FILES = join(process.cwd(), 'test-results', 'files');
const folderUrl = (name: string) => hubFolderUrl(`fixtures/${name}`);

/** `sdxl` with force_zeros_for_empty_prompt false: an empty negative prompt is encoded, as "" is. */
function encodesEmpty(): string {
  const dir = join(FILES, 'sdxl-encodes-empty');
  cpSync(`${SDXL_DIR}sdxl`, dir, { recursive: true });
  const index = JSON.parse(readFileSync(join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ ...index, force_zeros_for_empty_prompt: false }));
  return dir;
}

/**
 * `sdxl` with each weights file the size SDXL base 1.0's fp16 files have on the hub (about 5.14 GB
 * UNet, 1.39 GB OpenCLIP bigG, 246 MB CLIP ViT-L, 167 MB VAE): sparse files, listed, never read.
 */
function fullSize(): string {
  const dir = join(FILES, 'sdxl-full-size');
  rmSync(dir, { recursive: true, force: true });
  cpSync(`${SDXL_DIR}sdxl`, dir, { recursive: true });
  const sizes: Record<string, number> = {
    'unet/diffusion_pytorch_model.fp16.safetensors': 5.14e9,
    'text_encoder_2/model.fp16.safetensors': 1.39e9,
    'text_encoder/model.fp16.safetensors': 2.46e8,
    'vae/diffusion_pytorch_model.fp16.safetensors': 1.67e8,
  };
  for (const [path, size] of Object.entries(sizes)) truncateSync(join(dir, path), size);
  return dir;
}

/**
 * The runs each folder gives. The shared runs with an empty negative prompt and guidance were made
 * with negative_prompt "" (encoded): on the checkpoints as published (force_zeros_for_empty_prompt
 * true) the app's empty box is diffusers' None, whose runs are goldens/sdxl-zeros/; the shared ones
 * run on the copy that says false.
 */
function runsFor(folder: string): PipelineGolden[] {
  const zeros = goldensIn(`${FIXTURES_DIR}goldens/sdxl-zeros/`, 'sdxl-zeros');
  if (folder === 'sdxl-encodes-empty') {
    return goldensIn(`${SDXL_DIR}sdxl/pipelines/`, 'sdxl').filter((g) => g.run === 'txt2img-default');
  }
  const shared = goldensIn(`${SDXL_DIR}${folder}/pipelines/`, folder);
  const zeroed = (g: PipelineGolden) => g.settings.negative_prompt === '' && g.settings.guidance_scale > 1;
  // goldens/sdxl-zeros/ names each run <checkpoint>-<run>.
  const checkpointOf = (g: PipelineGolden) => (g.run.startsWith('sdxl-inpaint-') ? 'sdxl-inpaint' : 'sdxl');
  return [...shared.filter((g) => !zeroed(g)), ...zeros.filter((g) => checkpointOf(g) === folder)];
}

describe('SDXL checkpoints by folder URL, networks built in the browser', () => {
  const hub = useMockHub(() => {
    mkdirSync(FILES, { recursive: true });
    return {
      ...Object.fromEntries(SDXL_CASES.map((n) => [`fixtures/${n}`, `${SDXL_DIR}${n}`])),
      'fixtures/sdxl-encodes-empty': encodesEmpty(),
      'fixtures/sdxl-full-size': fullSize(),
      // The catalog's SDXL entries, served as the reference checkpoints of the same kind.
      'stabilityai/stable-diffusion-xl-base-1.0': `${SDXL_DIR}sdxl`,
      'stabilityai/sdxl-turbo': `${SDXL_DIR}sdxl-turbo`,
      'diffusers/stable-diffusion-xl-1.0-inpainting-0.1': `${SDXL_DIR}sdxl-inpaint`,
      // VAE folders: another SDXL VAE (force_upcast false, as the fp16 fix), and SD 1.x's.
      'fixtures/sdxl-vae-fix': `${FIXTURES_DIR}goldens/sdxl-vae/vae-fix`,
      'fixtures/sd1-vae': `${NETWORKS_DIR}sd1/vae`,
      'fixtures/sd1-for-vae': `${NETWORKS_DIR}sd1`,
    };
  });
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => {
    await session?.close();
  });

  for (const folder of [...SDXL_CASES, 'sdxl-encodes-empty']) {
    for (const golden of runsFor(folder)) {
      it(`${folder}: ${golden.run} is diffusers' image within 2/255 (WASM)`, async () => {
        const { page } = session;
        await setSettings(page, { backend: 'wasm' });
        await page.getByTestId('custom-model-input').fill(folderUrl(folder));
        await page.getByTestId('load-model').click();
        await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl(folder)}`);
        await enterGolden(page, golden);
        expect(await generate(page)).toBe('done');
        const { width, height, pixels } = await canvasPixels(page);
        expect([width, height]).toEqual([golden.width, golden.height]);
        const mean = meanAbsDiff(pixels, golden.image);
        console.log(
          `${folder} ${golden.run}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`,
        );
        expect(mean).toBeLessThanOrEqual(2);
        await page.screenshot({ path: join(SCREENSHOTS, `sdxl-${folder}-${golden.run}.png`) });
      });
    }
  }

  // WebGPU here is SwiftShader (no shader-f16: float32, seconds per step): one Turbo step, the
  // SDXL graphs (text_time UNet, both encoders) built for WebGPU with its fused kernels.
  it("on WebGPU too: sdxl-turbo's 1-step run within 2/255 of diffusers' image", async () => {
    const { page } = session;
    const golden = runsFor('sdxl-turbo').find((g) => g.run === 'turbo-1step')!;
    await setSettings(page, { backend: 'webgpu' });
    await page.getByTestId('custom-model-input').fill(folderUrl('sdxl-turbo'));
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl('sdxl-turbo')}`);
    await enterGolden(page, golden);
    expect(await generate(page, 300_000)).toBe('done');
    const { pixels } = await canvasPixels(page);
    const mean = meanAbsDiff(pixels, golden.image);
    console.log(
      `sdxl-turbo turbo-1step on WebGPU: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`,
    );
    expect(await page.getByTestId('status').textContent()).toMatch(/WebGPU/);
    expect(mean).toBeLessThanOrEqual(2);
    await setSettings(page, { backend: 'wasm' });
  }, 360_000);

  it('a full-size SDXL on WASM is refused from its listing before any weight downloads; the app stays usable', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill('fixtures/sdxl-full-size');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('hub:fixtures/sdxl-full-size@main');
    const before = hub.requests.length;
    await setSettings(page, { width: 64, height: 64, steps: 2 });
    expect(await generate(page)).toBe('error');
    await expect
      .poll(() => page.getByTestId('error').textContent())
      .toMatch(
        /is an SDXL model: its weights are about 12\.\d GiB in float32, the type WASM computes in, more than WASM's 4 GiB memory\. SDXL runs on WebGPU on a GPU with shader-f16, where its weights are about 6\.\d GiB/,
      );
    expect(hub.requests.slice(before).filter((p) => p.endsWith('.safetensors'))).toEqual([]);
    await page.getByTestId('error').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'sdxl-full-size-wasm.png') });
    // Still usable: the tiny SDXL loads and draws diffusers' image.
    const golden = runsFor('sdxl').find((g) => g.run === 'txt2img-negative')!;
    await page.getByTestId('custom-model-input').fill(folderUrl('sdxl'));
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl('sdxl')}`);
    await enterGolden(page, golden);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
  });

  it("the catalog's SDXL entries: licence before download, their fp16 files from the listing, diffusers' images; inpaint mode goes to SDXL inpainting", async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    const cases: [string, string, PipelineGolden, RegExp][] = [
      [
        'sdxl-turbo',
        'stabilityai/sdxl-turbo',
        runsFor('sdxl-turbo').find((g) => g.run === 'turbo-1step')!,
        /Non-Commercial/,
      ],
      [
        'sdxl-base',
        'stabilityai/stable-diffusion-xl-base-1.0',
        runsFor('sdxl').find((g) => g.run === 'txt2img-negative')!,
        /Open RAIL\+\+-M/,
      ],
    ];
    for (const [id, repo, golden, licence] of cases) {
      await page.getByTestId('mode-txt2img').click();
      await page.getByTestId('model').selectOption(id);
      await expect.poll(() => page.getByTestId('model-description').textContent()).toMatch(licence);
      const before = hub.requests.length;
      expect(hub.requests.some((p) => p.includes(repo) && p.endsWith('.safetensors'))).toBe(false);
      await enterGolden(page, golden);
      expect(await generate(page)).toBe('done');
      const mean = meanAbsDiff((await canvasPixels(page)).pixels, golden.image);
      console.log(`catalog ${id} ${golden.run}: mean ${mean.toFixed(4)}/255`);
      expect(mean).toBeLessThanOrEqual(2);
      const weights = hub.requests.slice(before).filter((p) => p.includes(repo) && p.endsWith('.safetensors'));
      expect(weights.every((p) => p.endsWith('.fp16.safetensors'))).toBe(true);
      expect(weights).toHaveLength(4);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, 'sdxl-catalog.png') });
    const inpaint = runsFor('sdxl-inpaint')[0]!;
    await page.getByTestId('mode-inpaint').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('sdxl-inpaint');
    await enterGolden(page, inpaint);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, inpaint.image)).toBeLessThanOrEqual(2);
    await page.getByTestId('mode-txt2img').click();
  });

  it("another VAE, by folder URL or as a file, decodes as diffusers' pipeline with vae=; one for another latent space is refused", async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill(folderUrl('sdxl'));
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl('sdxl')}`);
    const withVae = goldensIn(`${FIXTURES_DIR}goldens/sdxl-vae/`, 'sdxl-vae')[0]!;
    const own = runsFor('sdxl').find((g) => g.run === 'txt2img-negative')!;
    await enterGolden(page, withVae);
    const check = async (golden: PipelineGolden, label: string) => {
      expect(await generate(page)).toBe('done');
      const { pixels } = await canvasPixels(page);
      const mean = meanAbsDiff(pixels, golden.image);
      console.log(`sdxl ${label}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`);
      expect(mean).toBeLessThanOrEqual(2);
    };
    await page.getByTestId('vae-input').fill(folderUrl('sdxl-vae-fix'));
    await page.getByTestId('vae-add').click();
    await expect.poll(() => page.getByTestId('vae-select').inputValue()).toBe(`vae:${folderUrl('sdxl-vae-fix')}`);
    await check(withVae, 'VAE folder');
    await page.getByTestId('models-panel').screenshot({ path: join(SCREENSHOTS, 'sdxl-vae.png') });
    await page.getByTestId('vae-file').setInputFiles(`${FIXTURES_DIR}goldens/sdxl-vae/vae-fix.safetensors`);
    await expect.poll(() => page.getByTestId('vae-select').inputValue()).toMatch(/^vae-file:vae-fix\.safetensors#/);
    await check(withVae, 'VAE file');
    await page.getByTestId('vae-select').selectOption('');
    await check(own, "the model's own VAE");
    // The catalog's SDXL VAE on an SD 1.x model: not used, and said.
    await page.getByTestId('vae-select').selectOption('vae:madebyollin/sdxl-vae-fp16-fix');
    await page.getByTestId('custom-model-input').fill(folderUrl('sd1-for-vae'));
    await page.getByTestId('load-model').click();
    await expect
      .poll(() => page.getByTestId('vae-note').textContent())
      .toMatch(/is a VAE for SDXL; .* so it uses its own VAE/);
    // SD 1.x's VAE on SDXL: refused by its scaling factor, naming both.
    await page.getByTestId('custom-model-input').fill(folderUrl('sdxl'));
    await page.getByTestId('load-model').click();
    await page.getByTestId('vae-input').fill(folderUrl('sd1-vae'));
    await page.getByTestId('vae-add').click();
    expect(await generate(page)).toBe('error');
    await expect
      .poll(() => page.getByTestId('error').textContent())
      .toMatch(
        /is a VAE for another latent space \(4 channels scaled by 0\.18215; this model's own: 4 scaled by 0\.13025\)/,
      );
    await page.getByTestId('vae-select').selectOption('');
    await check(own, "the model's own VAE again");
  });

  it("a kohya SDXL LoRA at 0.8 and an SDXL embedding give diffusers' images (WASM)", async () => {
    const { page } = session;
    const dir = `${FIXTURES_DIR}goldens/sdxl-lora/`;
    const goldens = goldensIn(dir, 'sdxl-lora');
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill(folderUrl('sdxl'));
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${folderUrl('sdxl')}`);
    const lora = goldens.find((g) => g.run === 'lora-0.8')!;
    await enterGolden(page, lora);
    await page.getByTestId('lora-input').setInputFiles(`${dir}style-xl.kohya.safetensors`);
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
    await setRange(page, 'lora-strength', 0.8);
    expect(await generate(page)).toBe('done');
    let pixels = (await canvasPixels(page)).pixels;
    const loraMean = meanAbsDiff(pixels, lora.image);
    console.log(`sdxl kohya LoRA 0.8: mean ${loraMean.toFixed(4)}/255, max ${maxAbsDiff(pixels, lora.image)}/255`);
    expect(loraMean).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'sdxl-lora.png') });
    await page.getByTestId('lora-remove').click();
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(0);

    const embedding = goldens.find((g) => g.run === 'embedding')!;
    await page.getByTestId('embedding-input').setInputFiles(`${dir}style-xl-embedding.safetensors`);
    await expect.poll(() => page.getByTestId('embedding-item').count()).toBe(1);
    await page.getByTestId('embedding-trigger').fill('<xl-style>');
    await enterGolden(page, embedding);
    expect(await generate(page)).toBe('done');
    pixels = (await canvasPixels(page)).pixels;
    const embeddingMean = meanAbsDiff(pixels, embedding.image);
    console.log(`sdxl embedding: mean ${embeddingMean.toFixed(4)}/255, max ${maxAbsDiff(pixels, embedding.image)}/255`);
    expect(embeddingMean).toBeLessThanOrEqual(2);
    await page.getByTestId('embedding-remove').click();
  });

  it("an SDXL single file dropped on the page, with the sdxl folder's configs: diffusers' images", async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    // The folder by repo id, whose configs describe the tiny file (as diffusers' `config=`).
    const id = 'hub:fixtures/sdxl@main';
    await page.getByTestId('custom-model-input').fill('fixtures/sdxl');
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(id);
    await page.getByTestId('checkpoint-configs').selectOption(id);
    await dropFile(page, `${FIXTURES_DIR}sdxl-single-file/sdxl.fp16.safetensors`);
    await expect.poll(() => page.getByTestId('model').inputValue()).toMatch(/^file:sdxl\.fp16\.safetensors#/);
    await expect
      .poll(() => page.getByTestId('model').locator('option:checked').textContent())
      .toMatch(/SDXL, text-to-image .*fp16/);
    const runs = [...runsFor('sdxl').filter((g) => g.run === 'sdxl-txt2img-default' || g.run === 'txt2img-negative')];
    expect(runs).toHaveLength(2);
    for (const golden of runs) {
      await enterGolden(page, golden);
      expect(await generate(page)).toBe('done');
      const { pixels } = await canvasPixels(page);
      const mean = meanAbsDiff(pixels, golden.image);
      console.log(
        `sdxl single file ${golden.run}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`,
      );
      expect(mean).toBeLessThanOrEqual(2);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'sdxl-single-file.png') });
  });
});
