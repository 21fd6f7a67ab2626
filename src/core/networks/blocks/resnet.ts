/** diffusers' resnet.py and its samplers: ResnetBlock2D, Downsample2D, Upsample2D. */
import type { Graph } from '../graph';
import { conv2d, groupNorm, linear, silu, upsampleNearest } from '../layers';

export interface ResnetBlockOptions {
  inChannels: number;
  outChannels: number;
  groups: number;
  eps: number;
  /**
   * The time embedding after SiLU, projected per block by `time_emb_proj` and added after conv1
   * (diffusers applies the nonlinearity in every block; it is computed once for all of them here).
   * The VAE's blocks have none.
   */
  temb?: { value: string; channels: number };
  /** The sum is divided by this (diffusers' output_scale_factor; 1 in SD). */
  outputScaleFactor?: number;
}

/** diffusers' ResnetBlock2D: norm1, SiLU, conv1, [+ time], norm2, SiLU, conv2, plus the (1×1-projected) input. */
export function resnetBlock2D(g: Graph, x: string, at: string, options: ResnetBlockOptions): string {
  const { inChannels, outChannels, groups, eps, temb, outputScaleFactor = 1 } = options;
  const norm1 = groupNorm(g, x, `${at}.norm1`, { channels: inChannels, groups, eps });
  let h = conv2d(g, silu(g, norm1), `${at}.conv1`, { inChannels, outChannels, kernel: 3 });
  if (temb) {
    const t = linear(g, temb.value, `${at}.time_emb_proj`, {
      inFeatures: temb.channels,
      outFeatures: outChannels,
      rank: 2,
    });
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.ints([2, 3])])]);
  }
  const norm2 = groupNorm(g, h, `${at}.norm2`, { channels: outChannels, groups, eps });
  h = conv2d(g, silu(g, norm2), `${at}.conv2`, { inChannels: outChannels, outChannels, kernel: 3 });
  const skip =
    inChannels === outChannels ? x : conv2d(g, x, `${at}.conv_shortcut`, { inChannels, outChannels, kernel: 1 });
  const sum = g.op('Add', [skip, h]);
  return outputScaleFactor === 1 ? sum : g.op('Div', [sum, g.scalar(outputScaleFactor)]);
}

/**
 * diffusers' Downsample2D with its conv: a 3×3 convolution of stride 2. With padding 0 (the VAE,
 * and UNets whose downsample_padding is 0) it first pads right and bottom by one, as diffusers does.
 */
export function downsample2D(
  g: Graph,
  x: string,
  at: string,
  { channels, padding }: { channels: number; padding: number },
): string {
  const input = padding === 0 ? g.op('Pad', [x, g.ints([0, 0, 0, 0, 0, 0, 1, 1])]) : x;
  return conv2d(g, input, `${at}.conv`, { inChannels: channels, outChannels: channels, kernel: 3, stride: 2, padding });
}

/**
 * diffusers' Upsample2D with its conv: nearest-neighbour ×2, or to the size of `sizeOf` (the UNet's
 * next skip, so odd sizes come out as in diffusers), then a 3×3 convolution.
 */
export function upsample2D(
  g: Graph,
  x: string,
  at: string,
  { channels, sizeOf }: { channels: number; sizeOf?: string },
): string {
  return conv2d(g, upsampleNearest(g, x, sizeOf), `${at}.conv`, {
    inChannels: channels,
    outChannels: channels,
    kernel: 3,
  });
}
