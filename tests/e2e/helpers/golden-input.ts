/** A diffusers pipeline run's settings and inputs, put into the app as a person would. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { rgbToRgba, type PipelineGolden } from '../../helpers/pipeline-goldens';
import { encodePng } from '../../../scripts/node-gpu/png';
import { setRange, setSettings } from './app';
import { BASE_URL, openApp, type Session } from './browser';
import { HUB_URL } from './hub';

/** Where the start images, masks and depth maps handed to file inputs are written. */
const FILES = join(process.cwd(), 'test-results', 'files');

const grey = (plane: Uint8Array) => {
  const rgba = new Uint8Array(plane.length * 4);
  plane.forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return rgba;
};

export async function enterGolden(page: Page, g: PipelineGolden): Promise<void> {
  mkdirSync(FILES, { recursive: true });
  const s = g.settings;
  const mode = s.mode;
  await page.getByTestId(`mode-${mode}`).click();
  await setSettings(page, {
    prompt: s.prompt,
    negativePrompt: s.negative_prompt ?? '',
    guidance: s.guidance_scale,
    steps: s.num_inference_steps,
    seed: String(s.seed),
    width: g.width,
    height: g.height,
    scheduler: s.scheduler,
  });
  if (mode === 'txt2img') return;
  const write = (name: string, rgba: Uint8Array) => {
    const path = join(FILES, `${g.case}-${g.run}-${name}.png`);
    writeFileSync(path, encodePng(g.width, g.height, rgba));
    return path;
  };
  await page
    .getByTestId('init-image-input')
    .setInputFiles(write('start', rgbToRgba(g.startImage!) as unknown as Uint8Array));
  await expect
    .poll(() => page.getByTestId('init-image-info').textContent())
    .toMatch(new RegExp(`${g.width}×${g.height}`));
  if (s.strength !== undefined) await setRange(page, 'strength', s.strength);
  if (mode === 'inpaint') {
    await page.getByTestId('mask-upload').setInputFiles(write('mask', grey(g.mask!)));
    if (await page.getByTestId('paste-back').isChecked()) await page.getByTestId('paste-back').uncheck();
  }
  if (mode === 'depth2img') {
    await page.getByTestId('depth-input').setInputFiles(write('depth', grey(g.depthMap!)));
    await expect.poll(() => page.getByTestId('depth-map').getAttribute('data-source')).toBe('uploaded');
  }
}

/**
 * The page with the mock hub as its hub (`?hub=`), so reference checkpoints load by repo id, and
 * its models panel open. `query`: more of the page's address (`&bench`, the benchmark's hooks).
 */
export async function openOnMockHub(query = ''): Promise<Session> {
  const session = await openApp({
    url: `${BASE_URL}?hub=${encodeURIComponent(HUB_URL)}${query}`,
  });
  session.page.on('pageerror', (e) => console.error('page error:', e.message));
  await session.page.getByTestId('models-panel').locator('summary').click();
  return session;
}
