/** diffusers' own pipeline runs (tests/fixtures/networks/<case>/pipelines/) as app requests. */
import { readdirSync } from 'node:fs';
import type { GenerationRequest } from '../../src/core/validate';
import { isSchedulerName } from '../../src/core/schedulers';
import { NETWORKS_DIR, readTensorFile, type NetworkCase } from './fixtures';
import { readJson } from './node-models';

export interface PipelineGolden {
  case: string;
  run: string;
  settings: {
    prompt: string;
    negative_prompt?: string | null;
    height?: number;
    width?: number;
    num_inference_steps: number;
    guidance_scale: number;
    strength?: number;
    seed: number;
    scheduler: string;
    mode: 'txt2img' | 'img2img' | 'inpaint' | 'depth2img';
  };
  /** diffusers' image, uint8 [H, W, 3]. */
  image: Uint8Array;
  width: number;
  height: number;
  startImage?: Uint8Array;
  mask?: Uint8Array;
  depthMap?: Uint8Array;
}

export function pipelineGoldens(name: NetworkCase): PipelineGolden[] {
  return goldensIn(`${NETWORKS_DIR}${name}/pipelines/`, name);
}

/** The runs in one folder of `<run>.json` + `<run>.safetensors` files. */
export function goldensIn(dir: string, name: string): PipelineGolden[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const run = f.replace(/\.json$/, '');
      const file = readTensorFile(`${dir}${run}.safetensors`);
      const [height, width] = file.shape('image') as [number, number];
      return {
        case: name,
        run,
        settings: readJson<PipelineGolden['settings']>(`${dir}${f}`),
        image: file.u8('image'),
        width,
        height,
        ...(file.has('start_image') ? { startImage: file.u8('start_image') } : {}),
        ...(file.has('mask') ? { mask: file.u8('mask') } : {}),
        ...(file.has('depth_map') ? { depthMap: file.u8('depth_map') } : {}),
      };
    });
}

export function rgbToRgba(rgb: Uint8Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    out[j] = rgb[i]!;
    out[j + 1] = rgb[i + 1]!;
    out[j + 2] = rgb[i + 2]!;
    out[j + 3] = 255;
  }
  return out;
}

/** The request the app makes for a golden run (paste-back off: diffusers does not paste back). */
export function goldenRequest(g: PipelineGolden): GenerationRequest {
  const s = g.settings;
  if (!isSchedulerName(s.scheduler)) throw new Error(`unknown scheduler ${s.scheduler}`);
  const base = {
    prompt: s.prompt,
    negativePrompt: s.negative_prompt ?? '',
    guidanceScale: s.guidance_scale,
    steps: s.num_inference_steps,
    seed: BigInt(s.seed),
    width: g.width,
    height: g.height,
    scheduler: s.scheduler,
  };
  if (s.mode === 'txt2img') return { mode: 'txt2img', ...base };
  const image = { width: g.width, height: g.height, pixels: rgbToRgba(g.startImage!) };
  const strength = s.strength ?? 1;
  if (s.mode === 'img2img') return { mode: 'img2img', ...base, strength, image };
  if (s.mode === 'inpaint') {
    const mask = { width: g.width, height: g.height, data: Float32Array.from(g.mask!, (v) => v / 255) };
    return { mode: 'inpaint', ...base, strength, image, mask, pasteBack: false };
  }
  const depth = { width: g.width, height: g.height, data: Float32Array.from(g.depthMap!) };
  return { mode: 'depth2img', ...base, strength, image, depth };
}

/** Mean |a − b| over RGB, in 0..255 units, of an RGBA result against diffusers' RGB image. */
export function meanAbsDiff(rgba: ArrayLike<number>, rgb: Uint8Array): number {
  let sum = 0;
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    sum += Math.abs(rgba[j]! - rgb[i]!) + Math.abs(rgba[j + 1]! - rgb[i + 1]!) + Math.abs(rgba[j + 2]! - rgb[i + 2]!);
  }
  return sum / rgb.length;
}

/** Largest |a − b| over RGB, in 0..255 units. */
export function maxAbsDiff(rgba: ArrayLike<number>, rgb: Uint8Array): number {
  let max = 0;
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(rgba[j + c]! - rgb[i + c]!));
  }
  return max;
}
