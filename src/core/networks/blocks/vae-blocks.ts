/**
 * diffusers' VAE blocks (autoencoders/vae.py's Encoder and Decoder use them): DownEncoderBlock2D,
 * UNetMidBlock2D, UpDecoderBlock2D. No time embedding; GroupNorm eps 1e-6 throughout.
 */
import type { Graph } from '../graph';
import { spatialSelfAttention } from './attention';
import { downsample2D, resnetBlock2D, upsample2D } from './resnet';

export const VAE_EPS = 1e-6;

export interface VaeBlockOptions {
  inChannels: number;
  outChannels: number;
  layers: number;
  groups: number;
  /** Ends in a Downsample2D (encoder) or Upsample2D (decoder): every block but the last. */
  resample: boolean;
}

/** DownEncoderBlock2D: resnets, then a Downsample2D with padding 0. */
export function downEncoderBlock2D(g: Graph, x: string, at: string, o: VaeBlockOptions): string {
  const h = resnets(g, x, at, o);
  return o.resample ? downsample2D(g, h, `${at}.downsamplers.0`, { channels: o.outChannels, padding: 0 }) : h;
}

/** UpDecoderBlock2D: resnets, then a Upsample2D (×2). */
export function upDecoderBlock2D(g: Graph, x: string, at: string, o: VaeBlockOptions): string {
  const h = resnets(g, x, at, o);
  return o.resample ? upsample2D(g, h, `${at}.upsamplers.0`, { channels: o.outChannels }) : h;
}

/** UNetMidBlock2D: resnet, [self-attention over pixels,] resnet. */
export function midBlock2D(
  g: Graph,
  x: string,
  at: string,
  { channels, groups, attention }: { channels: number; groups: number; attention: boolean },
): string {
  const resnet = { inChannels: channels, outChannels: channels, groups, eps: VAE_EPS };
  let h = resnetBlock2D(g, x, `${at}.resnets.0`, resnet);
  if (attention) h = spatialSelfAttention(g, h, `${at}.attentions.0`, { channels, groups, eps: VAE_EPS });
  return resnetBlock2D(g, h, `${at}.resnets.1`, resnet);
}

function resnets(g: Graph, x: string, at: string, o: VaeBlockOptions): string {
  let h = x;
  let channels = o.inChannels;
  for (let j = 0; j < o.layers; j++) {
    h = resnetBlock2D(g, h, `${at}.resnets.${j}`, {
      inChannels: channels,
      outChannels: o.outChannels,
      groups: o.groups,
      eps: VAE_EPS,
    });
    channels = o.outChannels;
  }
  return h;
}
