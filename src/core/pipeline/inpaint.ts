import { binarize, featherMask, pasteBack, resizeNearest, type Plane } from '../image/planes';
import { TorchGenerator } from '../math/random';
import type { Scheduler } from '../schedulers';
import { scale, tensor } from '../math/tensor';
import type { InpaintParams } from '../validate';
import { latentShape, requireUnetChannels } from './checks';
import { decodeStep } from './decode';
import { denoise } from './denoise';
import { strengthSchedule } from './img2img';
import { encodeImageLatents, toChw, type ChwImage, type EncoderLatents } from './image-latents';
import type { Models } from './models';
import { throwIfAborted, type GenerationResult, type PipelineOptions } from './options';
import { encodePrompt } from './prompt';

/** The mask diffusers' processor makes: at image size, binarized at 0.5 (1 = repaint). */
export function prepareMask(mask: Plane, width: number, height: number): Plane {
  const sized = mask.width === width && mask.height === height ? mask : resizeNearest(mask, width, height);
  return binarize(sized);
}

/** `image * (mask < 0.5)`: the image with the repaint area set to 0 (mid grey in [−1, 1]). */
export function maskedImage(image: ChwImage, mask: Plane): ChwImage {
  const plane = image.width * image.height;
  const data = new Float32Array(image.data.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) data[c * plane + i] = mask.data[i]! < 0.5 ? image.data[c * plane + i]! : 0;
  }
  return { ...image, data };
}

/** The mask at latent size, as `F.interpolate(mask, size=(h/8, w/8))` (nearest). */
export function latentMask(mask: Plane): Plane {
  return resizeNearest(mask, mask.width / 8, mask.height / 8);
}

/** The 9-channel UNet's conditioning in diffusers' order: mask (1 channel), then masked-image latents (4). */
export function inpaintCondition(maskLatent: Plane, maskedImageLatents: Float32Array): Float32Array {
  const out = new Float32Array(maskLatent.data.length + maskedImageLatents.length);
  out.set(maskLatent.data, 0);
  out.set(maskedImageLatents, maskLatent.data.length);
  return out;
}

/** Feather radius for paste-back: 4 px at 512, never under 1. */
export function featherRadius(width: number, height: number): number {
  return Math.max(1, Math.round(Math.max(width, height) / 128));
}

/** The 4-channel UNet's inpainting: after every step, the re-noised original outside the mask. */
function blendOutsideMask(
  original: Float32Array,
  noise: Float32Array,
  maskLatent: Plane,
  schedule: { scheduler: Scheduler; timesteps: readonly number[] },
): (latents: Float32Array, index: number) => Float32Array {
  const plane = maskLatent.data.length;
  return (latents, i) => {
    const next = schedule.timesteps[i + 1];
    const proper = next === undefined ? original : schedule.scheduler.addNoise(original, noise, next);
    const out = new Float32Array(latents.length);
    for (let k = 0; k < latents.length; k++) {
      const m = maskLatent.data[k % plane]!;
      out[k] = (1 - m) * proper[k]! + m * latents[k]!;
    }
    return out;
  };
}

/**
 * Inpainting, as diffusers' StableDiffusionInpaintPipeline. A 9-channel UNet sees [latents, mask,
 * masked-image latents]; a 4-channel UNet's latents are replaced outside the mask by the re-noised
 * original after every step. Step 9, pasting the original back outside the feathered mask, is ours.
 */
export async function inpaint(
  models: Models,
  params: InpaintParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  // 1. Check inputs.
  requireUnetChannels(models, 'inpaint');
  const shape = latentShape(models, params, true);
  throwIfAborted(options.signal);
  const nineChannel = models.info.unetInChannels === 9;

  // 2. Encode the prompt.
  let mark = performance.now();
  const schedule = strengthSchedule(params, options.schedulerConfig);
  const { scheduler, timesteps } = schedule;
  options.onProgress?.({ phase: 'encode', step: 0, totalSteps: timesteps.length });
  const embeddings = await encodePrompt(models, params);
  const encodeMs = performance.now() - mark;

  // 3. Timesteps for the strength (above); 4. preprocess the image and the mask.
  const strengthMax = params.strength === 1;
  const image = toChw(params.image);
  const mask = prepareMask(params.mask, params.width, params.height);

  // 5. Initial latents: pure noise at strength 1, else the noised image. The generator is drawn in
  // diffusers' order: image latents (when needed), the noise, then the masked image.
  const generator = new TorchGenerator(params.seed);
  let imageLatents: Float32Array | null = null;
  let source: EncoderLatents = 'export-sampled';
  if (!nineChannel || !strengthMax) {
    ({ latents: imageLatents, source } = await encodeImageLatents(models, image, generator));
  }
  const noise = generator.randn(shape.reduce((a, b) => a * b, 1));
  const start = tensor(
    strengthMax || !imageLatents
      ? scale(scheduler.initNoiseSigma, noise)
      : scheduler.addNoise(imageLatents, noise, timesteps[0]!),
    shape,
  );

  // 6. The mask at latent size and the masked image's latents.
  const maskLatent = latentMask(mask);
  const masked = await encodeImageLatents(models, maskedImage(image, mask), generator);
  if (!imageLatents) source = masked.source;

  // 7. Denoising loop.
  mark = performance.now();
  const latents = await denoise({
    models,
    scheduler,
    timesteps,
    start,
    embeddings,
    guidanceScale: params.guidanceScale,
    generator,
    options,
    ...(nineChannel
      ? { condition: inpaintCondition(maskLatent, masked.latents) }
      : { afterStep: blendOutsideMask(imageLatents!, noise, maskLatent, schedule) }),
  });
  const denoiseMs = performance.now() - mark;

  // 8. Decode.
  const { image: decoded, decodeMs } = await decodeStep(models, latents, options, timesteps.length);

  // 9. Paste the original back outside the feathered mask (the person's choice).
  const weight = params.pasteBack ? featherMask(mask, featherRadius(params.width, params.height)) : null;
  return {
    image: weight ? pasteBack(params.image, decoded, weight) : decoded,
    truncated: embeddings.truncated,
    encoderLatents: source,
    timings: { encodeMs, denoiseMs, decodeMs },
  };
}
