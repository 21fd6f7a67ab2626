/**
 * diffusers' AutoencoderKL as two ONNX graphs over one weights file, composed of the VAE blocks:
 * - encoder: `sample` [B, 3, H, W] in [−1, 1] → `latent_parameters` [B, 2·latent, H/8, W/8]
 *   (mean and log-variance after quant_conv; the pipeline samples it with its own generator);
 * - decoder: `latent_sample` [B, latent, h, w] (already divided by scaling_factor) → `sample`.
 */
import { ONNX_FLOAT } from '../onnx/writer';
import { downEncoderBlock2D, midBlock2D, upDecoderBlock2D, VAE_EPS } from './blocks/vae-blocks';
import type { VaeConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { conv2d, groupNorm, silu } from './layers';

/** conv_norm_out, SiLU, conv_out: how Encoder and Decoder end. */
function normOut(g: Graph, x: string, at: string, c: VaeConfig, channels: number, outChannels: number): string {
  const normed = silu(g, groupNorm(g, x, `${at}.conv_norm_out`, { channels, groups: c.groups, eps: VAE_EPS }));
  return conv2d(g, normed, `${at}.conv_out`, { inChannels: channels, outChannels, kernel: 3 });
}

export function buildVaeEncoder(c: VaeConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('AutoencoderKL encoder', weights, options);
  const n = c.blockOut.length;
  const latent2 = 2 * c.latentChannels;
  let x = g.toCompute(g.input('sample', ONNX_FLOAT, ['batch', c.inChannels, 'height', 'width']));
  x = conv2d(g, x, 'encoder.conv_in', { inChannels: c.inChannels, outChannels: c.blockOut[0]!, kernel: 3 });
  let channels = c.blockOut[0]!;
  for (let i = 0; i < n; i++) {
    x = downEncoderBlock2D(g, x, `encoder.down_blocks.${i}`, {
      inChannels: channels,
      outChannels: c.blockOut[i]!,
      layers: c.layersPerBlock,
      groups: c.groups,
      resample: i < n - 1,
    });
    channels = c.blockOut[i]!;
  }
  x = midBlock2D(g, x, 'encoder.mid_block', { channels, groups: c.groups, attention: c.midAttention });
  x = normOut(g, x, 'encoder', c, channels, latent2);
  if (c.quantConv) x = conv2d(g, x, 'quant_conv', { inChannels: latent2, outChannels: latent2, kernel: 1 });
  g.output('latent_parameters', g.toFloat32(x), ONNX_FLOAT, ['batch', latent2, 'latent_height', 'latent_width']);
  return g.encode();
}

export function buildVaeDecoder(c: VaeConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('AutoencoderKL decoder', weights, options);
  const reversed = [...c.blockOut].reverse();
  const latent = c.latentChannels;
  let x = g.toCompute(g.input('latent_sample', ONNX_FLOAT, ['batch', latent, 'latent_height', 'latent_width']));
  if (c.postQuantConv) x = conv2d(g, x, 'post_quant_conv', { inChannels: latent, outChannels: latent, kernel: 1 });
  let channels = reversed[0]!;
  x = conv2d(g, x, 'decoder.conv_in', { inChannels: latent, outChannels: channels, kernel: 3 });
  x = midBlock2D(g, x, 'decoder.mid_block', { channels, groups: c.groups, attention: c.midAttention });
  for (let i = 0; i < reversed.length; i++) {
    x = upDecoderBlock2D(g, x, `decoder.up_blocks.${i}`, {
      inChannels: channels,
      outChannels: reversed[i]!,
      layers: c.layersPerBlock + 1,
      groups: c.groups,
      resample: i < reversed.length - 1,
    });
    channels = reversed[i]!;
  }
  x = normOut(g, x, 'decoder', c, channels, c.outChannels);
  g.output('sample', g.toFloat32(x), ONNX_FLOAT, ['batch', c.outChannels, 'height', 'width']);
  return g.encode();
}
