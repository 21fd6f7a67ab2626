import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchParams, BenchResult } from '../../src/protocol/dev-messages';
import { BASE_URL, openApp, type Session } from './helpers/browser';

/** The benchmark hook the page has with ?bench: the same worker, model and loop as Generate. */
async function bench(session: Session, params: BenchParams): Promise<BenchResult> {
  return session.page.evaluate(
    (p) => (window as unknown as { latentStudioBench(p: BenchParams): Promise<BenchResult> }).latentStudioBench(p),
    params,
  );
}

describe('GPU-resident denoising loop (WebGPU)', () => {
  let session: Session;
  beforeAll(async () => {
    session = await openApp({ url: `${BASE_URL}?bench` });
    await session.page.getByTestId('backend').selectOption('webgpu');
  });
  afterAll(async () => session?.close());

  it('reads nothing latent-sized back during the steps; the plain loop reads the UNet output every step', async () => {
    const small = { width: 64, height: 64, steps: 3, runs: 1 };
    const resident = await bench(session, { ...small, resident: true });
    expect(resident.backend).toBe('webgpu');
    expect(resident.loop).toBe('linear');
    expect(resident.readbacksPerStep).toEqual({ latentSized: 0, all: 0 });
    // The final latents and the decoded image are read once each per image.
    expect(resident.readbacksPerImage).toBeGreaterThanOrEqual(2);

    const plain = await bench(session, { ...small, resident: false });
    expect(plain.loop).toBe('plain');
    expect(plain.readbacksPerStep!.latentSized).toBeGreaterThanOrEqual(1);
    console.info('GPU→CPU reads per step, resident vs plain:', resident.readbacksPerStep, plain.readbacksPerStep);
  });

  it('frees its GPU buffers: the count of live buffers does not grow with more generations', async () => {
    const small = { width: 64, height: 64, steps: 2, resident: true };
    const after = async (runs: number) => (await bench(session, { ...small, runs })).liveGpuBuffers!;
    const first = await after(2);
    const later = await after(10);
    console.info('live GPU buffers after 3 generations and after 11 more:', first, later);
    expect(first).toBeGreaterThan(0);
    // One buffer kept per generation would add at least 11 here.
    expect(later - first).toBeLessThan(11);
  });
});
