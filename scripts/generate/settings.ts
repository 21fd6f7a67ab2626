/**
 * A run's settings file in diffusers' argument names (`mode`, `prompt`, `negative_prompt`,
 * `num_inference_steps`, `guidance_scale`, `seed`, `scheduler`, `strength`, `height`, `width`), as the
 * reference `pipelines/*.json` files have them, checked by the app's own validation.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../src/core/errors';
import type { GenerationSettings } from '../../src/core/generation-settings';
import { isRecord } from '../../src/core/json';
import { validateGenerate, type GenerationRequest } from '../../src/core/validate';

interface Picture {
  path: string;
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

const KNOWN = new Set([
  'mode',
  'prompt',
  'negative_prompt',
  'num_inference_steps',
  'guidance_scale',
  'seed',
  'scheduler',
  'strength',
  'height',
  'width',
]);

/** One channel of a picture (the red one: grey PNGs have it equal to the others). */
function channel(p: Picture): Uint8Array {
  return Uint8Array.from({ length: p.width * p.height }, (_, i) => p.rgba[i * 4]!);
}

export function readRunSettings(
  path: string,
  pictures: { initImage: Picture | undefined; mask: Picture | undefined; depth: Picture | undefined },
): { request: GenerationRequest; settings: Omit<GenerationSettings, 'model'> } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      `${path} could not be read as JSON (${error instanceof Error ? error.message : String(error)}).`,
      'settings',
    );
  }
  if (!isRecord(raw)) throw new ValidationError(`${path} must hold a JSON object of settings.`, 'settings');
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k));
  if (unknown.length) {
    throw new ValidationError(
      `${path}: unknown setting ${unknown.join(', ')} (known: ${[...KNOWN].join(', ')}).`,
      'settings',
    );
  }
  const { initImage, mask, depth } = pictures;
  const width = raw['width'] ?? initImage?.width ?? 512;
  const height = raw['height'] ?? initImage?.height ?? 512;
  const seed = raw['seed'];
  const request = validateGenerate({
    mode: raw['mode'] ?? 'txt2img',
    prompt: raw['prompt'],
    negativePrompt: raw['negative_prompt'] ?? '',
    guidanceScale: raw['guidance_scale'] ?? 7.5,
    steps: raw['num_inference_steps'] ?? 50,
    seed: typeof seed === 'number' ? String(seed) : seed,
    width,
    height,
    scheduler: raw['scheduler'],
    ...(raw['strength'] !== undefined ? { strength: raw['strength'] } : {}),
    ...(initImage
      ? { image: { width: initImage.width, height: initImage.height, pixels: initImage.rgba.slice().buffer } }
      : {}),
    ...(mask ? { mask: { width: mask.width, height: mask.height, pixels: channel(mask).buffer } } : {}),
    ...(depth
      ? { depth: { width: depth.width, height: depth.height, data: Float32Array.from(channel(depth)).buffer } }
      : {}),
    // diffusers does not paste the original back outside the mask.
    pasteBack: false,
  });
  return {
    request,
    settings: {
      prompt: request.prompt,
      negativePrompt: request.negativePrompt,
      guidanceScale: request.guidanceScale,
      steps: request.steps,
      seed: request.seed.toString(),
      width: request.width,
      height: request.height,
      scheduler: request.scheduler,
      mode: request.mode,
      ...(request.mode !== 'txt2img' ? { strength: request.strength } : {}),
    },
  };
}
