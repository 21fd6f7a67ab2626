/**
 * diffusers' UNet2DConditionModel (SD 1.x/2.x family) as an ONNX graph, composed of the blocks in
 * blocks/ in the order diffusers' forward() runs them. Inputs: `sample` [B, in, h, w], `timestep`
 * float32 [1 or B], `encoder_hidden_states` [B, 77, cross], and `timestep_cond`
 * [B, time_cond_proj_dim] for LCM UNets. Output: `out_sample` [B, out, h, w].
 */
import { ONNX_FLOAT } from '../onnx/writer';
import { timestepEmbedding, timesteps } from './blocks/embeddings';
import { downBlock2D, midBlock2DCrossAttn, upBlock2D, type Skip, type UnetContext } from './blocks/unet-blocks';
import type { UnetConfig } from './config';
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

  // 1. Time: the sinusoidal projection, then TimestepEmbedding (with LCM's guidance condition).
  const timeDim = c0 * 4;
  const projected = timesteps(g, timestep, { channels: c0, flipSinToCos: c.flipSinToCos, freqShift: c.freqShift });
  const temb = timestepEmbedding(g, projected, 'time_embedding', {
    inChannels: c0,
    timeEmbedDim: timeDim,
    ...(timestepCond ? { condition: { value: timestepCond, dim: c.timeCondProjDim! } } : {}),
  });
  const unet: UnetContext = {
    temb: { value: silu(g, temb), channels: timeDim },
    context: { value: context, dim: c.crossAttentionDim },
    groups: c.groups,
    eps: c.eps,
    linearProjection: c.linearProjection,
    upcastAttention: c.upcastAttention,
  };
  const attentionOf = (type: string, i: number) =>
    type.startsWith('CrossAttn') ? { heads: c.heads[i]!, transformerLayers: c.transformerLayers[i]! } : null;

  // 2. Input convolution (see padInputChannels).
  const padded =
    options.padInputChannels && c.inChannels % 4 !== 0 ? c.inChannels + 4 - (c.inChannels % 4) : c.inChannels;
  let x = convIn(g, sample, c, padded);

  // 3. Down blocks: every resnet (+ attention) output and every downsample is a skip.
  const skips: Skip[] = [{ value: x, channels: c0 }];
  let channels = c0;
  for (let i = 0; i < n; i++) {
    const block = downBlock2D(
      g,
      x,
      `down_blocks.${i}`,
      {
        inChannels: channels,
        outChannels: c.blockOut[i]!,
        layers: c.layersPerBlock[i]!,
        attention: attentionOf(c.down[i]!, i),
        downsamplePadding: i < n - 1 ? c.downsamplePadding : null,
      },
      unet,
    );
    x = block.value;
    skips.push(...block.skips);
    channels = c.blockOut[i]!;
  }

  // 4. Mid block.
  if (c.midBlock) {
    const attention = { heads: c.heads[n - 1]!, transformerLayers: c.transformerLayers[n - 1]! };
    x = midBlock2DCrossAttn(g, x, 'mid_block', { channels, attention, outputScaleFactor: c.midScale }, unet);
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
