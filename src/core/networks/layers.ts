/**
 * torch.nn's layers as ONNX nodes, each reading its weights by the module path diffusers and
 * transformers save them under (`<at>.weight`, `<at>.bias`). The blocks in blocks/ are built from
 * these; each takes its sizes as named options.
 */
import { ONNX_FLOAT } from '../onnx/writer';
import type { Graph } from './graph';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** torch.nn.Linear's bias (default true). */
  bias?: boolean;
  /** The input's rank: [B, N, in] (3, the default) or [B, in] (2). */
  rank?: 2 | 3;
}

/** torch.nn.Linear: x·Wᵀ + b, W stored [out, in]. Gemm or MatMul as the graph's LinearForm says. */
export function linear(g: Graph, x: string, at: string, options: LinearOptions): string {
  const { inFeatures, outFeatures, bias = true, rank = 3 } = options;
  const weight = g.weight(`${at}.weight`, [outFeatures, inFeatures]);
  if (g.linearForm === 'gemm') {
    const flat = rank === 2 ? x : g.op('Reshape', [x, g.ints([-1, inFeatures])]);
    const inputs = [flat, weight, ...(bias ? [g.weight(`${at}.bias`, [outFeatures])] : [])];
    const y = g.op('Gemm', inputs, [{ name: 'transB', i: 1 }]);
    if (rank === 2) return y;
    const lead = g.op('Shape', [x], [{ name: 'end', i: rank - 1 }]);
    return g.op('Reshape', [y, g.op('Concat', [lead, g.ints([outFeatures])], [{ name: 'axis', i: 0 }])]);
  }
  const y = g.op('MatMul', [x, g.op('Transpose', [weight], [{ name: 'perm', ints: [1, 0] }])]);
  return bias ? g.op('Add', [y, g.weight(`${at}.bias`, [outFeatures])]) : y;
}

export interface ConvOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Zero padding on every side (default: (kernel − 1) / 2, "same" for odd kernels). */
  padding?: number;
  bias?: boolean;
}

/** torch.nn.Conv2d. */
export function conv2d(g: Graph, x: string, at: string, options: ConvOptions): string {
  const { inChannels, outChannels, kernel, stride = 1, bias = true } = options;
  const pad = options.padding ?? (kernel - 1) >> 1;
  const inputs = [x, g.weight(`${at}.weight`, [outChannels, inChannels, kernel, kernel])];
  if (bias) inputs.push(g.weight(`${at}.bias`, [outChannels]));
  return g.op('Conv', inputs, [
    { name: 'kernel_shape', ints: [kernel, kernel] },
    { name: 'pads', ints: [pad, pad, pad, pad] },
    { name: 'strides', ints: [stride, stride] },
  ]);
}

export interface GroupNormOptions {
  channels: number;
  groups: number;
  eps: number;
}

/**
 * torch.nn.GroupNorm on [B, C, H, W]: statistics per group through InstanceNormalization on
 * [B, G, C/G·H·W] (the form torch's own exporter writes, which every ORT backend runs), then the
 * per-channel affine. The statistics are float32 in a float16 graph too (torch accumulates them
 * in float32 for half tensors; a sum of C/G·H·W squares overflows float16 at SD's sizes).
 */
export function groupNorm(g: Graph, x: string, at: string, { channels, groups, eps }: GroupNormOptions): string {
  const grouped = g.op('Reshape', [g.toFloat32(x), g.ints([0, groups, -1])]);
  const ones = g.floatsConst(new Float32Array(groups).fill(1), [groups]);
  const zeros = g.floatsConst(new Float32Array(groups), [groups]);
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], [{ name: 'epsilon', f: eps }]);
  const back = g.toCompute(g.op('Reshape', [normed, g.op('Shape', [x])]));
  const scale = g.op('Reshape', [g.weight(`${at}.weight`, [channels]), g.ints([channels, 1, 1])]);
  const shift = g.op('Reshape', [g.weight(`${at}.bias`, [channels]), g.ints([channels, 1, 1])]);
  return g.op('Add', [g.op('Mul', [back, scale]), shift]);
}

/**
 * torch.nn.LayerNorm over the last axis. ONNX's LayerNormalization computes its statistics in
 * float32 for float16 inputs (`stash_type` 1, the default), as torch does.
 */
export function layerNorm(g: Graph, x: string, at: string, { dim, eps }: { dim: number; eps: number }): string {
  return g.op(
    'LayerNormalization',
    [x, g.weight(`${at}.weight`, [dim]), g.weight(`${at}.bias`, [dim])],
    [
      { name: 'axis', i: -1 },
      { name: 'epsilon', f: eps },
    ],
  );
}

export function silu(g: Graph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** Exact (erf) GELU, torch's default. */
export function gelu(g: Graph, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
}

/** CLIP's quick_gelu: x·σ(1.702x). */
export function quickGelu(g: Graph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])]);
}

/** Activations by the names configs use. */
export function activation(g: Graph, x: string, name: string): string {
  switch (name) {
    case 'silu':
    case 'swish':
      return silu(g, x);
    case 'gelu':
      return gelu(g, x);
    case 'quick_gelu':
      return quickGelu(g, x);
    default:
      throw new Error(`activation ${name}`);
  }
}

export interface SdpaOptions {
  heads: number;
  headDim: number;
  /** Added to the scores ([N, M], broadcast over batch and heads): a causal mask, float32 when `upcast`. */
  mask?: string;
  /**
   * Scores and softmax in float32 (diffusers' `upcast_attention`, SD 2.x's UNets, and the VAE's
   * `upcast_softmax`): SD 2's self-attention scores exceed float16's 65504 and would turn to
   * Inf/NaN. The probabilities go back to the compute type for the product with the values.
   */
  upcast?: boolean;
}

/**
 * torch's scaled_dot_product_attention over [B, N, heads·d] queries and [B, M, heads·d] keys and
 * values: softmax(q·kᵀ/√d + mask)·v per head, back to [B, N, heads·d].
 */
export function scaledDotProductAttention(
  g: Graph,
  q: string,
  k: string,
  v: string,
  { heads, headDim, mask, upcast = false }: SdpaOptions,
): string {
  const split = g.ints([0, 0, heads, headDim]);
  const wide = (x: string) => (upcast ? g.toFloat32(x) : x);
  const qh = g.op('Transpose', [g.op('Reshape', [wide(q), split])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  const kh = g.op('Transpose', [g.op('Reshape', [wide(k), split])], [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  const vh = g.op('Transpose', [g.op('Reshape', [v, split])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  const scale = upcast ? g.scalar(1 / Math.sqrt(headDim), ONNX_FLOAT) : g.scalar(1 / Math.sqrt(headDim));
  let scores = g.op('MatMul', [g.op('Mul', [qh, scale]), kh]);
  if (mask) scores = g.op('Add', [scores, mask]);
  const softmax = g.op('Softmax', [scores], [{ name: 'axis', i: -1 }]);
  const probs = upcast ? g.toCompute(softmax) : softmax;
  const out = g.op('Transpose', [g.op('MatMul', [probs, vh])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  return g.op('Reshape', [out, g.ints([0, 0, heads * headDim])]);
}

/** [B, C, H, W] → [B, H·W, C]. */
export function toTokens(g: Graph, x: string, channels: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, channels, -1])])], [{ name: 'perm', ints: [0, 2, 1] }]);
}

/** [B, H·W, C] → [B, C, H, W] with H and W taken from `like`. */
export function fromTokens(g: Graph, x: string, like: string): string {
  return g.op('Reshape', [g.op('Transpose', [x], [{ name: 'perm', ints: [0, 2, 1] }]), g.op('Shape', [like])]);
}

/** Nearest-neighbour upsampling to a size: H, W from `sizeOf` (or ×2 without it), as F.interpolate. */
export function upsampleNearest(g: Graph, x: string, sizeOf?: string): string {
  const attrs = [
    { name: 'mode', s: 'nearest' },
    { name: 'coordinate_transformation_mode', s: 'asymmetric' },
    { name: 'nearest_mode', s: 'floor' },
  ];
  if (!sizeOf) return g.op('Resize', [x, '', g.floatsConst([1, 1, 2, 2], [4])], attrs);
  const lead = g.op('Shape', [x], [{ name: 'end', i: 2 }]);
  const spatial = g.op('Shape', [sizeOf], [{ name: 'start', i: 2 }]);
  const sizes = g.op('Concat', [lead, spatial], [{ name: 'axis', i: 0 }]);
  return g.op('Resize', [x, '', '', sizes], attrs);
}
