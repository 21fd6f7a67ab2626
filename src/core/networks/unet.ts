/**
 * diffusers' UNet2DConditionModel (SD 1.x/2.x family) as an ONNX graph, module by module as
 * diffusers builds it. Inputs: `sample` [B, in, h, w], `timestep` float32 [1 or B],
 * `encoder_hidden_states` [B, 77, cross], and `timestep_cond` [B, time_cond_proj_dim] for LCM
 * UNets. Output: `out_sample` [B, out, h, w].
 */
import { ONNX_FLOAT } from '../onnx/writer';
import type { UnetConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import {
  attention,
  conv2d,
  fromTokens,
  gelu,
  groupNorm,
  layerNorm,
  linear,
  silu,
  toTokens,
  upsampleNearest,
} from './layers';

/** The UNet graph, with how its first convolution takes its input channels. */
export interface UnetBuildOptions extends GraphOptions {
  /**
   * Zero-pad the input channels up to a multiple of 4 before conv_in. onnxruntime-web 1.30's WebGPU
   * Conv gives wrong results with 9 input channels: measured on the reference inpainting checkpoint,
   * 37/255 mean off diffusers' image unpadded, 0.001/255 padded (WASM 0.0003/255 either way). Zeros
   * change nothing in the sum, so the graph is the same function on every backend.
   */
  padInputChannels?: boolean;
}

/** get_timestep_embedding's frequencies: exp(−ln(10000)·i / (half − shift)). */
function timestepFrequencies(dim: number, shift: number): Float32Array {
  const half = dim >> 1;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - shift)));
}

export function buildUnet(config: UnetConfig, weights: WeightSet, options: UnetBuildOptions = {}): Uint8Array {
  const g = new Graph('UNet2DConditionModel', weights, options);
  const c = config;
  const n = c.blockOut.length;
  const sample = g.input('sample', ONNX_FLOAT, ['batch', c.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', ONNX_FLOAT, ['timestep_batch']);
  const context = g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'sequence', c.crossAttentionDim]);
  const timestepCond = c.timeCondProjDim ? g.input('timestep_cond', ONNX_FLOAT, ['batch', c.timeCondProjDim]) : null;

  // 1. Time: sinusoidal projection (flip_sin_to_cos puts cos first), then TimestepEmbedding.
  const c0 = c.blockOut[0]!;
  const timeDim = c0 * 4;
  const args = g.op('Mul', [
    g.op('Unsqueeze', [timestep, g.ints([1])]),
    g.floatsConst(timestepFrequencies(c0, c.freqShift), [1, c0 >> 1]),
  ]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  let temb = g.op('Concat', c.flipSinToCos ? [cos, sin] : [sin, cos], [{ name: 'axis', i: 1 }]);
  if (timestepCond)
    temb = g.op('Add', [temb, linear(g, timestepCond, 'time_embedding.cond_proj', c.timeCondProjDim!, c0, false, 2)]);
  temb = linear(
    g,
    silu(g, linear(g, temb, 'time_embedding.linear_1', c0, timeDim, true, 2)),
    'time_embedding.linear_2',
    timeDim,
    timeDim,
    true,
    2,
  );
  const tembAct = silu(g, temb);

  const resnet = (x: string, at: string, inC: number, outC: number, scale = 1): string => {
    let h = conv2d(g, silu(g, groupNorm(g, x, `${at}.norm1`, inC, c.groups, c.eps)), `${at}.conv1`, inC, outC, 3);
    const t = linear(g, tembAct, `${at}.time_emb_proj`, timeDim, outC, true, 2);
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.ints([2, 3])])]);
    h = conv2d(g, silu(g, groupNorm(g, h, `${at}.norm2`, outC, c.groups, c.eps)), `${at}.conv2`, outC, outC, 3);
    const skip = inC === outC ? x : conv2d(g, x, `${at}.conv_shortcut`, inC, outC, 1);
    const sum = g.op('Add', [skip, h]);
    return scale === 1 ? sum : g.op('Div', [sum, g.scalar(scale)]);
  };

  const attn = (x: string, ctx: string, at: string, dim: number, ctxDim: number, heads: number): string => {
    const q = linear(g, x, `${at}.to_q`, dim, dim, false);
    const k = linear(g, ctx, `${at}.to_k`, ctxDim, dim, false);
    const v = linear(g, ctx, `${at}.to_v`, ctxDim, dim, false);
    return linear(g, attention(g, q, k, v, heads, dim / heads), `${at}.to_out.0`, dim, dim);
  };

  // Transformer2DModel: GroupNorm(eps 1e-6), proj_in, BasicTransformerBlocks, proj_out, residual.
  const transformer = (x: string, at: string, ch: number, heads: number, layers: number): string => {
    const normed = groupNorm(g, x, `${at}.norm`, ch, c.groups, 1e-6);
    let h = c.linearProjection
      ? linear(g, toTokens(g, normed, ch), `${at}.proj_in`, ch, ch)
      : toTokens(g, conv2d(g, normed, `${at}.proj_in`, ch, ch, 1), ch);
    for (let b = 0; b < layers; b++) {
      const blk = `${at}.transformer_blocks.${b}`;
      const n1 = layerNorm(g, h, `${blk}.norm1`, ch, 1e-5);
      h = g.op('Add', [h, attn(n1, n1, `${blk}.attn1`, ch, ch, heads)]);
      h = g.op('Add', [
        h,
        attn(layerNorm(g, h, `${blk}.norm2`, ch, 1e-5), context, `${blk}.attn2`, ch, c.crossAttentionDim, heads),
      ]);
      // GEGLU: the projection's first half times gelu of its second half.
      const inner = ch * 4;
      const proj = linear(g, layerNorm(g, h, `${blk}.norm3`, ch, 1e-5), `${blk}.ff.net.0.proj`, ch, inner * 2);
      const [value, gate] = g.opN('Split', [proj, g.ints([inner, inner])], 2, [{ name: 'axis', i: -1 }]);
      h = g.op('Add', [h, linear(g, g.op('Mul', [value!, gelu(g, gate!)]), `${blk}.ff.net.2`, inner, ch)]);
    }
    const out = c.linearProjection
      ? fromTokens(g, linear(g, h, `${at}.proj_out`, ch, ch), x)
      : conv2d(g, fromTokens(g, h, x), `${at}.proj_out`, ch, ch, 1);
    return g.op('Add', [out, x]);
  };

  // 2. Input convolution (see padInputChannels).
  let x = sample;
  let conv = `conv_in`;
  let inC = c.inChannels;
  const padded = options.padInputChannels && inC % 4 !== 0 ? inC + (4 - (inC % 4)) : inC;
  if (padded !== inC) {
    x = g.op('Pad', [x, g.ints([0, 0, 0, 0, 0, padded - inC, 0, 0])]);
    const w = g.op('Pad', [
      g.weight('conv_in.weight', [c0, inC, c.convInKernel, c.convInKernel]),
      g.ints([0, 0, 0, 0, 0, padded - inC, 0, 0]),
    ]);
    const k = c.convInKernel;
    x = g.op(
      'Conv',
      [x, w, g.weight('conv_in.bias', [c0])],
      [
        { name: 'kernel_shape', ints: [k, k] },
        { name: 'pads', ints: new Array<number>(4).fill((k - 1) >> 1) },
      ],
    );
    conv = '';
    inC = padded;
  }
  if (conv) x = conv2d(g, x, conv, inC, c0, c.convInKernel);

  // 3. Down blocks: every resnet (+ attention) output and every downsample is a skip.
  const skips: { value: string; channels: number }[] = [{ value: x, channels: c0 }];
  let channels = c0;
  for (let i = 0; i < n; i++) {
    const outC = c.blockOut[i]!;
    for (let j = 0; j < c.layersPerBlock[i]!; j++) {
      x = resnet(x, `down_blocks.${i}.resnets.${j}`, channels, outC);
      channels = outC;
      if (c.down[i] === 'CrossAttnDownBlock2D') {
        x = transformer(x, `down_blocks.${i}.attentions.${j}`, outC, c.heads[i]!, c.transformerLayers[i]!);
      }
      skips.push({ value: x, channels });
    }
    if (i < n - 1) {
      const at = `down_blocks.${i}.downsamplers.0.conv`;
      if (c.downsamplePadding === 0) x = g.op('Pad', [x, g.ints([0, 0, 0, 0, 0, 0, 1, 1])]);
      x = conv2d(g, x, at, outC, outC, 3, { stride: 2, pad: c.downsamplePadding });
      skips.push({ value: x, channels });
    }
  }

  // 4. Mid block: resnet, transformer, resnet.
  if (c.midBlock) {
    const top = c.blockOut[n - 1]!;
    x = resnet(x, 'mid_block.resnets.0', top, top, c.midScale);
    x = transformer(x, 'mid_block.attentions.0', top, c.heads[n - 1]!, c.transformerLayers[n - 1]!);
    x = resnet(x, 'mid_block.resnets.1', top, top, c.midScale);
  }

  // 5. Up blocks, in reverse, each resnet taking one skip; upsampling to the next skip's size.
  const reversed = [...c.blockOut].reverse();
  for (let i = 0; i < n; i++) {
    const outC = reversed[i]!;
    const layers = [...c.layersPerBlock].reverse()[i]! + 1;
    const heads = [...c.heads].reverse()[i]!;
    const tLayers = [...c.transformerLayers].reverse()[i]!;
    for (let j = 0; j < layers; j++) {
      const skip = skips.pop()!;
      x = g.op('Concat', [x, skip.value], [{ name: 'axis', i: 1 }]);
      x = resnet(x, `up_blocks.${i}.resnets.${j}`, channels + skip.channels, outC);
      channels = outC;
      if (c.up[i] === 'CrossAttnUpBlock2D') x = transformer(x, `up_blocks.${i}.attentions.${j}`, outC, heads, tLayers);
    }
    if (i < n - 1) {
      x = upsampleNearest(g, x, skips[skips.length - 1]!.value);
      x = conv2d(g, x, `up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3);
    }
  }

  // 6. Output.
  x = silu(g, groupNorm(g, x, 'conv_norm_out', c0, c.groups, c.eps));
  x = conv2d(g, x, 'conv_out', c0, c.outChannels, c.convOutKernel);
  g.output('out_sample', x, ONNX_FLOAT, ['batch', c.outChannels, 'height', 'width']);
  return g.encode();
}
