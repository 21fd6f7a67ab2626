/** diffusers' ControlNet pipeline runs (tests/fixtures/controlnet/sd1-canny/pipelines) and the app's runs of them. */
import { runPipeline } from '../../src/core/pipeline/generate';
import { controlImageTensor, type ControlNetModel } from '../../src/core/pipeline/control';
import { validateGenerate } from '../../src/core/validate';
import { loadCheckpoint } from './checkpoint-models';
import { CONTROLNET_DIR, NETWORKS_DIR, readTensorFile } from './fixtures';
import { readJson } from './node-models';
import { rgbToRgba } from './pipeline-goldens';

export const CONTROLNET_SD1 = `${CONTROLNET_DIR}sd1-canny/`;

interface ControlGolden {
  prompt: string;
  negative_prompt: string;
  preprocessor: 'canny' | 'none';
  canny_low?: number;
  canny_high?: number;
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

export const CONTROL_RUNS = ['controlnet-canny', 'controlnet-scale-end', 'controlnet-guess-mode', 'controlnet-img2img'];

export function controlGolden(run: string) {
  const settings = readJson<ControlGolden>(`${CONTROLNET_SD1}pipelines/${run}.json`);
  const file = readTensorFile(`${CONTROLNET_SD1}pipelines/${run}.safetensors`);
  const [height, width] = file.shape('image') as [number, number];
  const [ch, cw] = file.shape('control_image') as [number, number];
  return {
    settings,
    width,
    height,
    image: file.u8('image'),
    control: { width: cw, height: ch, pixels: rgbToRgba(file.u8('control_image')) },
    controlRgb: file.u8('control_image'),
    ...(file.has('source_image') ? { sourceRgb: file.u8('source_image') } : {}),
    ...(file.has('start_image')
      ? { start: { width, height, pixels: rgbToRgba(file.u8('start_image')) }, startRgb: file.u8('start_image') }
      : {}),
  };
}

/** The app's request for a run's settings (the control picture goes through the pipeline options). */
export function controlRequest(g: ReturnType<typeof controlGolden>) {
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

export async function runControlGolden(run: string, net: ControlNetModel, units = 1) {
  const g = controlGolden(run);
  const s = g.settings;
  const { models, schedulerConfig } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`, { control: true });
  const request = controlRequest(g);
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
