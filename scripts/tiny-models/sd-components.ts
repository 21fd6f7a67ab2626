/**
 * Tiny Stable Diffusion components with the exact input/output names, dtypes and ranks of real
 * diffusers ONNX exports, and random but fixed weights. A few MFLOP per UNet step at 64×64
 * latents, so the whole pipeline runs in seconds even on a software GPU.
 */
import { TorchGenerator } from '../../src/core/math/random.ts';
import { ConfigReader } from '../../src/core/schedulers/config.ts';
import { noiseScheduleFromConfig } from '../../src/core/schedulers/noise-schedule.ts';
import { DataType, GraphBuilder } from './graph.ts';

export const TEXT_HIDDEN = 16;
export const VOCAB_SIZE = 49408;
export const MAX_TOKENS = 77;
const UNET_CHANNELS = 8;

/** Seeded weights: the same files on every machine. */
class Weights {
  private readonly generator: TorchGenerator;
  constructor(seed: number) {
    this.generator = new TorchGenerator(seed);
  }
  normal(count: number, std: number): Float32Array {
    return this.generator.randn(count).map((x) => x * std);
  }
  /** He-style init for a conv or linear layer with this fan-in. */
  layer(count: number, fanIn: number, gain = 1): Float32Array {
    return this.normal(count, gain * Math.sqrt(2 / fanIn));
  }
}

function conv(g: GraphBuilder, w: Weights, x: string, cin: number, cout: number, k: number, gain = 1): string {
  const weight = g.weight(w.layer(cout * cin * k * k, cin * k * k, gain), [cout, cin, k, k], 'conv_w');
  const bias = g.weight(w.normal(cout, 0.05), [cout], 'conv_b');
  const p = (k - 1) / 2;
  return g.op('Conv', [x, weight, bias], { kernel_shape: [k, k], pads: [p, p, p, p] });
}

function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** CLIP text encoder stand-in: token + position embeddings, a residual MLP, a final LayerNorm. */
export function textEncoder(): Uint8Array {
  const g = new GraphBuilder('tiny_text_encoder');
  const w = new Weights(1);
  const ids = g.input('input_ids', DataType.INT32, ['batch', MAX_TOKENS]);
  const tokens = g.op('Gather', [
    g.weight(w.normal(VOCAB_SIZE * TEXT_HIDDEN, 1), [VOCAB_SIZE, TEXT_HIDDEN], 'token_embedding'),
    ids,
  ]);
  const x = g.op('Add', [
    tokens,
    g.weight(w.normal(MAX_TOKENS * TEXT_HIDDEN, 0.2), [MAX_TOKENS, TEXT_HIDDEN], 'position_embedding'),
  ]);
  const ones = g.weight(new Float32Array(TEXT_HIDDEN).fill(1), [TEXT_HIDDEN], 'ln_scale');
  const zeros = g.weight(new Float32Array(TEXT_HIDDEN), [TEXT_HIDDEN], 'ln_bias');
  const h = g.op('LayerNormalization', [x, ones, zeros], { axis: -1 });
  const up = g.op('Tanh', [
    g.op('MatMul', [h, g.weight(w.layer(TEXT_HIDDEN * 2 * TEXT_HIDDEN, TEXT_HIDDEN), [TEXT_HIDDEN, 2 * TEXT_HIDDEN])]),
  ]);
  const down = g.op('MatMul', [
    up,
    g.weight(w.layer(2 * TEXT_HIDDEN * TEXT_HIDDEN, 2 * TEXT_HIDDEN, 0.5), [2 * TEXT_HIDDEN, TEXT_HIDDEN]),
  ]);
  const hidden = g.op('LayerNormalization', [g.op('Add', [x, down]), ones, zeros], { axis: -1 }, 'last_hidden_state');
  g.op('ReduceMean', [hidden], { axes: [1], keepdims: 0 }, 'pooler_output');
  g.output('last_hidden_state', DataType.FLOAT, ['batch', MAX_TOKENS, TEXT_HIDDEN]);
  g.output('pooler_output', DataType.FLOAT, ['batch', TEXT_HIDDEN]);
  return g.encode();
}

/**
 * UNet stand-in built as an ideal denoiser toward a "content" estimate f(x, t, text) in (−1, 1):
 * it returns ε = (x − √ᾱ_t·f) / √(1−ᾱ_t), the noise a trained UNet would predict if f were the
 * clean latent. So every scheduler converges to a bounded latent, as with a real model. f comes
 * from a conv in, a sinusoidal timestep embedding, cross-attention to the 77 text tokens at a
 * quarter of the resolution (the prompt shapes the image) and a conv out.
 */
export function unet(kind: 'plain' | 'inpaint' | 'depth' = 'plain'): Uint8Array {
  const c = UNET_CHANNELS;
  const inChannels = kind === 'inpaint' ? 9 : kind === 'depth' ? 5 : 4;
  const g = new GraphBuilder(`tiny_unet_${kind}`);
  const w = new Weights(2);
  const input = g.input('sample', DataType.FLOAT, ['batch', inChannels, 'height', 'width']);
  const timestep = g.input('timestep', DataType.INT64, ['steps']);
  const text = g.input('encoder_hidden_states', DataType.FLOAT, ['batch', MAX_TOKENS, TEXT_HIDDEN]);
  // The noisy latents are the first 4 channels; the rest is conditioning (mask + masked image, or depth).
  const channels = (from: number, to: number): string =>
    g.op('Slice', [input, g.int64([from]), g.int64([to]), g.int64([1])]);
  const sample = inChannels === 4 ? input : channels(0, 4);

  const h0 = conv(g, w, input, inChannels, c, 3);
  // Timestep embedding: sin/cos of t at c/2 frequencies, then a linear layer; broadcast over batch.
  const freqs = Float32Array.from({ length: c / 2 }, (_, i) => Math.exp((-Math.log(1000) * i) / (c / 2)));
  const t = g.op('Unsqueeze', [g.op('Cast', [timestep], { to: DataType.FLOAT }), g.int64([1])]);
  const phase = g.op('Mul', [t, g.weight(freqs, [1, c / 2], 'freqs')]);
  const temb = g.op('Concat', [g.op('Sin', [phase]), g.op('Cos', [phase])], { axis: 1 });
  const tproj = g.op('Add', [
    g.op('MatMul', [temb, g.weight(w.layer(c * c, c, 0.5), [c, c])]),
    g.weight(w.normal(c, 0.05), [c]),
  ]);
  const h1 = silu(g, g.op('Add', [h0, g.op('Reshape', [tproj, g.int64([-1, c, 1, 1])])]));

  // Cross-attention over the 77 text tokens at a quarter of the latent resolution.
  const pooled = g.op('AveragePool', [h1], { kernel_shape: [4, 4], strides: [4, 4], ceil_mode: 1 });
  const queries = g.op('Transpose', [g.op('Reshape', [pooled, g.int64([0, c, -1])])], { perm: [0, 2, 1] });
  const q = g.op('MatMul', [queries, g.weight(w.layer(c * c, c), [c, c], 'wq')]);
  const k = g.op('MatMul', [text, g.weight(w.layer(TEXT_HIDDEN * c, TEXT_HIDDEN, 2), [TEXT_HIDDEN, c], 'wk')]);
  const v = g.op('MatMul', [text, g.weight(w.layer(TEXT_HIDDEN * c, TEXT_HIDDEN, 2), [TEXT_HIDDEN, c], 'wv')]);
  const scores = g.op('Mul', [
    g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]),
    g.scalar(1 / Math.sqrt(c)),
  ]);
  const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
  const projected = g.op('MatMul', [attended, g.weight(w.layer(c * c, c, TEXT_GAIN), [c, c], 'wo')]);
  const grid = g.op('Reshape', [g.op('Transpose', [projected], { perm: [0, 2, 1] }), g.op('Shape', [pooled])]);
  const upsampled = g.op('Resize', [grid, '', '', g.op('Shape', [h1])], { mode: 'linear' });
  const h2 = g.op('Add', [h1, upsampled]);
  let preContent = conv(g, w, h2, c, 4, 3, CONTENT_GAIN);
  if (kind === 'depth') {
    // Depth shapes the picture directly: a per-channel gain on the depth map, so near and far differ in colour.
    preContent = g.op('Add', [
      preContent,
      g.op('Mul', [channels(4, 5), g.weight(Float32Array.of(1.4, -1.1, 0.9, -0.6), [1, 4, 1, 1], 'depth_gain')]),
    ]);
  }
  let content = g.op('Tanh', [preContent]);
  if (kind === 'inpaint') {
    // Keep the masked image outside the mask (mask = 1 repaints): f = (1 − m)·masked latents + m·f.
    const mask = channels(4, 5);
    const keep = g.op('Sub', [g.scalar(1), mask]);
    content = g.op('Add', [g.op('Mul', [keep, channels(5, 9)]), g.op('Mul', [mask, content])]);
  }

  // ε = (x − √ᾱ_t·f) / √(1−ᾱ_t), with ᾱ_t looked up from SD's noise schedule.
  const alphas = sdAlphasCumprod();
  const index = g.op('Clip', [timestep, g.int64Scalar(0), g.int64Scalar(alphas.length - 1)]);
  const lookup = (table: Float32Array, hint: string): string =>
    g.op('Reshape', [g.op('Gather', [g.weight(table, [table.length], hint), index]), g.int64([-1, 1, 1, 1])]);
  const sqrtAlpha = lookup(alphas.map(Math.sqrt), 'sqrt_alphas_cumprod');
  const sqrtOneMinus = lookup(
    alphas.map((a) => Math.sqrt(1 - a)),
    'sqrt_one_minus_alphas_cumprod',
  );
  g.op('Div', [g.op('Sub', [sample, g.op('Mul', [sqrtAlpha, content])]), sqrtOneMinus], {}, 'out_sample');
  g.output('out_sample', DataType.FLOAT, ['batch', 4, 'height', 'width']);
  return g.encode();
}

/** How strongly the text moves the content estimate, and how much contrast the content has. */
const TEXT_GAIN = 0.06;
const CONTENT_GAIN = 1.2;

function sdAlphasCumprod(): Float32Array {
  const config = new ConfigReader({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }, 'tiny');
  return noiseScheduleFromConfig(
    config,
    { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' },
    { allowZeroSnr: false },
  ).alphasCumprod;
}

/** A full-rank 4×3 pixel→latent map and its pseudo-inverse, so the VAE round trip keeps colour. */
export function vaeColorMaps(): { encode: Float32Array; decode: Float32Array } {
  const w = new Weights(3);
  const e = w.normal(12, 3.5); // [4, 3] row-major, latent = E · rgb
  // decode = (EᵀE)⁻¹ Eᵀ, a [3, 4] matrix.
  const ete = Array.from({ length: 3 }, (_, i) =>
    Array.from({ length: 3 }, (_, j) => [0, 1, 2, 3].reduce((s, r) => s + e[r * 3 + i]! * e[r * 3 + j]!, 0)),
  );
  const inv = invert3(ete);
  const decode = new Float32Array(12);
  for (let i = 0; i < 3; i++) {
    for (let r = 0; r < 4; r++) {
      decode[i * 4 + r] = [0, 1, 2].reduce((s, j) => s + inv[i]![j]! * e[r * 3 + j]!, 0);
    }
  }
  return { encode: e, decode };
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m as [number[], number[], number[]];
  const det =
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
  const cof = (r1: number[], r2: number[], i: number, j: number): number => r1[i]! * r2[j]! - r1[j]! * r2[i]!;
  return [
    [cof(b, c, 1, 2) / det, -cof(a, c, 1, 2) / det, cof(a, b, 1, 2) / det],
    [-cof(b, c, 0, 2) / det, cof(a, c, 0, 2) / det, -cof(a, b, 0, 2) / det],
    [cof(b, c, 0, 1) / det, -cof(a, c, 0, 1) / det, cof(a, b, 0, 1) / det],
  ];
}

/** Softens decoded colour so denoised latents land mostly inside the displayable range; the encoder undoes it. */
const COLOR_GAIN = 0.7;

/** VAE decoder stand-in: colour from the pseudo-inverse map, detail from two convs, both upsampled 8×. */
export function vaeDecoder(): Uint8Array {
  const g = new GraphBuilder('tiny_vae_decoder');
  const w = new Weights(4);
  const { decode } = vaeColorMaps();
  const latent = g.input('latent_sample', DataType.FLOAT, ['batch', 4, 'latent_height', 'latent_width']);
  const color = g.op('Conv', [
    latent,
    g.weight(
      decode.map((x) => x * COLOR_GAIN),
      [3, 4, 1, 1],
      'color',
    ),
  ]);
  const detail = conv(g, w, silu(g, conv(g, w, latent, 4, 8, 3, 0.5)), 8, 12, 3, 0.8);
  const fine = g.op('DepthToSpace', [detail], { blocksize: 2, mode: 'DCR' });
  const up = (x: string, s: number): string =>
    g.op('Resize', [x, '', g.weight(Float32Array.of(1, 1, s, s), [4], 'scales')], { mode: 'linear' });
  g.op('Add', [up(color, 8), g.op('Mul', [g.op('Tanh', [up(fine, 4)]), g.scalar(0.35)])], {}, 'sample');
  g.output('sample', DataType.FLOAT, ['batch', 3, 'height', 'width']);
  return g.encode();
}

/** VAE encoder stand-in: 8×8 average then the colour map, giving `latent_sample` directly. */
export function vaeEncoder(): Uint8Array {
  const g = new GraphBuilder('tiny_vae_encoder');
  const { encode } = vaeColorMaps();
  const image = g.input('sample', DataType.FLOAT, ['batch', 3, 'height', 'width']);
  const pooled = g.op('AveragePool', [image], { kernel_shape: [8, 8], strides: [8, 8] });
  g.op(
    'Conv',
    [
      pooled,
      g.weight(
        encode.map((x) => x / COLOR_GAIN),
        [4, 3, 1, 1],
        'latent_map',
      ),
    ],
    {},
    'latent_sample',
  );
  g.output('latent_sample', DataType.FLOAT, ['batch', 4, 'latent_height', 'latent_width']);
  return g.encode();
}

/**
 * Depth estimator stand-in in the layout transformers.js loads (`pixel_values` → `predicted_depth`,
 * as Depth Anything): a smoothed blend of brightness and height in the picture, so bright and low
 * parts read as near. Output [batch, height, width], like DPT-style heads.
 */
export function depthEstimator(): Uint8Array {
  const g = new GraphBuilder('tiny_depth_estimator');
  const pixels = g.input('pixel_values', DataType.FLOAT, ['batch', 3, 'height', 'width']);
  const luma = g.op('Conv', [pixels, g.weight(Float32Array.of(0.3, 0.59, 0.11), [1, 3, 1, 1], 'luma')]);
  const smooth = g.op('AveragePool', [luma], {
    kernel_shape: [5, 5],
    strides: [1, 1],
    pads: [2, 2, 2, 2],
    count_include_pad: 0,
  });
  // A vertical ramp (0 at the top, 1 at the bottom) from the input's own height: lower means nearer.
  const rows = g.op('Slice', [g.op('Shape', [pixels]), g.int64([2]), g.int64([3])]);
  const ramp = g.op('Div', [
    g.op('Cast', [g.op('Range', [g.int64Scalar(0), g.op('Squeeze', [rows, g.int64([0])]), g.int64Scalar(1)])], {
      to: DataType.FLOAT,
    }),
    g.op('Cast', [rows], { to: DataType.FLOAT }),
  ]);
  const rampColumn = g.op('Reshape', [ramp, g.int64([1, 1, -1, 1])]);
  const depth = g.op('Add', [g.op('Mul', [smooth, g.scalar(0.5)]), g.op('Mul', [rampColumn, g.scalar(2)])]);
  g.op('Squeeze', [g.op('Relu', [g.op('Add', [depth, g.scalar(2)])]), g.int64([1])], {}, 'predicted_depth');
  g.output('predicted_depth', DataType.FLOAT, ['batch', 'height', 'width']);
  return g.encode();
}

/**
 * The performance issue's reference graph: three 3×3 convolutions with 64 channels at
 * 2×4×64×64 (the CFG batch of a 512×512 image), about 1.3 GFLOP. Heavy enough per op for WASM
 * threads to pay off, unlike the tiny UNet; the benchmark times it in Node and the browser.
 */
export function convStack(): Uint8Array {
  const g = new GraphBuilder('conv_stack');
  const w = new Weights(1234);
  const x = g.input('sample', DataType.FLOAT, [2, 4, 64, 64]);
  const a = g.op('Relu', [conv(g, w, x, 4, 64, 3)]);
  const b = g.op('Relu', [conv(g, w, a, 64, 64, 3)]);
  const out = conv(g, w, b, 64, 4, 3);
  g.op('Identity', [out], {}, 'out_sample');
  g.output('out_sample', DataType.FLOAT, [2, 4, 64, 64]);
  return g.encode();
}
