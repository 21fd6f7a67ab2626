/**
 * diffusers' AutoencoderKL as two ONNX graphs over one weights file:
 * - encoder: `sample` [B, 3, H, W] in [−1, 1] → `latent_parameters` [B, 2·latent, H/8, W/8]
 *   (mean and log-variance after quant_conv; the pipeline samples it with its own generator);
 * - decoder: `latent_sample` [B, latent, h, w] (already divided by scaling_factor) → `sample`.
 */
import { ONNX_FLOAT } from '../onnx/writer';
import type { VaeConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { attention, conv2d, fromTokens, groupNorm, linear, silu, toTokens, upsampleNearest } from './layers';

/** The VAE's ResnetBlock2D and attention use eps 1e-6 throughout. */
const EPS = 1e-6;

function resnet(g: Graph, c: VaeConfig, x: string, at: string, inC: number, outC: number): string {
  let h = conv2d(g, silu(g, groupNorm(g, x, `${at}.norm1`, inC, c.groups, EPS)), `${at}.conv1`, inC, outC, 3);
  h = conv2d(g, silu(g, groupNorm(g, h, `${at}.norm2`, outC, c.groups, EPS)), `${at}.conv2`, outC, outC, 3);
  const skip = inC === outC ? x : conv2d(g, x, `${at}.conv_shortcut`, inC, outC, 1);
  return g.op('Add', [skip, h]);
}

/**
 * The mid block's single-head self-attention over pixels, with a residual. Weights saved before
 * diffusers 0.14 are named query/key/value/proj_attn; both names are read.
 */
function midAttention(g: Graph, x: string, at: string, ch: number, groups: number): string {
  const name = (now: string, old: string) => (g.weights.has(`${at}.${now}.weight`) ? `${at}.${now}` : `${at}.${old}`);
  const tokens = toTokens(g, groupNorm(g, x, `${at}.group_norm`, ch, groups, EPS), ch);
  const q = linear(g, tokens, name('to_q', 'query'), ch, ch);
  const k = linear(g, tokens, name('to_k', 'key'), ch, ch);
  const v = linear(g, tokens, name('to_v', 'value'), ch, ch);
  const out = linear(g, attention(g, q, k, v, 1, ch), name('to_out.0', 'proj_attn'), ch, ch);
  return g.op('Add', [fromTokens(g, out, x), x]);
}

function midBlock(g: Graph, c: VaeConfig, x: string, at: string, ch: number): string {
  let h = resnet(g, c, x, `${at}.resnets.0`, ch, ch);
  if (c.midAttention) h = midAttention(g, h, `${at}.attentions.0`, ch, c.groups);
  return resnet(g, c, h, `${at}.resnets.1`, ch, ch);
}

export function buildVaeEncoder(c: VaeConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('AutoencoderKL encoder', weights, options);
  const n = c.blockOut.length;
  let x = g.input('sample', ONNX_FLOAT, ['batch', c.inChannels, 'height', 'width']);
  x = conv2d(g, x, 'encoder.conv_in', c.inChannels, c.blockOut[0]!, 3);
  let channels = c.blockOut[0]!;
  for (let i = 0; i < n; i++) {
    const outC = c.blockOut[i]!;
    for (let j = 0; j < c.layersPerBlock; j++) {
      x = resnet(g, c, x, `encoder.down_blocks.${i}.resnets.${j}`, channels, outC);
      channels = outC;
    }
    if (i < n - 1) {
      // Downsample2D with padding 0 pads right and bottom by one, then convolves with stride 2.
      x = g.op('Pad', [x, g.ints([0, 0, 0, 0, 0, 0, 1, 1])]);
      x = conv2d(g, x, `encoder.down_blocks.${i}.downsamplers.0.conv`, outC, outC, 3, { stride: 2, pad: 0 });
    }
  }
  x = midBlock(g, c, x, 'encoder.mid_block', channels);
  x = silu(g, groupNorm(g, x, 'encoder.conv_norm_out', channels, c.groups, EPS));
  x = conv2d(g, x, 'encoder.conv_out', channels, 2 * c.latentChannels, 3);
  if (c.quantConv) x = conv2d(g, x, 'quant_conv', 2 * c.latentChannels, 2 * c.latentChannels, 1);
  g.output('latent_parameters', x, ONNX_FLOAT, ['batch', 2 * c.latentChannels, 'latent_height', 'latent_width']);
  return g.encode();
}

export function buildVaeDecoder(c: VaeConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('AutoencoderKL decoder', weights, options);
  const reversed = [...c.blockOut].reverse();
  let x = g.input('latent_sample', ONNX_FLOAT, ['batch', c.latentChannels, 'latent_height', 'latent_width']);
  if (c.postQuantConv) x = conv2d(g, x, 'post_quant_conv', c.latentChannels, c.latentChannels, 1);
  let channels = reversed[0]!;
  x = conv2d(g, x, 'decoder.conv_in', c.latentChannels, channels, 3);
  x = midBlock(g, c, x, 'decoder.mid_block', channels);
  for (let i = 0; i < reversed.length; i++) {
    const outC = reversed[i]!;
    for (let j = 0; j < c.layersPerBlock + 1; j++) {
      x = resnet(g, c, x, `decoder.up_blocks.${i}.resnets.${j}`, channels, outC);
      channels = outC;
    }
    if (i < reversed.length - 1) {
      x = conv2d(g, upsampleNearest(g, x), `decoder.up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3);
    }
  }
  x = silu(g, groupNorm(g, x, 'decoder.conv_norm_out', channels, c.groups, EPS));
  x = conv2d(g, x, 'decoder.conv_out', channels, c.outChannels, 3);
  g.output('sample', x, ONNX_FLOAT, ['batch', c.outChannels, 'height', 'width']);
  return g.encode();
}
