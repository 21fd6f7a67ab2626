/**
 * Original single-file checkpoints (LDM names, as A1111 and ComfyUI users have them), picked in
 * `checkpoint-input` or dropped on the page: the same images as their diffusers folders, and bad
 * files refused with what they are while the app stays usable.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { useMockHub } from './helpers/hub';
import { maxAbsDiff, meanAbsDiff, pipelineGoldens, type PipelineGolden } from '../helpers/pipeline-goldens';
import { encodeSafetensors } from '../../src/core/formats/safetensors';
import { canvasPixels, dropFile as drop, generate, setSettings } from './helpers/app';
import { enterGolden, openOnMockHub } from './helpers/golden-input';
import { SCREENSHOTS, type Session } from './helpers/browser';

const FILES = join(process.cwd(), 'test-results', 'files');
const single = (name: string, file: string) => `${NETWORKS_DIR}${name}/single-file/${file}`;

describe('single-file checkpoints, picked or dropped', () => {
  const hub = useMockHub(() => ({
    'fixtures/sd1': `${NETWORKS_DIR}sd1`,
    'fixtures/sd2-depth': `${NETWORKS_DIR}sd2-depth`,
  }));
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    mkdirSync(FILES, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => {
    await session?.close();
  });

  /** The diffusers folder whose configs describe the tiny file (as diffusers' `config=`). */
  const useConfigsOf = async (repo: string) => {
    const { page } = session;
    const id = `hub:${repo}@main`;
    if ((await page.getByTestId('checkpoint-configs').locator(`option[value="${id}"]`).count()) === 0) {
      await page.getByTestId('custom-model-input').fill(repo);
      await page.getByTestId('load-model').click();
      await expect.poll(() => page.getByTestId('model').inputValue()).toBe(id);
    }
    await page.getByTestId('checkpoint-configs').selectOption(id);
  };

  const expectDiffusersImage = async (g: PipelineGolden, label: string) => {
    const { page } = session;
    expect(await generate(page)).toBe('done');
    const { width, height, pixels } = await canvasPixels(page);
    expect([width, height]).toEqual([g.width, g.height]);
    const mean = meanAbsDiff(pixels, g.image);
    console.log(`${label}: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, g.image)}/255`);
    expect(mean).toBeLessThanOrEqual(2);
  };

  const sd1 = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;

  it('sd1 float32, chosen in checkpoint-input: diffusers’ image, no weights fetched from the configs’ repo', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await useConfigsOf('fixtures/sd1');
    const before = hub.requests.length;
    await page.getByTestId('checkpoint-input').setInputFiles(single('sd1', 'model.safetensors'));
    await expect.poll(() => page.getByTestId('model').inputValue()).toMatch(/^file:model\.safetensors#[0-9a-f]{8}$/);
    await expect
      .poll(() => page.getByTestId('model').locator('option:checked').textContent())
      .toMatch(/SD 1\.x, text-to-image .*fp32/);
    await enterGolden(session.page, sd1);
    await expectDiffusersImage(sd1, 'sd1 single file fp32 (input)');
    // Only configs, tokenizer and scheduler files came from the repo, never its weights.
    const fetched = hub.requests.slice(before);
    expect(fetched.some((p) => p.endsWith('config.json'))).toBe(true);
    expect(fetched.filter((p) => p.endsWith('.safetensors'))).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'single-file-sd1.png') });
  });

  it('sd1 fp16, dropped on the page: diffusers’ image', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await useConfigsOf('fixtures/sd1');
    await drop(page, single('sd1', 'model.fp16.safetensors'));
    await expect.poll(() => page.getByTestId('model').inputValue()).toMatch(/^file:model\.fp16\.safetensors#/);
    await expect.poll(() => page.getByTestId('notice').textContent()).toMatch(/Added and selected model\.fp16/);
    await enterGolden(session.page, sd1);
    await expectDiffusersImage(sd1, 'sd1 single file fp16 (dropped)');
  });

  const depth = pipelineGoldens('sd2-depth')[0]!;
  for (const how of ['input', 'drop'] as const) {
    it(`sd2-depth fp16 (OpenCLIP layout), ${how === 'input' ? 'chosen in checkpoint-input' : 'dropped'}: diffusers’ depth2img image`, async () => {
      const { page } = session;
      await setSettings(page, { backend: 'wasm' });
      if (how === 'drop') {
        // Another model in the worker first, so the dropped file is read and built again, not reused.
        await page.getByTestId('mode-txt2img').click();
        await page.getByTestId('model').selectOption('tiny-sd');
        await setSettings(page, { width: 64, height: 64, steps: 2 });
        expect(await generate(page)).toBe('done');
      }
      await useConfigsOf('fixtures/sd2-depth');
      const path = single('sd2-depth', 'model.fp16.safetensors');
      if (how === 'input') await page.getByTestId('checkpoint-input').setInputFiles(path);
      else await drop(page, path);
      await expect.poll(() => page.getByTestId('model').inputValue()).toMatch(/^file:model\.fp16\.safetensors#/);
      await expect
        .poll(() => page.getByTestId('model').locator('option:checked').textContent())
        .toMatch(/SD 2\.x, depth/);
      await enterGolden(session.page, depth);
      await expectDiffusersImage(depth, `sd2-depth single file (${how})`);
      if (how === 'input') await page.screenshot({ path: join(SCREENSHOTS, 'single-file-sd2-depth.png') });
    });
  }

  it('bad files give their messages, and the app stays usable', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await page.getByTestId('checkpoint-configs').selectOption('');
    const fp16 = readFileSync(single('sd1', 'model.fp16.safetensors'));
    const write = (name: string, bytes: Uint8Array | string) => {
      const path = join(FILES, name);
      writeFileSync(path, bytes);
      return path;
    };
    // SDXL's refiner: one OpenCLIP text encoder under conditioner.embedders.0.
    const refiner = encodeSafetensors(
      ['conditioner.embedders.0.model.token_embedding.weight', 'model.diffusion_model.input_blocks.0.0.weight'].map(
        (name) => ({ name, dtype: 'F16', shape: [2], data: new Uint8Array(4) }),
      ),
    );
    const cases: [string, Uint8Array | string, RegExp][] = [
      [
        'truncated.safetensors',
        fp16.subarray(0, fp16.length - 5000),
        /truncated\.safetensors is not a usable safetensors file: .*truncated/,
      ],
      ['notes.safetensors', 'these are my notes, not a model', /notes\.safetensors is not a usable safetensors file/],
      ['refiner.safetensors', refiner, /refiner\.safetensors is the SDXL refiner/],
      [
        'renamed.ckpt',
        Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 60 }, () => 0)]),
        /renamed\.ckpt is a PyTorch pickle/,
      ],
      // Without configs, the tiny file cannot be described by SD 1.x's own head and group counts.
      ['tiny.safetensors', fp16, /tiny\.safetensors is not the size of SD 1\.x .*Configs from/],
    ];
    const modelBefore = await page.getByTestId('model').inputValue();
    for (const [name, bytes, message] of cases) {
      await page.getByTestId('checkpoint-input').setInputFiles(write(name, bytes));
      await expect.poll(() => page.getByTestId('custom-model-error').textContent()).toMatch(message);
      expect(await page.getByTestId('model').inputValue()).toBe(modelBefore);
    }
    // Dropped, the same file is said in the notice.
    await drop(page, join(FILES, 'refiner.safetensors'));
    await expect.poll(() => page.getByTestId('notice').textContent()).toMatch(/is the SDXL refiner/);
    await page.getByTestId('models-panel').screenshot({ path: join(SCREENSHOTS, 'single-file-refused.png') });
    // Still usable: the selected model generates. That is Shapes, whose zero-SNR betas refuse the
    // PNDM the goldens above chose, so its own DDIM.
    await page.getByTestId('mode-txt2img').click();
    await setSettings(page, { scheduler: 'ddim' });
    expect(await generate(page)).toBe('done');
  });

  it('after a reload the picked file is gone from the list (a browser does not keep it), and the page says how to get it back', async () => {
    const { page } = session;
    await page.reload();
    await page.getByTestId('models-panel').locator('summary').click();
    expect(await page.getByTestId('model').inputValue()).not.toMatch(/^file:/);
    expect(await page.getByTestId('model').locator('option[value^="file:"]').count()).toBe(0);
    expect(await page.locator('.checkpoint-file').textContent()).toContain('after a reload pick it again');
  });
});
