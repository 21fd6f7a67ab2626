import { binarize, featherMask, pasteBack, resizeNearest, type Plane } from '../image-ops';
import { TorchGenerator } from '../random';
import { createScheduler, strengthTimesteps } from '../schedulers';
import { scale, tensor } from '../tensor';
import type { InpaintParams } from '../validate';
import { denoiseFromImage, type ImageStart } from './img2img';
import { encodeImageLatents, toChw, type ChwImage } from './image-latents';
import type { Models } from './models';
import {
  latentShape,
  requireUnetChannels,
  throwIfAborted,
  type GenerationResult,
  type PipelineOptions,
} from './txt2img';

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

/**
 * Inpainting, as diffusers' StableDiffusionInpaintPipeline:
 * 1. check inputs 2. encode prompt 3. timesteps for the strength 4. preprocess image and mask
 * 5. initial latents (pure noise at strength 1, else the noised image) 6. mask and masked-image
 * latents 7. denoising loop: a 9-channel UNet sees [latents, mask, masked-image latents]; a 4-channel
 * UNet's latents are replaced outside the mask by the re-noised original after every step 8. decode
 * 9. (ours, optional) paste the original pixels back outside the feathered mask.
 */
export async function inpaint(
  models: Models,
  params: InpaintParams,
  options: PipelineOptions,
): Promise<GenerationResult> {
  requireUnetChannels(models, 'inpaint');
  const shape = latentShape(models, params.width, params.height);
  throwIfAborted(options.signal);
  const nineChannel = models.info.unetInChannels === 9;
  const generator = new TorchGenerator(params.seed);
  const scheduler = createScheduler(params.scheduler, options.schedulerConfig);
  const timesteps = strengthTimesteps(scheduler, params.steps, params.strength);
  const strengthMax = params.strength === 1;

  const image = toChw(params.image);
  const mask = prepareMask(params.mask, params.width, params.height);

  // Same generator order as diffusers: image latents (when needed), the noise, then the masked image.
  let imageLatents: Float32Array | null = null;
  let source: ImageStart['source'] = 'export-sampled';
  if (!nineChannel || !strengthMax) {
    ({ latents: imageLatents, source } = await encodeImageLatents(models, image, generator));
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const noise = generator.randn(count);
  const startData =
    strengthMax || !imageLatents
      ? scale(scheduler.initNoiseSigma, noise)
      : scheduler.addNoise(imageLatents, noise, timesteps[0]!);
  const maskLatent = latentMask(mask);
  const masked = await encodeImageLatents(models, maskedImage(image, mask), generator);
  if (!imageLatents) source = masked.source;

  const prepared: ImageStart = {
    scheduler,
    timesteps,
    imageLatents: imageLatents ?? masked.latents,
    noise,
    start: tensor(startData, shape),
    source,
  };
  const original = imageLatents;
  const extras = nineChannel
    ? { condition: inpaintCondition(maskLatent, masked.latents) }
    : {
        afterStep: (latents: Float32Array, i: number): Float32Array => {
          const next = timesteps[i + 1];
          const proper = next === undefined ? original! : scheduler.addNoise(original!, noise, next);
          const plane = maskLatent.data.length;
          const out = new Float32Array(latents.length);
          for (let k = 0; k < latents.length; k++) {
            const m = maskLatent.data[k % plane]!;
            out[k] = (1 - m) * proper[k]! + m * latents[k]!;
          }
          return out;
        },
      };
  const result = await denoiseFromImage(models, params, prepared, generator, options, extras);
  if (!params.pasteBack) return result;
  const weight = featherMask(mask, featherRadius(params.width, params.height));
  return { ...result, image: pasteBack(params.image, result.image, weight) };
}
