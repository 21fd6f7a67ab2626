/**
 * Every diffusers SDXL pipeline run in the reference data (StableDiffusionXL, XLImg2Img,
 * XLInpaint; SDXL-Turbo's), made by the app's pipelines on networks built from the checkpoints'
 * safetensors (onnxruntime-node): the same images as diffusers.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { encodePrompt } from '../../../../src/core/pipeline/prompt';
import { FIXTURES_DIR, SDXL_CASES, SDXL_DIR, readTensorFile } from '../../../helpers/fixtures';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import {
  goldenRequest,
  goldensIn,
  maxAbsDiff,
  meanAbsDiff,
  type PipelineGolden,
} from '../../../helpers/pipeline-goldens';
import { normRelativeError } from '../../../helpers/goldens';

/**
 * The shared runs with an empty negative prompt were made with `negative_prompt=""`, which diffusers
 * encodes (it zeros only for None): they are what a checkpoint whose model_index.json says
 * force_zeros_for_empty_prompt false gives. The app's empty box is diffusers' None (zeros), checked
 * against python/goldens/sdxl_zeros.py's runs below.
 */
const encodesEmpty = (g: PipelineGolden) => g.settings.negative_prompt === '';

describe.each(SDXL_CASES)('%s checkpoint: diffusers SDXL pipelines', (name) => {
  for (const fp16 of [false, true]) {
    it.each(goldensIn(`${SDXL_DIR}${name}/pipelines/`, name).map((g) => [g.run, g] as const))(
      `%s with ${fp16 ? 'fp16' : 'fp32'} weights is diffusers' image`,
      async (_run, golden) => {
        const { models, schedulerConfig } = await loadCheckpoint(`${SDXL_DIR}${name}/`, {
          fp16,
          ...(encodesEmpty(golden) ? { zerosForEmptyNegative: false } : {}),
        });
        const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
        expect([result.image.width, result.image.height]).toEqual([golden.width, golden.height]);
        expect(meanAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 0.5 : 0.05);
        expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 2 : 1);
      },
    );
  }
});

describe("an empty negative prompt is zeros, as diffusers' default (negative_prompt None)", () => {
  const dir = `${FIXTURES_DIR}goldens/sdxl-zeros/`;
  it.each(goldensIn(dir, 'sdxl-zeros').map((g) => [g.run, g] as const))('%s', async (run, golden) => {
    const checkpoint = run.startsWith('sdxl-inpaint') ? 'sdxl-inpaint' : 'sdxl';
    const { models, schedulerConfig } = await loadCheckpoint(`${SDXL_DIR}${checkpoint}/`);
    expect(models.info.zerosForEmptyNegative).toBe(true);
    const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
    expect(meanAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(1);
  });
});

describe('SDXL prompt encoding', () => {
  const io = readTensorFile(`${SDXL_DIR}sdxl/io.safetensors`);

  it("is both encoders' penultimate states side by side and the second's projection, as diffusers'", async () => {
    const { models } = await loadCheckpoint(`${SDXL_DIR}sdxl/`);
    // io's first row is the prompt below through both tokenizers (the second pads with "!").
    const e = await encodePrompt(models, {
      prompt: 'a red bicycle leaning on a wall',
      negativePrompt: 'x',
      guidanceScale: 5,
      promptSyntax: 'plain',
    });
    const row = (name: string, width: number) => io.floats(name).slice(0, 77 * width);
    expect(e.cond.dims).toEqual([1, 77, 40]);
    expect(normRelativeError(e.cond.data, row('unet.encoder_hidden_states', 40))).toBeLessThan(1e-5);
    expect(normRelativeError(e.pooled!.cond.data, row('text_2.text_embeds', 20).slice(0, 20))).toBeLessThan(1e-5);
  });

  it('an empty negative prompt is zeros (force_zeros_for_empty_prompt); a written one is encoded', async () => {
    const { models } = await loadCheckpoint(`${SDXL_DIR}sdxl/`);
    const empty = await encodePrompt(models, { prompt: 'a bicycle', negativePrompt: '', guidanceScale: 5 });
    expect(empty.uncond!.data.every((v) => v === 0)).toBe(true);
    expect(empty.pooled!.uncond!.data.every((v) => v === 0)).toBe(true);
    const written = await encodePrompt(models, { prompt: 'a bicycle', negativePrompt: 'blurry', guidanceScale: 5 });
    expect(written.uncond!.data.some((v) => v !== 0)).toBe(true);
    expect(written.pooled!.uncond!.data.some((v) => v !== 0)).toBe(true);
    // Unguided (Turbo's guidance 0): the conditional half alone.
    const turbo = await encodePrompt(models, { prompt: 'a bicycle', negativePrompt: '', guidanceScale: 0 });
    expect([turbo.uncond, turbo.pooled!.uncond]).toEqual([null, null]);
  });
});
