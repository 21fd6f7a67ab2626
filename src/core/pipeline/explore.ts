/** The pipeline's parts on their own, for the explore view. */
import { chwToRgba, type RgbaImage } from '../image/rgba';
import { TorchGenerator } from '../math/random';
import { createScheduler, type SchedulerConfigJson, type SchedulerName } from '../schedulers';
import { tensor } from '../math/tensor';
import { encodeImageLatents, toChw } from './image-latents';
import type { Models } from './models';

export interface ScheduleCurves {
  alphasCumprod: Float32Array;
  sqrtAlphasCumprod: Float32Array;
  sqrtOneMinusAlphasCumprod: Float32Array;
  /** The train timesteps the chosen scheduler visits for this many steps. */
  timesteps: number[];
}

/** ᾱ, √ᾱ and √(1−ᾱ) over the train steps of a model's scheduler config, and the inference timesteps. */
export function scheduleCurves(config: SchedulerConfigJson, scheduler: SchedulerName, steps: number): ScheduleCurves {
  const s = createScheduler(scheduler, config);
  s.setTimesteps(steps);
  const a = s.alphasCumprod;
  return {
    alphasCumprod: a,
    sqrtAlphasCumprod: a.map(Math.sqrt),
    sqrtOneMinusAlphasCumprod: a.map((v) => Math.sqrt(1 - v)),
    timesteps: [...s.timesteps],
  };
}

export interface RoundTrip {
  /** Scaled latents [channels, h, w]. */
  latents: Float32Array;
  channels: number;
  latentWidth: number;
  latentHeight: number;
  reconstruction: RgbaImage;
  /** Mean absolute error per RGB value (0..255) and PSNR in dB. */
  meanAbsError: number;
  psnr: number;
}

/** Image → VAE encoder (posterior mean when the export gives one) → latents → VAE decoder → image. */
export async function vaeRoundTrip(models: Models, image: RgbaImage): Promise<RoundTrip> {
  models.checkSize?.({ width: image.width, height: image.height, unetBatch: 0, encodes: true });
  const { latents } = await encodeImageLatents(models, toChw(image), new TorchGenerator(0), 'mean');
  const channels = models.info.latentChannels;
  const latentWidth = image.width / 8;
  const latentHeight = image.height / 8;
  const unscaled = latents.map((v) => v / models.info.vaeScalingFactor);
  const decoded = await models.decode(tensor(unscaled, [1, channels, latentHeight, latentWidth]));
  const reconstruction = chwToRgba(decoded.data, image.width, image.height);
  let abs = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = image.pixels[i + c]! - reconstruction.pixels[i + c]!;
      abs += Math.abs(d);
      sq += d * d;
      n++;
    }
  }
  const mse = sq / n;
  return {
    latents,
    channels,
    latentWidth,
    latentHeight,
    reconstruction,
    meanAbsError: abs / n,
    psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse),
  };
}
