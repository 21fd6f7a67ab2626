/**
 * ONNX exports as the tools write them, and folders picked from disk: optimum's layout (the
 * exported pipeline's own model_index.json, with `vae` and no `vae_decoder`, beside ONNX folders)
 * with weights in external files (`model.onnx_data`, `weights.pb`), by folder URL and picked from
 * disk; and a diffusers safetensors folder picked from disk. Each gives diffusers' image.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { textEncoderGraph, unetGraph, vaeGraphs, type ComponentSource } from '../../src/core/networks';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { readJson } from '../helpers/node-models';
import { SCREENSHOTS, type Session } from './helpers/browser';
import { canvasPixels, generate, setSettings } from './helpers/app';
import { enterGolden, openOnMockHub } from './helpers/golden-input';

const SD1 = `${NETWORKS_DIR}sd1/`;
const DIR = join(process.cwd(), 'test-results', 'onnx-layouts', 'optimum-sd1');
const INPAINT_DIR = join(process.cwd(), 'test-results', 'onnx-layouts', 'optimum-sd1-inpaint');

/** A network of a reference checkpoint as an ONNX graph whose weights live in `location` beside it. */
function source(from: string, part: string, stem: string, location: string): ComponentSource {
  const file = `${from}${part}/${stem}.safetensors`;
  return {
    configPath: `${part}/config.json`,
    config: readJson(`${from}${part}/config.json`),
    files: [{ header: parseSafetensors(location, new Uint8Array(readFileSync(file))), location }],
  };
}

/**
 * The sd1 checkpoint exported as optimum lays it out: text_encoder/, unet/, vae_decoder/,
 * vae_encoder/ with model.onnx each, the weights in external files (the safetensors bytes
 * themselves: ONNX external data is a file, an offset and a length), and the index of the
 * pipeline that was exported.
 */
function writeOptimumExport(from: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const put = (path: string, bytes: Uint8Array) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  };
  put('text_encoder/model.onnx', textEncoderGraph(source(from, 'text_encoder', 'model', 'model.onnx_data')));
  copyFileSync(`${from}text_encoder/model.safetensors`, join(dir, 'text_encoder/model.onnx_data'));
  // torch's exporter names a single external file weights.pb when asked to. The UNet's conv_in is
  // as exported: 9 input channels for an inpainting model.
  const unet = unetGraph(source(from, 'unet', 'diffusion_pytorch_model', 'weights.pb'), { padInputChannels: false });
  put('unet/model.onnx', unet.model);
  copyFileSync(`${from}unet/diffusion_pytorch_model.safetensors`, join(dir, 'unet/weights.pb'));
  const vae = vaeGraphs(source(from, 'vae', 'diffusion_pytorch_model', 'model.onnx_data'));
  put('vae_decoder/model.onnx', vae.decoder);
  put('vae_encoder/model.onnx', vae.encoder);
  for (const part of ['vae_decoder', 'vae_encoder'])
    copyFileSync(`${from}vae/diffusion_pytorch_model.safetensors`, join(dir, part, 'model.onnx_data'));
  cpSync(`${from}tokenizer`, join(dir, 'tokenizer'), { recursive: true });
  cpSync(`${from}scheduler`, join(dir, 'scheduler'), { recursive: true });
  copyFileSync(`${from}model_index.json`, join(dir, 'model_index.json'));
}

describe('ONNX exports in the tools’ layouts, and folders picked from disk', () => {
  const hub = useMockHub(() => {
    writeOptimumExport(SD1, DIR);
    writeOptimumExport(`${NETWORKS_DIR}sd1-inpaint/`, INPAINT_DIR);
    return { 'fixtures/optimum-sd1': DIR, 'fixtures/optimum-sd1-inpaint': INPAINT_DIR };
  });
  let session: Session;
  const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
  const url = hubFolderUrl('fixtures/optimum-sd1');

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => {
    await session?.close();
  });

  const expectGolden = async (label: string, g = golden) => {
    const { page } = session;
    await enterGolden(page, g);
    expect(await generate(page)).toBe('done');
    const { pixels } = await canvasPixels(page);
    const mean = meanAbsDiff(pixels, g.image);
    console.log(`${label}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, g.image)}/255`);
    expect(mean).toBeLessThanOrEqual(2);
  };

  it('optimum’s layout by folder URL: known by its folders, its external weights fetched beside the graphs', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('custom-model-input').fill(url);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${url}`);
    await expectGolden('optimum layout by URL');
    const fetched = hub.requests.map((p) => p.split('optimum-sd1/')[1]);
    expect(fetched).toEqual(
      expect.arrayContaining(['unet/weights.pb', 'text_encoder/model.onnx_data', 'vae_decoder/model.onnx_data']),
    );
  });

  it('the same export picked from disk loads in place', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    const before = hub.requests.length;
    await page.getByTestId('local-model-input').setInputFiles(DIR);
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('local:optimum-sd1');
    await expectGolden('optimum layout picked from disk');
    expect(hub.requests.length).toBe(before);
  });

  it('a diffusers safetensors folder picked from disk loads in place', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    const dir = join(process.cwd(), 'test-results', 'onnx-layouts', 'sd1');
    rmSync(dir, { recursive: true, force: true });
    cpSync(SD1, dir, { recursive: true });
    await page.getByTestId('local-model-input').setInputFiles(dir);
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe('local:sd1');
    await expectGolden('safetensors folder picked from disk');
    await page.screenshot({ path: join(SCREENSHOTS, 'local-safetensors-folder.png') });
  });

  // onnxruntime-web's WebGPU Conv is wrong with 9 input channels; the export's conv_in is rewritten
  // to 12 at load. Both backends must give diffusers' image.
  for (const backend of ['wasm', 'webgpu'] as const) {
    it(`an inpainting export (9-channel conv_in as exported) on ${backend}: diffusers’ image`, async () => {
      const { page } = session;
      await setSettings(page, { backend });
      const inpaintUrl = url.replace('optimum-sd1/', 'optimum-sd1-inpaint/');
      await page.getByTestId('custom-model-input').fill(inpaintUrl);
      await page.getByTestId('load-model').click();
      await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`url:${inpaintUrl}`);
      await expectGolden(`inpainting export on ${backend}`, pipelineGoldens('sd1-inpaint')[0]);
    });
  }
});
