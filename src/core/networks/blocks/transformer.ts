/** diffusers' transformer blocks as SD 1.x/2.x use them: Transformer2DModel of BasicTransformerBlocks. */
import type { Graph } from '../graph';
import { conv2d, fromTokens, gelu, groupNorm, layerNorm, linear, toTokens } from '../layers';
import { attention } from './attention';

/** transformer blocks' LayerNorms; the Transformer2DModel's GroupNorm uses 1e-6. */
const LAYER_NORM_EPS = 1e-5;
const GROUP_NORM_EPS = 1e-6;

/** diffusers' FeedForward with GEGLU: proj to 2·inner, the first half times GELU of the second, proj back. */
export function feedForward(
  g: Graph,
  x: string,
  at: string,
  { dim, mult = 4 }: { dim: number; mult?: number },
): string {
  const inner = dim * mult;
  const projAt = `${at}.net.0.proj`;
  if (g.uses('BiasSplitGelu')) {
    // The bias, the split and the GELU in one kernel: the projection's output is the widest tensor
    // of the block (2·inner channels), so it is read once instead of three times.
    const proj = linear(g, x, projAt, { inFeatures: dim, outFeatures: inner * 2, bias: false });
    const [gated] = g.contribOp('BiasSplitGelu', [proj, g.weight(`${projAt}.bias`, [inner * 2])]);
    return linear(g, gated!, `${at}.net.2`, { inFeatures: inner, outFeatures: dim });
  }
  const proj = linear(g, x, projAt, { inFeatures: dim, outFeatures: inner * 2 });
  const [value, gate] = g.opN('Split', [proj, g.ints([inner, inner])], 2, [{ name: 'axis', i: -1 }]);
  return linear(g, g.op('Mul', [value!, gelu(g, gate!)]), `${at}.net.2`, { inFeatures: inner, outFeatures: dim });
}

export interface TransformerBlockOptions {
  dim: number;
  heads: number;
  /** The text embeddings cross-attention reads. */
  context: { value: string; dim: number };
  /** diffusers' `upcast_attention` (SD 2.x): scores and softmax in float32. */
  upcast: boolean;
}

/** diffusers' BasicTransformerBlock: self-attention, cross-attention, feed-forward; each after a LayerNorm, each residual. */
export function basicTransformerBlock(g: Graph, x: string, at: string, options: TransformerBlockOptions): string {
  const { dim, heads, context, upcast } = options;
  const dimHead = dim / heads;
  const norm = (value: string, name: string) => layerNorm(g, value, `${at}.${name}`, { dim, eps: LAYER_NORM_EPS });
  const n1 = norm(x, 'norm1');
  let h = g.op('Add', [x, attention(g, n1, `${at}.attn1`, { queryDim: dim, heads, dimHead, upcast })]);
  const cross = { queryDim: dim, heads, dimHead, context, upcast };
  h = g.op('Add', [h, attention(g, norm(h, 'norm2'), `${at}.attn2`, cross)]);
  return g.op('Add', [h, feedForward(g, norm(h, 'norm3'), `${at}.ff`, { dim })]);
}

export interface Transformer2DOptions {
  channels: number;
  heads: number;
  layers: number;
  groups: number;
  /** SD 2.x's use_linear_projection: proj_in/proj_out are Linear on tokens, not 1×1 convolutions. */
  linearProjection: boolean;
  context: { value: string; dim: number };
  upcast: boolean;
}

/** diffusers' Transformer2DModel on a [B, C, H, W] input: GroupNorm, proj_in, the blocks, proj_out, residual. */
export function transformer2DModel(g: Graph, x: string, at: string, options: Transformer2DOptions): string {
  const { channels, heads, layers, groups, linearProjection, context, upcast } = options;
  const square = { inFeatures: channels, outFeatures: channels };
  const pointwise = { inChannels: channels, outChannels: channels, kernel: 1 };
  const normed = groupNorm(g, x, `${at}.norm`, { channels, groups, eps: GROUP_NORM_EPS });
  let h = linearProjection
    ? linear(g, toTokens(g, normed, channels), `${at}.proj_in`, square)
    : toTokens(g, conv2d(g, normed, `${at}.proj_in`, pointwise), channels);
  for (let b = 0; b < layers; b++) {
    h = basicTransformerBlock(g, h, `${at}.transformer_blocks.${b}`, { dim: channels, heads, context, upcast });
  }
  const out = linearProjection
    ? fromTokens(g, linear(g, h, `${at}.proj_out`, square), x)
    : conv2d(g, fromTokens(g, h, x), `${at}.proj_out`, pointwise);
  return g.op('Add', [out, x]);
}
