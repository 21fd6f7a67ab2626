/**
 * Every diffusers pipeline run in the reference data, made by the app's pipelines on networks built
 * from the checkpoints' safetensors (onnxruntime-node): the same images as diffusers.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { NETWORK_CASES, NETWORKS_DIR } from '../../../helpers/fixtures';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { goldenRequest, maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../../../helpers/pipeline-goldens';

describe.each(NETWORK_CASES)('%s checkpoint: diffusers pipelines', (name) => {
  for (const fp16 of [false, true]) {
    it.each(pipelineGoldens(name).map((g) => [g.run, g] as const))(
      `%s with ${fp16 ? 'fp16' : 'fp32'} weights is diffusers' image`,
      async (_run, golden) => {
        const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}${name}/`, { fp16 });
        const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
        expect([result.image.width, result.image.height]).toEqual([golden.width, golden.height]);
        // Measured: fp32 ≤ 0.0002/255 mean and 1/255 at most; the fp16 variant (diffusers' images
        // were made with fp32 weights) 0.04–0.08/255 mean, 1/255 at most.
        expect(meanAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 0.25 : 0.05);
        expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 2 : 1);
      },
    );
  }
});
