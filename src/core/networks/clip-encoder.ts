/**
 * transformers' CLIPEncoder, shared by the text model (with its causal mask) and the vision model
 * (without): pre-norm layers of self-attention and an MLP, each added back to its input.
 */
import type { Graph } from './graph';
import { activation, layerNorm, linear, scaledDotProductAttention } from './layers';

export interface ClipEncoderConfig {
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  layers: number;
  act: 'quick_gelu' | 'gelu';
  eps: number;
}

/** The encoder over `x` [B, T, hidden]: its last output and each layer's output (for clip skip). */
export function clipEncoder(
  g: Graph,
  x: string,
  config: ClipEncoderConfig,
  mask?: string,
): { last: string; layerOutputs: string[] } {
  const { hiddenSize: d, heads } = config;
  const square = { inFeatures: d, outFeatures: d };
  const layerOutputs: string[] = [];
  for (let i = 0; i < config.layers; i++) {
    const at = `encoder.layers.${i}`;
    const h = layerNorm(g, x, `${at}.layer_norm1`, { dim: d, eps: config.eps });
    const q = linear(g, h, `${at}.self_attn.q_proj`, square);
    const k = linear(g, h, `${at}.self_attn.k_proj`, square);
    const v = linear(g, h, `${at}.self_attn.v_proj`, square);
    const attn = scaledDotProductAttention(g, q, k, v, { heads, headDim: d / heads, ...(mask ? { mask } : {}) });
    x = g.op('Add', [x, linear(g, attn, `${at}.self_attn.out_proj`, square)]);
    // CLIPMLP: fc1, the config's activation, fc2.
    const h2 = layerNorm(g, x, `${at}.layer_norm2`, { dim: d, eps: config.eps });
    const inner = config.intermediateSize;
    const fc1 = linear(g, h2, `${at}.mlp.fc1`, { inFeatures: d, outFeatures: inner });
    const mlp = linear(g, activation(g, fc1, config.act), `${at}.mlp.fc2`, { inFeatures: inner, outFeatures: d });
    x = g.op('Add', [x, mlp]);
    layerOutputs.push(x);
  }
  return { last: x, layerOutputs };
}
