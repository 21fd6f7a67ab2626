/**
 * Cancel stops a run within one step of the click, on a real-architecture UNet whose steps are long
 * against the page↔worker message delay (so "the step at the click" means the same on both sides).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { generate, setSettings } from './helpers/app';
import { openApp, type Session } from './helpers/browser';
import { hubFolderUrl, useMockHub } from './helpers/hub';
import { cancelSteps, recordSteps, statusOf, waitForStep } from './helpers/steps';

const SD1_URL = hubFolderUrl('fixtures/sd1');

describe('cancel', () => {
  useMockHub(() => ({ 'fixtures/sd1': `${NETWORKS_DIR}sd1` }));
  let session: Session;

  beforeAll(async () => {
    session = await openApp();
    session.page.on('pageerror', (e) => console.error('page error:', e.message));
    await recordSteps(session);
    await session.page.reload();
    await session.page.getByTestId('models-panel').locator('summary').click();
  });
  afterAll(async () => session?.close());

  it('cancel on WASM stops within one step of the click (a real-architecture UNet, 900 steps)', async () => {
    const { page } = session;
    // The sd1 checkpoint at 256×256: steps of tens of ms, long against the page↔worker message delay,
    // so "the step at the click" means the same on both sides.
    await page.getByTestId('custom-model-input').fill(SD1_URL);
    await page.getByTestId('load-model').click();
    await setSettings(page, { backend: 'wasm', width: 256, height: 256, steps: 900, prompt: 'a flooble', seed: '3' });
    await page.getByTestId('generate').click();
    await waitForStep(session, 55, 120_000);
    await page.getByTestId('cancel').click();
    await expect.poll(() => statusOf(session), { timeout: 30_000 }).toBe('cancelled');
    const { atClick, stopped } = await cancelSteps(session);
    console.info(
      `cancel on WASM: the page had step ${atClick} when it sent cancel; the last step was ${stopped} of 900`,
    );
    expect(atClick).toBeGreaterThanOrEqual(55);
    expect(stopped - atClick).toBeLessThanOrEqual(1);
    await setSettings(page, { width: 64, height: 64, steps: 3 });
    expect(await generate(page)).toBe('done');
    await page.getByTestId('model').selectOption('tiny-sd');
  });

  it('cancel stops a compare grid on WASM within one step, keeping the cells done', async () => {
    const { page } = session;
    // The sd1 checkpoint at 256×256: steps long against the page↔worker message delay (see above).
    await page.getByTestId('custom-model-input').fill(SD1_URL);
    await page.getByTestId('load-model').click();
    await page.getByTestId('mode-compare').click();
    await page.getByTestId('compare-scales').fill('1.1, 8, 12');
    // 40 steps a cell: the first cell done, the second cancelled at its step 20 (at 120 a cell, the
    // first alone took about 20 s of the test's 30).
    await setSettings(page, { backend: 'wasm', width: 256, height: 256, steps: 40, seed: '4' });
    await page.getByTestId('generate').click();
    // Into the second cell's steps (each cell reports its own steps from 1).
    await expect
      .poll(() => page.locator('[data-testid=compare-cell][data-done=true]').count(), { timeout: 120_000 })
      .toBe(1);
    await waitForStep(session, 20, 60_000);
    await page.getByTestId('cancel').click();
    await expect.poll(() => statusOf(session), { timeout: 30_000 }).toBe('cancelled');
    const { atClick, stopped } = await cancelSteps(session);
    console.info(`compare cancel: step ${atClick} of cell 2 at the click, stopped at ${stopped}`);
    expect(stopped - atClick).toBeLessThanOrEqual(1);
    expect(await page.locator('[data-testid=compare-cell][data-done=true]').count()).toBe(1);
    await page.getByTestId('mode-txt2img').click();
    await page.getByTestId('model').selectOption('tiny-sd');
  });
});
