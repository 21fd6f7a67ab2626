/**
 * ControlNet in float16 on the test bed (onnxruntime-web's WebGPU EP on lavapipe): the `sd1`
 * checkpoint with a UNet that takes residuals and the tiny ControlNet, both built as the app builds
 * them for a GPU with shader-f16, within 3/255 mean of diffusers' float32 image.
 */
import { describe, expect, it } from 'vitest';
import { controlImageTensor } from '../../src/core/pipeline/control';
import { runPipeline } from '../../src/core/pipeline/generate';
import { loadNodeControlNet, loadNodeModel } from '../../scripts/generate/load-model';
import { CONTROLNET_SD1, controlGolden, controlRequest } from '../helpers/controlnet-goldens';
import { NETWORKS_DIR } from '../helpers/fixtures';
import { meanAbsDiff } from '../helpers/pipeline-goldens';
import { testBed } from '../helpers/test-bed';

describe('ControlNet in float16 on WebGPU', () => {
  it('controlnet-canny within 3/255 of diffusers', async () => {
    const bed = await testBed();
    const runtime = {
      ort: bed.ort,
      create: bed.session,
      backend: 'webgpu' as const,
      precision: 'float16' as const,
      controlResiduals: true,
    };
    const model = await loadNodeModel(`${NETWORKS_DIR}sd1`, runtime);
    expect([model.precision.unet, model.models.info.takesControl]).toEqual(['float16', true]);
    const net = await loadNodeControlNet(CONTROLNET_SD1, runtime);
    const g = controlGolden('controlnet-canny');
    const s = g.settings;
    const control = {
      units: [
        {
          net,
          image: controlImageTensor(g.control, g.width, g.height),
          scale: s.controlnet_conditioning_scale,
          start: s.control_guidance_start,
          end: s.control_guidance_end,
        },
      ],
      guessMode: s.guess_mode,
    };
    const result = await runPipeline(model.models, controlRequest(g), {
      schedulerConfig: model.schedulerConfig,
      control,
    });
    const mean = meanAbsDiff(result.image.pixels, g.image);
    console.log(`controlnet-canny: fp16 on lavapipe ${mean.toFixed(3)}/255 mean from diffusers`);
    // Measured: 0.706/255 mean (float32 on the CPU: 0.0002/255).
    expect(mean).toBeLessThanOrEqual(3);
  }, 600_000);
});
