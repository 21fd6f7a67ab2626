/**
 * SDXL's added conditions for one UNet call: the pooled text beside the time ids, as
 * StableDiffusionXLPipeline's `added_cond_kwargs`.
 */
import { tensor, type Tensor } from '../math/tensor';
import type { TextTime } from './models';

/** Pixels per latent: SD's and SDXL's VAEs downsample by 8 (as latentShape assumes). */
const VAE_SCALE = 8;

/**
 * diffusers' `_get_add_time_ids` with the pipelines' defaults: original size = target size = the
 * output size (height, width), crop top-left (0, 0). The output size is the latents' times 8, which
 * also holds for img2img and inpaint, whose sizes come from their pictures.
 */
export function defaultTimeIds(latentHeight: number, latentWidth: number): Float32Array {
  const [h, w] = [latentHeight * VAE_SCALE, latentWidth * VAE_SCALE];
  return Float32Array.of(h, w, 0, 0, h, w);
}

/** The added conditions for a batch: the pooled text [B, pooled] as given, the time ids once per item. */
export function textTimeFor(pooled: Tensor, timeIds: Float32Array): TextTime {
  const batch = pooled.dims[0]!;
  const ids = new Float32Array(batch * timeIds.length);
  for (let i = 0; i < batch; i++) ids.set(timeIds, i * timeIds.length);
  return { textEmbeds: pooled, timeIds: tensor(ids, [batch, timeIds.length]) };
}
