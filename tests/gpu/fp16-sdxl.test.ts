/**
 * The `sdxl` reference runs in float16 on the test bed (Dawn + lavapipe with shader-f16), through
 * `npm run generate`'s loader: UNet and text encoders in float16, the VAE in float32 (SDXL's
 * force_upcast, as diffusers' SDXL pipelines), within 3/255 of diffusers' float32 images.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/core/pipeline/generate';
import { loadNodeModel, type LoadedNodeModel } from '../../scripts/generate/load-model';
import { FIXTURES_DIR, SDXL_DIR } from '../helpers/fixtures';
import { goldenRequest, goldensIn, meanAbsDiff, type PipelineGolden } from '../helpers/pipeline-goldens';
import { testBed } from '../helpers/test-bed';

/** The shared runs (those with an empty negative prompt made with "", encoded: see pipelines.test.ts) and diffusers' zeros runs. */
const RUNS: PipelineGolden[] = [
  ...goldensIn(`${SDXL_DIR}sdxl/pipelines/`, 'sdxl').filter(
    (g) => g.settings.negative_prompt !== '' || g.settings.guidance_scale <= 1,
  ),
  ...goldensIn(`${FIXTURES_DIR}goldens/sdxl-zeros/`, 'sdxl-zeros').filter((g) => !g.run.startsWith('sdxl-inpaint')),
];

describe('sdxl pipelines in float16 on WebGPU', () => {
  let model: LoadedNodeModel;
  beforeAll(async () => {
    const bed = await testBed();
    model = await loadNodeModel(`${SDXL_DIR}sdxl`, {
      ort: bed.ort,
      create: bed.session,
      backend: 'webgpu',
      precision: 'float16',
    });
    expect(model.precision).toEqual({ textEncoder: 'float16', unet: 'float16', vae: 'float32' });
  }, 600_000);

  it.each(RUNS.map((g) => [g.run, g] as const))('%s within 3/255 of diffusers', async (_run, golden) => {
    const result = await runPipeline(model.models, goldenRequest(golden), { schedulerConfig: model.schedulerConfig });
    const mean = meanAbsDiff(result.image.pixels, golden.image);
    console.log(`sdxl/${golden.run}: fp16 on lavapipe ${mean.toFixed(3)}/255 mean from diffusers`);
    expect(mean).toBeLessThanOrEqual(3);
  });
});
