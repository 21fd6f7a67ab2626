/**
 * ControlNet on the `sd1` reference checkpoint (onnxruntime-node) against diffusers'
 * StableDiffusionControlNet{,Img2Img}Pipeline runs in tests/fixtures/controlnet/sd1-canny/pipelines:
 * the ControlNet's residuals, the guided UNet, the conditioning scale, the guidance range, guess mode.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { controlImageTensor, type ControlNetModel } from '../../../../src/core/pipeline/control';
import { validateGenerate } from '../../../../src/core/validate';
import { loadCheckpoint, loadControlNet } from '../../../helpers/checkpoint-models';
import { CONTROLNET_DIR, NETWORKS_DIR, readTensorFile } from '../../../helpers/fixtures';
import { readJson } from '../../../helpers/node-models';
import { maxAbsDiff, meanAbsDiff, rgbToRgba } from '../../../helpers/pipeline-goldens';

const DIR = `${CONTROLNET_DIR}sd1-canny/`;

interface ControlGolden {
  prompt: string;
  negative_prompt: string;
  num_inference_steps: number;
  guidance_scale: number;
  strength?: number;
  controlnet_conditioning_scale: number;
  control_guidance_start: number;
  control_guidance_end: number;
  guess_mode: boolean;
  seed: number;
  scheduler: string;
  mode: 'txt2img' | 'img2img';
}

const CONTROL_RUNS = ['controlnet-canny', 'controlnet-scale-end', 'controlnet-guess-mode', 'controlnet-img2img'];

function golden(run: string) {
  const settings = readJson<ControlGolden>(`${DIR}pipelines/${run}.json`);
  const file = readTensorFile(`${DIR}pipelines/${run}.safetensors`);
  const [height, width] = file.shape('image') as [number, number];
  const [ch, cw] = file.shape('control_image') as [number, number];
  return {
    settings,
    width,
    height,
    image: file.u8('image'),
    control: { width: cw, height: ch, pixels: rgbToRgba(file.u8('control_image')) },
    ...(file.has('start_image') ? { start: { width, height, pixels: rgbToRgba(file.u8('start_image')) } } : {}),
  };
}

/** The app's request for a run's settings (the control picture goes through the pipeline options). */
function requestFor(g: ReturnType<typeof golden>) {
  const s = g.settings;
  return validateGenerate({
    prompt: s.prompt,
    negativePrompt: s.negative_prompt,
    guidanceScale: s.guidance_scale,
    steps: s.num_inference_steps,
    seed: s.seed,
    width: g.width,
    height: g.height,
    scheduler: s.scheduler,
    ...(s.mode === 'img2img'
      ? { mode: 'img2img', strength: s.strength, image: { ...g.start!, pixels: g.start!.pixels.buffer } }
      : {}),
  });
}

async function runGolden(run: string, net: ControlNetModel, units = 1) {
  const g = golden(run);
  const s = g.settings;
  const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`, { control: true });
  const request = requestFor(g);
  const image = controlImageTensor(g.control, g.width, g.height);
  const unit = {
    net,
    image,
    scale: s.controlnet_conditioning_scale / units,
    start: s.control_guidance_start,
    end: s.control_guidance_end,
  };
  const control = { units: Array.from({ length: units }, () => unit), guessMode: s.guess_mode };
  const result = await runPipeline(models, request, { schedulerConfig, control });
  return { result, g };
}

describe('ControlNet pipelines against diffusers', () => {
  it.each(CONTROL_RUNS)('%s', async (run) => {
    const net = await loadControlNet(DIR);
    const { result, g } = await runGolden(run, net);
    expect([result.image.width, result.image.height]).toEqual([g.width, g.height]);
    const mean = meanAbsDiff(result.image.pixels, g.image);
    const max = maxAbsDiff(result.image.pixels, g.image);
    // Measured: 0.0002/255 mean at most, 1/255 at most (img2img exact).
    expect(mean).toBeLessThanOrEqual(0.05);
    expect(max).toBeLessThanOrEqual(2);
  });

  it('the ControlNet is what makes the picture: without it the run is far from diffusers', async () => {
    const g = golden('controlnet-canny');
    const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const request = requestFor(g);
    const plain = await runPipeline(models, request, { schedulerConfig });
    // Measured: 27.6/255 mean off diffusers' ControlNet image.
    expect(meanAbsDiff(plain.image.pixels, g.image)).toBeGreaterThan(5);
  });

  it('two ControlNets at half the scale each give the picture of one at the full scale (MultiControlNet sums)', async () => {
    const net = await loadControlNet(DIR);
    const { result, g } = await runGolden('controlnet-canny', net, 2);
    expect(meanAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(2);
  });

  it('the fp16 variant of the weights, computed in float32, gives the same picture within 2/255', async () => {
    const net = await loadControlNet(DIR, { fp16: true });
    const { result, g } = await runGolden('controlnet-canny', net);
    // Measured: 0.018/255 mean, 1/255 at most.
    expect(meanAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(2);
  });
});
