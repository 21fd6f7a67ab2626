/**
 * A1111's hires fix on the `sd1` reference checkpoint (onnxruntime-node) against the same passes
 * composed from diffusers' own pipelines (python/goldens/hires_fix.py): txt2img, the upscale, then
 * img2img with the same seed.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { validateGenerate } from '../../../../src/core/validate';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { NETWORKS_DIR } from '../../../helpers/fixtures';
import { GOLDENS_DIR } from '../../../helpers/goldens';
import { readJson } from '../../../helpers/node-models';
import { maxAbsDiff, meanAbsDiff } from '../../../helpers/pipeline-goldens';
import { readTensorFile } from '../../../helpers/fixtures';

interface HiresRun {
  run: string;
  prompt: string;
  negative_prompt: string;
  width: number;
  height: number;
  num_inference_steps: number;
  guidance_scale: number;
  upscaler: 'latent' | 'lanczos';
  scale: number;
  hires_steps: number;
  denoise: number;
  scheduler: string;
  seed: number;
}

describe('hires fix', () => {
  it.each(['latent', 'lanczos'])("%s upscaler: diffusers' txt2img → upscale → img2img", async (run) => {
    const g = readJson<HiresRun>(`${GOLDENS_DIR}hires/${run}.json`);
    const expected = readTensorFile(`${GOLDENS_DIR}hires/${run}.safetensors`);
    const [height, width] = expected.shape('image') as [number, number];
    const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const request = validateGenerate({
      prompt: g.prompt,
      negativePrompt: g.negative_prompt,
      guidanceScale: g.guidance_scale,
      steps: g.num_inference_steps,
      seed: g.seed,
      width: g.width,
      height: g.height,
      scheduler: g.scheduler,
      hires: { scale: g.scale, steps: g.hires_steps, denoise: g.denoise, upscaler: g.upscaler },
    });
    const result = await runPipeline(models, request, { schedulerConfig });
    expect([result.image.width, result.image.height]).toEqual([width, height]);
    // Measured: latent 0.0001/255 mean, Lanczos 0.010/255 mean (PIL rounds in fixed point); 1/255 at most.
    expect(meanAbsDiff(result.image.pixels, expected.u8('image'))).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, expected.u8('image'))).toBeLessThanOrEqual(1);
  });

  it('refuses a final size past the limit and a denoise that leaves no step, naming the setting', () => {
    const base = { prompt: 'p', guidanceScale: 7, steps: 4, seed: 1, width: 1024, height: 512, scheduler: 'ddim' };
    const hires = { scale: 2.5, steps: 0, denoise: 0.5, upscaler: 'latent' };
    expect(() => validateGenerate({ ...base, hires })).toThrow(/2560×1280, past the 2048-pixel limit/);
    expect(() => validateGenerate({ ...base, hires: { ...hires, scale: 1.5, denoise: 0.2 } })).toThrow(
      /leaves no step for the second pass/,
    );
    expect(() => validateGenerate({ ...base, hires: { ...hires, upscaler: 'ESRGAN' } })).toThrow(/latent, lanczos/);
  });
});
