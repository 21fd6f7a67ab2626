/** diffusers' Attention (attention_processor.py), as SD's transformer blocks and VAE use it. */
import type { Graph } from '../graph';
import { fromTokens, groupNorm, linear, scaledDotProductAttention, toTokens } from '../layers';

/** The module names of the projections: to_q/to_k/to_v/to_out.0, or those of weights saved before diffusers 0.14. */
export interface AttentionNames {
  q: string;
  k: string;
  v: string;
  out: string;
}

const CURRENT_NAMES: AttentionNames = { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' };

export interface AttentionOptions {
  queryDim: number;
  heads: number;
  dimHead: number;
  /** Cross-attention: keys and values from this context (self-attention without). */
  context?: { value: string; dim: number };
  /** Biases on to_q, to_k and to_v (diffusers' `bias`): off in transformer blocks, on in the VAE. */
  bias?: boolean;
  names?: AttentionNames;
  /** Scores and softmax in float32 (see scaledDotProductAttention). */
  upcast?: boolean;
}

/** Attention over tokens [B, N, queryDim]: to_q, to_k, to_v, scaled dot-product per head, to_out. */
export function attention(g: Graph, hidden: string, at: string, options: AttentionOptions): string {
  const { queryDim, heads, dimHead, context, bias = false, names = CURRENT_NAMES, upcast = false } = options;
  const inner = heads * dimHead;
  const kv = context ?? { value: hidden, dim: queryDim };
  const q = linear(g, hidden, `${at}.${names.q}`, { inFeatures: queryDim, outFeatures: inner, bias });
  const k = linear(g, kv.value, `${at}.${names.k}`, { inFeatures: kv.dim, outFeatures: inner, bias });
  const v = linear(g, kv.value, `${at}.${names.v}`, { inFeatures: kv.dim, outFeatures: inner, bias });
  const attended = scaledDotProductAttention(g, q, k, v, { heads, headDim: dimHead, upcast });
  return linear(g, attended, `${at}.${names.out}`, { inFeatures: inner, outFeatures: queryDim });
}

/**
 * Attention on a [B, C, H, W] input with diffusers' `norm_num_groups` and `residual_connection`:
 * GroupNorm, one head over the pixels as tokens, back to [B, C, H, W], plus the input (the VAE's
 * mid-block attention, whose softmax diffusers upcasts). Weights saved before diffusers 0.14
 * (query/key/value/proj_attn) are read too.
 */
export function spatialSelfAttention(
  g: Graph,
  x: string,
  at: string,
  { channels, groups, eps }: { channels: number; groups: number; eps: number },
): string {
  const legacy = !g.weights.has(`${at}.to_q.weight`) && g.weights.has(`${at}.query.weight`);
  const names = legacy ? { q: 'query', k: 'key', v: 'value', out: 'proj_attn' } : CURRENT_NAMES;
  const tokens = toTokens(g, groupNorm(g, x, `${at}.group_norm`, { channels, groups, eps }), channels);
  const out = attention(g, tokens, at, {
    queryDim: channels,
    heads: 1,
    dimHead: channels,
    bias: true,
    names,
    upcast: true,
  });
  return g.op('Add', [fromTokens(g, out, x), x]);
}
