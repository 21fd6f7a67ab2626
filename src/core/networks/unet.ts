/**
 * diffusers' UNet2DConditionModel (SD 1.x/2.x and SDXL) as an ONNX graph, composed of the blocks in
 * blocks/ in the order diffusers' forward() runs them. Inputs: `sample` [B, in, h, w], `timestep`
 * float32 [1 or B], `encoder_hidden_states` [B, 77, cross], `timestep_cond` [B, time_cond_proj_dim]
 * for LCM UNets, `text_embeds` [B, pooled] and `time_ids` [B, 6] for SDXL. Output: `out_sample`
 * [B, out, h, w].
 */
import { ONNX_FLOAT } from '../onnx/writer';
import { timestepEmbedding, timesteps } from './blocks/embeddings';
import { downBlock2D, midBlock2DCrossAttn, upBlock2D, type Skip, type UnetContext } from './blocks/unet-blocks';
import { SDXL_TIME_IDS, type UnetConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { conv2d, groupNorm, silu } from './layers';

/** The UNet graph, with how its first convolution takes its input channels. */
export interface UnetBuildOptions extends GraphOptions {
  /**
   * Zero-pad the input channels up to a multiple of 4 before conv_in. onnxruntime-web 1.30's WebGPU
   * Conv gives wrong results with 9 input channels: measured on the reference inpainting checkpoint,
   * 37/255 mean off diffusers' image unpadded, 0.001/255 padded (WASM 0.0003/255 either way). Zeros
   * change nothing in the sum, so the graph is the same function on every backend.
   */
  padInputChannels?: boolean;
  /**
   * Takes a ControlNet's residuals as inputs (`controlInputNames`), added to the skips and the mid
   * block's output; a run without a ControlNet feeds zeros, which change nothing.
   */
  controlResiduals?: boolean;
}

/** conv_in, its input and weight zero-padded to `padded` channels when that differs from the config's. */
function convIn(g: Graph, sample: string, c: UnetConfig, padded: number): string {
  const outChannels = c.blockOut[0]!;
  const k = c.convInKernel;
  if (padded === c.inChannels) {
    return conv2d(g, sample, 'conv_in', { inChannels: c.inChannels, outChannels, kernel: k });
  }
  const pads = g.ints([0, 0, 0, 0, 0, padded - c.inChannels, 0, 0]);
  const x = g.op('Pad', [sample, pads]);
  const w = g.op('Pad', [g.weight('conv_in.weight', [outChannels, c.inChannels, k, k]), pads]);
  return g.op(
    'Conv',
    [x, w, g.weight('conv_in.bias', [outChannels])],
    [
      { name: 'kernel_shape', ints: [k, k] },
      { name: 'pads', ints: new Array<number>(4).fill((k - 1) >> 1) },
    ],
  );
}

/** The config's down/mid attention for block `i`: CrossAttn blocks have a transformer, others none. */
function attentionOf(c: UnetConfig, i: number) {
  return c.down[i]!.startsWith('CrossAttn') ? { heads: c.heads[i]!, transformerLayers: c.transformerLayers[i]! } : null;
}

/**
 * Steps 1 of UNet2DConditionModel.forward, shared with ControlNetModel: the time embedding (with
 * LCM's guidance condition) and what every block reads.
 */
export function unetContext(
  g: Graph,
  c: UnetConfig,
  inputs: { timestep: string; context: string; timestepCond: string | null; textTime: TextTimeInputs | null },
): UnetContext {
  const c0 = c.blockOut[0]!;
  const timeDim = c0 * 4;
  const projected = timesteps(g, inputs.timestep, {
    channels: c0,
    flipSinToCos: c.flipSinToCos,
    freqShift: c.freqShift,
  });
  const temb = timestepEmbedding(g, projected, 'time_embedding', {
    inChannels: c0,
    timeEmbedDim: timeDim,
    ...(inputs.timestepCond ? { condition: { value: inputs.timestepCond, dim: c.timeCondProjDim! } } : {}),
  });
  const emb = inputs.textTime ? g.op('Add', [temb, textTimeEmbedding(g, c, inputs.textTime, timeDim)]) : temb;
  return {
    temb: { value: silu(g, emb), channels: timeDim },
    context: { value: inputs.context, dim: c.crossAttentionDim },
    groups: c.groups,
    eps: c.eps,
    linearProjection: c.linearProjection,
    upcastAttention: c.upcastAttention,
  };
}

/** SDXL's added conditions, graph values in the compute type. */
export interface TextTimeInputs {
  /** The second text encoder's pooled, projected output [B, pooled]. */
  textEmbeds: string;
  /** Original size, crop top-left, target size [B, 6], float32. */
  timeIds: string;
}

/** The inputs SDXL's added conditions come in by (see TextTimeInputs), and the pooled width. */
export const TEXT_TIME_INPUTS = { textEmbeds: 'text_embeds', timeIds: 'time_ids' } as const;

/** The pooled text width an SDXL UNet takes: what the time ids leave of add_embedding's input. */
export function pooledTextWidth(c: UnetConfig): number | null {
  return c.textTime ? c.textTime.inputDim - SDXL_TIME_IDS * c.textTime.timeEmbedDim : null;
}

/**
 * diffusers' get_aug_embed for "text_time": each time id through add_time_proj (a Timesteps of
 * addition_time_embed_dim), flattened per item, after the pooled text; then add_embedding.
 */
function textTimeEmbedding(g: Graph, c: UnetConfig, inputs: TextTimeInputs, timeDim: number): string {
  const { timeEmbedDim, inputDim } = c.textTime!;
  const flat = g.op('Reshape', [inputs.timeIds, g.ints([-1])]);
  const projected = timesteps(g, flat, {
    channels: timeEmbedDim,
    flipSinToCos: c.flipSinToCos,
    freqShift: c.freqShift,
  });
  const perItem = g.op('Reshape', [projected, g.ints([-1, SDXL_TIME_IDS * timeEmbedDim])]);
  const joined = g.op('Concat', [inputs.textEmbeds, perItem], [{ name: 'axis', i: 1 }]);
  return timestepEmbedding(g, joined, 'add_embedding', { inChannels: inputDim, timeEmbedDim: timeDim });
}

/** The added-condition inputs of an SDXL UNet (or ControlNet), null for SD 1.x/2.x. */
export function textTimeInputs(g: Graph, c: UnetConfig): TextTimeInputs | null {
  const pooled = pooledTextWidth(c);
  if (pooled === null) return null;
  return {
    textEmbeds: g.toCompute(g.input(TEXT_TIME_INPUTS.textEmbeds, ONNX_FLOAT, ['batch', pooled])),
    timeIds: g.input(TEXT_TIME_INPUTS.timeIds, ONNX_FLOAT, ['batch', SDXL_TIME_IDS]),
  };
}

/**
 * The down blocks and the mid block after conv_in, shared with ControlNetModel: the mid block's
 * output, and the skips (conv_in's output, then every resnet (+ attention) and downsample output).
 */
export function unetEncoder(
  g: Graph,
  c: UnetConfig,
  convInOut: string,
  unet: UnetContext,
): { value: string; channels: number; skips: Skip[] } {
  const n = c.blockOut.length;
  let x = convInOut;
  let channels = c.blockOut[0]!;
  const skips: Skip[] = [{ value: x, channels }];
  for (let i = 0; i < n; i++) {
    const block = downBlock2D(
      g,
      x,
      `down_blocks.${i}`,
      {
        inChannels: channels,
        outChannels: c.blockOut[i]!,
        layers: c.layersPerBlock[i]!,
        attention: attentionOf(c, i),
        downsamplePadding: i < n - 1 ? c.downsamplePadding : null,
      },
      unet,
    );
    x = block.value;
    skips.push(...block.skips);
    channels = c.blockOut[i]!;
  }
  if (c.midBlock) {
    const attention = { heads: c.heads[n - 1]!, transformerLayers: c.transformerLayers[n - 1]! };
    x = midBlock2DCrossAttn(g, x, 'mid_block', { channels, attention, outputScaleFactor: c.midScale }, unet);
  }
  return { value: x, channels, skips };
}

/** The names of the residual inputs a ControlNet-guided UNet takes (see UnetBuildOptions.controlResiduals). */
export const controlInputNames = (skipCount: number) => ({
  down: Array.from({ length: skipCount }, (_, i) => `down_block_additional_residual_${i}`),
  mid: 'mid_block_additional_residual',
});

/** How many skips the down path keeps: conv_in's, each resnet's, each downsampler's. */
export function skipCount(c: UnetConfig): number {
  const n = c.blockOut.length;
  return 1 + c.layersPerBlock.reduce((a, b) => a + b, 0) + (n - 1);
}

export function buildUnet(config: UnetConfig, weights: WeightSet, options: UnetBuildOptions = {}): Uint8Array {
  const g = new Graph('UNet2DConditionModel', weights, options);
  const c = config;
  const n = c.blockOut.length;
  const c0 = c.blockOut[0]!;
  const sample = g.toCompute(g.input('sample', ONNX_FLOAT, ['batch', c.inChannels, 'height', 'width']));
  const timestep = g.input('timestep', ONNX_FLOAT, ['timestep_batch']);
  const context = g.toCompute(g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'sequence', c.crossAttentionDim]));
  const timestepCond = c.timeCondProjDim
    ? g.toCompute(g.input('timestep_cond', ONNX_FLOAT, ['batch', c.timeCondProjDim]))
    : null;

  // 1. Time (with SDXL's pooled text and time ids), and what every block reads.
  const unet = unetContext(g, c, { timestep, context, timestepCond, textTime: textTimeInputs(g, c) });

  // 2. Input convolution (see padInputChannels).
  const padded =
    options.padInputChannels && c.inChannels % 4 !== 0 ? c.inChannels + 4 - (c.inChannels % 4) : c.inChannels;

  // 3–4. Down blocks and mid block.
  const encoded = unetEncoder(g, c, convIn(g, sample, c, padded), unet);
  let x = encoded.value;
  let channels = encoded.channels;
  let skips = encoded.skips;

  // 4b. A ControlNet's residuals, added to every skip and to the mid block's output, as diffusers'
  // forward does with down_block_additional_residuals and mid_block_additional_residual.
  if (options.controlResiduals) {
    const names = controlInputNames(skips.length);
    skips = skips.map((skip, i) => {
      const residual = g.input(names.down[i]!, ONNX_FLOAT, ['batch', skip.channels, `skip_${i}_h`, `skip_${i}_w`]);
      return { value: g.op('Add', [skip.value, g.toCompute(residual)]), channels: skip.channels };
    });
    const mid = g.input(names.mid, ONNX_FLOAT, ['batch', channels, 'mid_h', 'mid_w']);
    x = g.op('Add', [x, g.toCompute(mid)]);
  }

  // 5. Up blocks, in reverse, each resnet taking one skip; upsampling to the next skip's size.
  const reversed = (list: readonly number[]) => [...list].reverse();
  const [outs, layers, heads, tLayers] = [c.blockOut, c.layersPerBlock, c.heads, c.transformerLayers].map(reversed);
  for (let i = 0; i < n; i++) {
    const cross = c.up[i] === 'CrossAttnUpBlock2D';
    x = upBlock2D(
      g,
      x,
      `up_blocks.${i}`,
      {
        inChannels: channels,
        outChannels: outs![i]!,
        layers: layers![i]! + 1,
        attention: cross ? { heads: heads![i]!, transformerLayers: tLayers![i]! } : null,
        upsample: i < n - 1,
      },
      skips,
      unet,
    );
    channels = outs![i]!;
  }

  // 6. Output.
  x = silu(g, groupNorm(g, x, 'conv_norm_out', { channels: c0, groups: c.groups, eps: c.eps }));
  x = conv2d(g, x, 'conv_out', { inChannels: c0, outChannels: c.outChannels, kernel: c.convOutKernel });
  g.output('out_sample', g.toFloat32(x), ONNX_FLOAT, ['batch', c.outChannels, 'height', 'width']);
  return g.encode();
}
