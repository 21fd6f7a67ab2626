/**
 * diffusers' unet_2d_blocks.py as SD 1.x/2.x use them: DownBlock2D and CrossAttnDownBlock2D,
 * UNetMidBlock2DCrossAttn, UpBlock2D and CrossAttnUpBlock2D. ControlNet's encoder is the same
 * down and mid blocks.
 */
import type { Graph } from '../graph';
import { downsample2D, resnetBlock2D, upsample2D } from './resnet';
import { transformer2DModel } from './transformer';

/** What every block of one UNet shares. */
export interface UnetContext {
  /** The time embedding after SiLU. */
  temb: { value: string; channels: number };
  /** The text embeddings. */
  context: { value: string; dim: number };
  groups: number;
  eps: number;
  linearProjection: boolean;
  upcastAttention: boolean;
}

/** A value the down path keeps for the up path, and its channels. */
export interface Skip {
  value: string;
  channels: number;
}

export interface BlockAttention {
  heads: number;
  transformerLayers: number;
}

export interface DownBlockOptions {
  inChannels: number;
  outChannels: number;
  layers: number;
  /** CrossAttnDownBlock2D: a Transformer2DModel after each resnet. DownBlock2D: none. */
  attention: BlockAttention | null;
  /** Ends in a Downsample2D with this padding (every block but the last); null: no downsampler. */
  downsamplePadding: number | null;
}

/** DownBlock2D / CrossAttnDownBlock2D: its output, and every resnet (+ attention) and downsampler output as skips. */
export function downBlock2D(
  g: Graph,
  x: string,
  at: string,
  options: DownBlockOptions,
  unet: UnetContext,
): { value: string; skips: Skip[] } {
  const { outChannels, layers, attention, downsamplePadding } = options;
  const skips: Skip[] = [];
  let channels = options.inChannels;
  let h = x;
  for (let j = 0; j < layers; j++) {
    h = resnetBlock2D(g, h, `${at}.resnets.${j}`, { ...resnetOptions(unet), inChannels: channels, outChannels });
    channels = outChannels;
    if (attention) h = transformer(g, h, `${at}.attentions.${j}`, outChannels, attention, unet);
    skips.push({ value: h, channels });
  }
  if (downsamplePadding !== null) {
    h = downsample2D(g, h, `${at}.downsamplers.0`, { channels, padding: downsamplePadding });
    skips.push({ value: h, channels });
  }
  return { value: h, skips };
}

/** UNetMidBlock2DCrossAttn: resnet, Transformer2DModel, resnet. */
export function midBlock2DCrossAttn(
  g: Graph,
  x: string,
  at: string,
  options: { channels: number; attention: BlockAttention; outputScaleFactor: number },
  unet: UnetContext,
): string {
  const { channels, attention, outputScaleFactor } = options;
  const resnet = { ...resnetOptions(unet), inChannels: channels, outChannels: channels, outputScaleFactor };
  let h = resnetBlock2D(g, x, `${at}.resnets.0`, resnet);
  h = transformer(g, h, `${at}.attentions.0`, channels, attention, unet);
  return resnetBlock2D(g, h, `${at}.resnets.1`, resnet);
}

export interface UpBlockOptions {
  inChannels: number;
  outChannels: number;
  layers: number;
  attention: BlockAttention | null;
  /** Ends in an Upsample2D to the size of the next skip left (every block but the last). */
  upsample: boolean;
}

/**
 * UpBlock2D / CrossAttnUpBlock2D: each resnet takes the last skip, concatenated on channels; the
 * upsampler goes to the size of the skip the next block takes first (odd sizes as in diffusers).
 */
export function upBlock2D(
  g: Graph,
  x: string,
  at: string,
  options: UpBlockOptions,
  skips: Skip[],
  unet: UnetContext,
): string {
  const { outChannels, layers, attention, upsample } = options;
  let channels = options.inChannels;
  let h = x;
  for (let j = 0; j < layers; j++) {
    const skip = skips.pop();
    if (!skip) throw new Error(`${at}: no skip connection left for resnet ${j}.`);
    h = g.op('Concat', [h, skip.value], [{ name: 'axis', i: 1 }]);
    const resnet = { ...resnetOptions(unet), inChannels: channels + skip.channels, outChannels };
    h = resnetBlock2D(g, h, `${at}.resnets.${j}`, resnet);
    channels = outChannels;
    if (attention) h = transformer(g, h, `${at}.attentions.${j}`, outChannels, attention, unet);
  }
  if (!upsample) return h;
  const next = skips[skips.length - 1];
  if (!next) throw new Error(`${at}: no skip connection left to upsample to.`);
  return upsample2D(g, h, `${at}.upsamplers.0`, { channels, sizeOf: next.value });
}

function resnetOptions(unet: UnetContext) {
  return { groups: unet.groups, eps: unet.eps, temb: unet.temb };
}

function transformer(g: Graph, x: string, at: string, channels: number, a: BlockAttention, unet: UnetContext): string {
  return transformer2DModel(g, x, at, {
    channels,
    heads: a.heads,
    layers: a.transformerLayers,
    groups: unet.groups,
    linearProjection: unet.linearProjection,
    context: unet.context,
    upcast: unet.upcastAttention,
  });
}
