/** What a model allows, checked before a run starts: its UNet's input channels and its latent size. */
import { ValidationError } from '../errors';
import { usesGuidance } from './guidance';
import type { Models } from './models';

const UNET_CHANNELS_FOR: Record<'txt2img' | 'img2img' | 'depth2img', number> = { txt2img: 4, img2img: 4, depth2img: 5 };

/** A mode runs only on a UNet with its number of input channels (inpaint takes 9, or 4 by blending). */
export function requireUnetChannels(models: Models, mode: 'txt2img' | 'img2img' | 'inpaint' | 'depth2img'): void {
  const have = models.info.unetInChannels;
  const ok = mode === 'inpaint' ? have === 9 || have === 4 : have === UNET_CHANNELS_FOR[mode];
  if (ok) return;
  const kind =
    have === 9
      ? 'an inpainting model (9-channel UNet)'
      : have === 5
        ? 'a depth model (5-channel UNet)'
        : `a ${have}-channel UNet`;
  const wants =
    mode === 'depth2img'
      ? 'a depth model (5-channel UNet)'
      : mode === 'inpaint'
        ? 'an inpainting (9-channel) or plain (4-channel) UNet'
        : 'a plain 4-channel UNet';
  throw new ValidationError(
    `This model is ${kind}; ${mode} needs ${wants}. Choose another model for this mode.`,
    'model',
  );
}

/**
 * The latent size for an image size, checked against a fixed-size export and against what the
 * runtime can hold at that size (`Models.checkSize`: one GPU buffer binding).
 */
export function latentShape(
  models: Models,
  { width, height, guidanceScale }: { width: number; height: number; guidanceScale: number },
  encodes: boolean,
): [number, number, number, number] {
  const h = height / 8;
  const w = width / 8;
  const fixed = models.info.fixedLatentSize;
  if (fixed && (fixed.height !== h || fixed.width !== w)) {
    throw new ValidationError(
      `This model only makes ${fixed.width * 8}×${fixed.height * 8} images (its export has a fixed size).`,
      'width',
    );
  }
  // Guidance runs the prompt and the negative prompt as one UNet batch where the UNet takes one.
  const guided = usesGuidance(guidanceScale) && models.info.guidanceEmbedDim === null;
  models.checkSize?.({ width, height, unetBatch: guided && models.info.unetBatch !== 1 ? 2 : 1, encodes });
  return [1, models.info.latentChannels, h, w];
}
