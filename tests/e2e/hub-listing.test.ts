/**
 * Diffusers checkpoints by hub repo id, with the hub's API listing (sizes, sha256): the weights
 * are chosen from it (the fp16 variant, all shards of a sharded save, float32 converted to fp16
 * as it downloads), checked before the first byte, verified on arrival, and kept for offline use.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_CASES, NETWORKS_DIR } from '../helpers/fixtures';
import { useMockHub } from './helpers/hub';
import { maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { encodeSafetensors, parseSafetensors } from '../../src/core/formats/safetensors';
import { canvasPixels, generate, setSettings } from './helpers/app';
import { SCREENSHOTS, type Session } from './helpers/browser';
import { enterGolden, openOnMockHub } from './helpers/golden-input';

const WORK = join(process.cwd(), 'test-results', 'hub-repos');
const UNET = 'unet/diffusion_pytorch_model';

/** A copy of a reference checkpoint, changed by `edit` (files removed, split, faked). */
function repo(name: string, from: string, edit: (dir: string) => void): string {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(`${NETWORKS_DIR}${from}`, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** The fp16 UNet split in two shards as diffusers saves them (and its index), the single files gone. */
function shard(dir: string): void {
  const path = join(dir, `${UNET}.fp16.safetensors`);
  const bytes = new Uint8Array(readFileSync(path));
  const header = parseSafetensors(path, bytes);
  const entries = [...header.tensors.values()];
  const half = Math.ceil(entries.length / 2);
  const weightMap: Record<string, string> = {};
  [entries.slice(0, half), entries.slice(half)].forEach((part, i) => {
    const name = `diffusion_pytorch_model.fp16-0000${i + 1}-of-00002.safetensors`;
    writeFileSync(
      join(dir, 'unet', name),
      encodeSafetensors(part.map((e) => ({ ...e, data: bytes.subarray(e.begin, e.end) }))),
    );
    for (const e of part) weightMap[e.name] = name;
  });
  writeFileSync(
    join(dir, 'unet/diffusion_pytorch_model.safetensors.index.fp16.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  rmSync(path);
  rmSync(join(dir, `${UNET}.safetensors`));
}

describe('checkpoints by repo id, from the hub’s file listing', () => {
  const hub = useMockHub(() => ({
    ...Object.fromEntries(NETWORK_CASES.map((n) => [`fixtures/${n}`, `${NETWORKS_DIR}${n}`])),
    'fixtures/sd1-fp32': repo('sd1-fp32', 'sd1', (dir) => {
      for (const part of ['unet', 'vae', 'text_encoder'])
        for (const f of readdirSync(join(dir, part))) if (f.includes('.fp16.')) rmSync(join(dir, part, f));
    }),
    'fixtures/sd1-sharded': repo('sd1-sharded', 'sd1', shard),
    // A UNet the listing says is 3 GB (a sparse file: nothing is written or read).
    'fixtures/sd1-huge': repo('sd1-huge', 'sd1', (dir) => truncateSync(join(dir, `${UNET}.fp16.safetensors`), 3e9)),
  }));
  let session: Session;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await openOnMockHub();
  });
  afterAll(async () => {
    await session?.close();
  });

  const add = async (repoId: string) => {
    const { page } = session;
    await page.getByTestId('custom-model-input').fill(repoId);
    await page.getByTestId('load-model').click();
    await expect.poll(() => page.getByTestId('model').inputValue()).toBe(`hub:${repoId}@main`);
  };
  const weightRequests = (from: number) => hub.requests.slice(from).filter((p) => p.endsWith('.safetensors'));

  for (const name of NETWORK_CASES) {
    for (const golden of pipelineGoldens(name)) {
      it(`${name} ${golden.run} by repo id: the fp16 variants the listing names, diffusers’ image within 2/255`, async () => {
        const { page } = session;
        await setSettings(page, { backend: 'wasm' });
        const before = hub.requests.length;
        await add(`fixtures/${name}`);
        await enterGolden(page, golden);
        expect(await generate(page)).toBe('done');
        const { pixels } = await canvasPixels(page);
        const mean = meanAbsDiff(pixels, golden.image);
        console.log(
          `${name} ${golden.run} by repo id: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`,
        );
        expect(mean).toBeLessThanOrEqual(2);
        // Loaded once per model, from the listing: only the fp16 variants, each once, nothing probed.
        const weights = weightRequests(before);
        expect(weights.every((p) => p.endsWith('.fp16.safetensors'))).toBe(true);
        expect(weights.length === 0 || weights.length === 3).toBe(true);
      });
    }
  }

  it('every reference checkpoint loads offline after a reload: from the cache, the hub stopped', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    // Each loaded once with the hub up (cached then), whatever the tests before did.
    for (const name of NETWORK_CASES) {
      const golden = pipelineGoldens(name)[0]!;
      await page.getByTestId(`mode-${golden.settings.mode}`).click();
      await add(`fixtures/${name}`);
      await enterGolden(page, golden);
      expect(await generate(page), name).toBe('done');
    }
    await hub.stop();
    try {
      await page.reload();
      for (const name of NETWORK_CASES) {
        const golden = pipelineGoldens(name)[0]!;
        // The mode first: a model is offered only for the modes it runs.
        await page.getByTestId(`mode-${golden.settings.mode}`).click();
        await page.getByTestId('model').selectOption(`hub:fixtures/${name}@main`);
        await enterGolden(page, golden);
        expect(await generate(page), name).toBe('done');
        expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image), name).toBeLessThanOrEqual(2);
      }
    } finally {
      await hub.start();
      await page.getByTestId('models-panel').locator('summary').click();
    }
  });

  it('an fp32-only repo is converted to fp16 as it downloads: half the bytes kept, still diffusers’ image', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await add('fixtures/sd1-fp32');
    await expect
      .poll(() => page.getByTestId('model-description').textContent())
      .toMatch(/converted to fp16 as they download/);
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    await enterGolden(page, golden);
    expect(await generate(page)).toBe('done');
    const { pixels } = await canvasPixels(page);
    const mean = meanAbsDiff(pixels, golden.image);
    console.log(`sd1 fp32-only, converted: mean ${mean.toFixed(4)}/255, max ${maxAbsDiff(pixels, golden.image)}/255`);
    expect(mean).toBeLessThanOrEqual(2);
    // The cache holds the converted UNet, about half the float32 file.
    const kept = await page.evaluate(async () => {
      const cache = await caches.open('latent-studio-models-v1');
      const keys = (await cache.keys()).map((r) => r.url).filter((u) => u.includes('sd1-fp32') && u.endsWith('#fp16'));
      const unet = keys.find((u) => u.includes('/unet/'));
      return { count: keys.length, unet: unet ? (await (await cache.match(unet))!.arrayBuffer()).byteLength : 0 };
    });
    const full = readFileSync(`${NETWORKS_DIR}sd1/${UNET}.safetensors`).length;
    expect(kept.count).toBe(3);
    expect(kept.unet / full).toBeGreaterThan(0.49);
    expect(kept.unet / full).toBeLessThan(0.51);
  });

  it('a sharded UNet loads from all its shards', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    const before = hub.requests.length;
    await add('fixtures/sd1-sharded');
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    await enterGolden(page, golden);
    expect(await generate(page)).toBe('done');
    expect(meanAbsDiff((await canvasPixels(page)).pixels, golden.image)).toBeLessThanOrEqual(2);
    const shards = weightRequests(before).filter((p) => p.includes('/unet/'));
    expect(shards.map((p) => p.split('/').pop())).toEqual([
      'diffusion_pytorch_model.fp16-00001-of-00002.safetensors',
      'diffusion_pytorch_model.fp16-00002-of-00002.safetensors',
    ]);
  });

  it('a model too big for WASM is refused before the first byte, with the reason', async () => {
    const { page } = session;
    await setSettings(page, { backend: 'wasm' });
    await add('fixtures/sd1-huge');
    const before = hub.requests.length;
    expect(await generate(page)).toBe('error');
    // The 2.79 GiB fp16 UNet would arrive split into shards (safetensors past one buffer), but
    // widened to float32, as WASM computes, the weights pass WASM's 4 GiB.
    await expect
      .poll(() => page.getByTestId('error').textContent())
      .toMatch(/needs about 5\.\d GiB, more than WASM's 4 GiB memory/);
    expect(weightRequests(before)).toEqual([]);
    await page.getByTestId('error').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'hub-listing-too-big.png') });
  });
});
