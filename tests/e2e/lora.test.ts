/** LoRA files on a checkpoint in the browser (WASM), against diffusers' images. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readPngText } from '../../src/core/formats/png-text';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/core/formats/safetensors';
import { NETWORKS_DIR, readTensorFile } from '../helpers/fixtures';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { readJson } from '../helpers/node-models';
import { maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { canvasPixels, generate, setRange, setSettings } from './helpers/app';
import { openApp, SCREENSHOTS, type Session } from './helpers/browser';

const LORA = `${NETWORKS_DIR}sd1/lora/`;
const FILES = join(process.cwd(), 'test-results', 'files');
const SD1 = hubFolderUrl('fixtures/sd1');
const image = (run: string) => readTensorFile(`${LORA}${run}.safetensors`).u8('image');
const plain = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;

describe('LoRA in the browser', () => {
  const hub = useMockHub(() => ({ 'fixtures/sd1': `${NETWORKS_DIR}sd1` }));
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    mkdirSync(FILES, { recursive: true });
    session = await openApp();
    const { page } = session;
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.getByTestId('models-panel').locator('summary').click();
    await page.getByTestId('custom-model-input').fill(SD1);
    await page.getByTestId('load-model').click();
    await page.waitForFunction(
      (id) => document.querySelector<HTMLSelectElement>('[data-testid=model]')?.value === id,
      `url:${SD1}`,
    );
    const s = readJson<{ prompt: string; num_inference_steps: number; guidance_scale: number; seed: number }>(
      `${LORA}lora-0.8.json`,
    );
    await setSettings(page, {
      backend: 'wasm',
      prompt: s.prompt,
      negativePrompt: '',
      guidance: s.guidance_scale,
      steps: s.num_inference_steps,
      seed: String(s.seed),
      width: 96,
      height: 64,
      scheduler: 'pndm',
    });
  });
  afterAll(async () => {
    await session?.close();
  });

  const result = async () => (await canvasPixels(session.page)).pixels;

  it("kohya LoRA at 0.8 and 0.3 gives diffusers' images; a strength change downloads nothing; removing it gives the plain image", async () => {
    const { page } = session;
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), plain.image)).toBeLessThanOrEqual(2);
    await page.getByTestId('lora-input').setInputFiles(`${LORA}style.kohya.safetensors`);
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
    expect(await page.getByTestId('lora-item').getAttribute('data-name')).toBe('style.kohya');
    await setRange(page, 'lora-strength', 0.8);
    expect(await generate(page)).toBe('done');
    const at08 = meanAbsDiff(await result(), image('lora-0.8'));
    console.info(`kohya 0.8: ${at08.toFixed(4)}/255 mean, ${maxAbsDiff(await result(), image('lora-0.8'))} max`);
    expect(at08).toBeLessThanOrEqual(2);
    await page.screenshot({ path: `${SCREENSHOTS}/lora-0.8.png` });

    const requests = hub.requests.length;
    await setRange(page, 'lora-strength', 0.3);
    const started = Date.now();
    expect(await generate(page)).toBe('done');
    const withRebuild = Date.now() - started;
    expect(meanAbsDiff(await result(), image('lora-0.3'))).toBeLessThanOrEqual(2);
    const again = Date.now();
    expect(await generate(page)).toBe('done');
    console.info(
      `strength 0.8 → 0.3: the generation with the rebuild took ${withRebuild} ms, the same one again ${Date.now() - again} ms`,
    );
    expect(hub.requests.length).toBe(requests);

    await page.getByTestId('lora-remove').click();
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(0);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), plain.image)).toBeLessThanOrEqual(2);
    expect(hub.requests.length).toBe(requests);
  });

  it('a PEFT LoRA dropped on the page works the same, and is kept for the next visit', async () => {
    const { page } = session;
    const bytes = readTensorFile(`${LORA}style.peft.safetensors`).bytes;
    await page.evaluate((data) => {
      const file = new File([new Uint8Array(data)], 'style.peft.safetensors');
      const transfer = new DataTransfer();
      transfer.items.add(file);
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, Array.from(bytes));
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
    await setRange(page, 'lora-strength', 0.8);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), image('lora-0.8'))).toBeLessThanOrEqual(2);

    await page.reload();
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
    expect(await page.getByTestId('lora-strength').inputValue()).toBe('0.8');
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), image('lora-0.8'))).toBeLessThanOrEqual(2);
    await page.getByTestId('lora-remove').click();
  });

  it('a LoCon file and a LoRA for another architecture give their messages, and the app keeps working', async () => {
    const { page } = session;
    const t = (name: string, shape: number[]) => ({
      name,
      dtype: 'F32' as const,
      shape,
      data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4),
    });
    const locon = join(FILES, 'locon.safetensors');
    writeFileSync(
      locon,
      encodeSafetensors([
        t('lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight', [4, 32, 3, 3]),
        t('lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight', [32, 4, 1, 1]),
      ]),
    );
    const other = join(FILES, 'other-model.safetensors');
    writeFileSync(
      other,
      encodeSafetensors([
        t('lora_unet_down_blocks_2_attentions_0_proj_in.lora_down.weight', [4, 1280]),
        t('lora_unet_down_blocks_2_attentions_0_proj_in.lora_up.weight', [1280, 4]),
      ]),
    );
    for (const [file, message] of [
      [locon, /locon\.safetensors is a LoCon file \(LoRA on 3×3 convolutions/],
      [other, /other-model\.safetensors does not fit this model: .* probably a LoRA for another architecture/],
    ] as const) {
      await page.getByTestId('lora-input').setInputFiles(file);
      await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
      expect(await generate(page)).toBe('error');
      expect(await page.getByTestId('error').textContent()).toMatch(message);
      await page.getByTestId('lora-remove').click();
      await expect.poll(() => page.getByTestId('lora-item').count()).toBe(0);
    }
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), plain.image)).toBeLessThanOrEqual(2);
  });

  it('<lora:name:w> in the prompt sets the strength, and the PNG parameters record it', async () => {
    const { page } = session;
    await page.getByTestId('lora-input').setInputFiles(`${LORA}style.kohya.safetensors`);
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(1);
    await setRange(page, 'lora-strength', 0);
    const prompt = readJson<{ prompt: string }>(`${LORA}lora-0.3.json`).prompt;
    await setSettings(page, { prompt: `${prompt} <lora:style.kohya:0.3>` });
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff(await result(), image('lora-0.3'))).toBeLessThanOrEqual(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const png = readFileSync(await download.path());
    const text = readPngText(new Uint8Array(png)).get('parameters')!;
    expect(text.split('\n')[0]).toBe(`${prompt} <lora:style.kohya:0.3>`);
    // Dropped back with the LoRA removed, the PNG restores the prompt and says which LoRA is missing.
    await page.getByTestId('lora-remove').click();
    await expect.poll(() => page.getByTestId('lora-item').count()).toBe(0);
    await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'with-lora.png', { type: 'image/png' }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, Array.from(png));
    await expect
      .poll(() => page.getByTestId('notice').textContent())
      .toMatch(/Settings restored from "with-lora\.png"; add the LoRA file "style\.kohya" to use it\./);
    expect(await page.getByTestId('prompt').inputValue()).toBe(`${prompt} <lora:style.kohya:0.3>`);
    // A tag naming a LoRA that is not added says so.
    await setSettings(page, { prompt: `${prompt} <lora:missing-style:0.5>` });
    expect(await generate(page)).toBe('error');
    expect(await page.getByTestId('error').textContent()).toMatch(
      /The prompt names LoRA "missing-style" \(<lora:missing-style:0.5>\), which is not added/,
    );
    await setSettings(page, { prompt });
  });

  it("a textual-inversion embedding: its trigger word becomes its vectors, as diffusers' load_textual_inversion", async () => {
    const { page } = session;
    const g = readJson<{ prompt: string; embedding: { token: string } }>(`${LORA}embedding.json`);
    await page.getByTestId('embedding-input').setInputFiles(`${LORA}style-embedding.safetensors`);
    await expect.poll(() => page.getByTestId('embedding-item').count()).toBe(1);
    // The trigger word is the file's name, as in A1111; diffusers' run called it <bars-style>.
    expect(await page.getByTestId('embedding-trigger').inputValue()).toBe('style-embedding');
    await page.getByTestId('embedding-trigger').fill(g.embedding.token);
    await setSettings(page, { prompt: g.prompt });
    expect(await generate(page)).toBe('done');
    const diff = meanAbsDiff(await result(), image('embedding'));
    console.info(`embedding: ${diff.toFixed(4)}/255 mean, ${maxAbsDiff(await result(), image('embedding'))} max`);
    expect(diff).toBeLessThanOrEqual(2);
    // Explore shows the two vectors as their own tokens.
    await page.getByTestId('mode-explore').click();
    await expect.poll(() => page.getByTestId('token-list').textContent()).toContain('<bars-style>_1');
    await page.screenshot({ path: `${SCREENSHOTS}/embedding-explore.png`, fullPage: true });
    await page.getByTestId('mode-txt2img').click();
    await page.getByTestId('embedding-remove').click();
  });
});
