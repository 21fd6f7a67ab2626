/**
 * ControlNet on the `sd1` reference checkpoint (onnxruntime-node) against diffusers'
 * StableDiffusionControlNet{,Img2Img}Pipeline runs in tests/fixtures/controlnet/sd1-canny/pipelines:
 * the ControlNet's residuals, the guided UNet, the conditioning scale, the guidance range, guess mode.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { loadCheckpoint, loadControlNet } from '../../../helpers/checkpoint-models';
import {
  CONTROL_RUNS,
  CONTROLNET_SD1,
  controlGolden,
  controlRequest,
  runControlGolden,
} from '../../../helpers/controlnet-goldens';
import { NETWORKS_DIR } from '../../../helpers/fixtures';
import { maxAbsDiff, meanAbsDiff } from '../../../helpers/pipeline-goldens';

describe('ControlNet pipelines against diffusers', () => {
  it.each(CONTROL_RUNS)('%s', async (run) => {
    const net = await loadControlNet(CONTROLNET_SD1);
    const { result, g } = await runControlGolden(run, net);
    expect([result.image.width, result.image.height]).toEqual([g.width, g.height]);
    const mean = meanAbsDiff(result.image.pixels, g.image);
    const max = maxAbsDiff(result.image.pixels, g.image);
    // Measured: 0.0002/255 mean at most, 1/255 at most (img2img exact).
    expect(mean).toBeLessThanOrEqual(0.05);
    expect(max).toBeLessThanOrEqual(2);
  });

  it('the ControlNet is what makes the picture: without it the run is far from diffusers', async () => {
    const g = controlGolden('controlnet-canny');
    const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const request = controlRequest(g);
    const plain = await runPipeline(models, request, { schedulerConfig });
    // Measured: 27.6/255 mean off diffusers' ControlNet image.
    expect(meanAbsDiff(plain.image.pixels, g.image)).toBeGreaterThan(5);
  });

  it('two ControlNets at half the scale each give the picture of one at the full scale (MultiControlNet sums)', async () => {
    const net = await loadControlNet(CONTROLNET_SD1);
    const { result, g } = await runControlGolden('controlnet-canny', net, 2);
    expect(meanAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(2);
  });

  it('the fp16 variant of the weights, computed in float32, gives the same picture within 2/255', async () => {
    const net = await loadControlNet(CONTROLNET_SD1, { fp16: true });
    const { result, g } = await runControlGolden('controlnet-canny', net);
    // Measured: 0.018/255 mean, 1/255 at most.
    expect(meanAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(2);
  });
});
