/**
 * Compare and explore on SDXL: each compare cell is the txt2img image for its settings (guided
 * cells with the zeros of an empty negative prompt, unguided ones without), and explore's VAE round
 * trip and prompt tokens run on SDXL's networks.
 */
import { describe, expect, it } from 'vitest';
import { compareGrid } from '../../../../src/core/pipeline/compare';
import { vaeRoundTrip } from '../../../../src/core/pipeline/explore';
import type { GenerationResult } from '../../../../src/core/pipeline/options';
import { promptTokens } from '../../../../src/core/pipeline/prompt';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import type { Txt2ImgParams } from '../../../../src/core/validate';
import { SDXL_DIR } from '../../../helpers/fixtures';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';

const base: Txt2ImgParams = {
  prompt: 'a red (bicycle:1.2) leaning on a wall',
  negativePrompt: '',
  guidanceScale: 5,
  steps: 4,
  seed: 77n,
  width: 96,
  height: 64,
  scheduler: 'euler',
};

describe('SDXL in compare and explore', () => {
  it('every compare cell is the txt2img image for its settings', async () => {
    const { models, schedulerConfig } = await loadCheckpoint(`${SDXL_DIR}sdxl/`);
    const cells = [
      { guidanceScale: 1, steps: 4, scheduler: 'euler' as const },
      { guidanceScale: 5, steps: 4, scheduler: 'euler' as const },
      { guidanceScale: 9, steps: 3, scheduler: 'euler-ancestral' as const },
    ];
    const results: GenerationResult[] = [];
    await compareGrid(models, base, cells, { schedulerConfig }, (i, r) => void (results[i] = r));
    for (const [i, cell] of cells.entries()) {
      const single = await txt2img(models, { ...base, ...cell }, { schedulerConfig });
      expect(Buffer.from(results[i]!.image.pixels).equals(Buffer.from(single.image.pixels)), `cell ${i}`).toBe(true);
    }
    expect(Buffer.from(results[0]!.image.pixels).equals(Buffer.from(results[1]!.image.pixels))).toBe(false);
  });

  it("explore: the VAE round trip at SDXL's scaling, and the prompt's weighted tokens", async () => {
    const { models } = await loadCheckpoint(`${SDXL_DIR}sdxl/`);
    expect(models.info.vaeScalingFactor).toBe(0.13025);
    const pixels = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : ((i >> 2) % 64) * 4));
    const trip = await vaeRoundTrip(models, { width: 64, height: 64, pixels });
    expect([trip.channels, trip.latentWidth, trip.latentHeight]).toEqual([4, 8, 8]);
    expect(Number.isFinite(trip.psnr)).toBe(true);
    const tokens = await promptTokens(models, base.prompt);
    const weights = Array.from(tokens.chunks[0]!.weights.slice(0, tokens.chunks[0]!.tokens + 2));
    expect(weights.some((w) => Math.abs(w - 1.2) < 1e-6)).toBe(true);
  });
});
