/**
 * diffusers' ControlNetModel as an ONNX graph: the UNet's time embedding, conv_in, down blocks and
 * mid block (its own weights), with the control picture's features added after conv_in, and a
 * zero convolution on every skip and on the mid block's output. Inputs: `sample`, `timestep`,
 * `encoder_hidden_states` as the UNet takes them, `controlnet_cond` [B, 3, 8h, 8w] in [0, 1], and
 * `conditioning_scales` [skips + 1]: each residual's factor (the conditioning scale, or guess
 * mode's 0.1 → 1.0 ramp times it), computed by the pipeline. Outputs: `down_block_res_sample_<i>`
 * and `mid_block_res_sample`, ready for the UNet's residual inputs.
 */
import { ONNX_FLOAT } from '../onnx/writer';
import type { ControlNetConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { conv2d, silu } from './layers';
import { skipCount, unetContext, unetEncoder } from './unet';

export const controlOutputNames = (skips: number) => ({
  down: Array.from({ length: skips }, (_, i) => `down_block_res_sample_${i}`),
  mid: 'mid_block_res_sample',
});

/** ControlNetConditioningEmbedding: conv_in, then per step a 3×3 conv and a strided one, SiLU after each, then conv_out. */
function conditioningEmbedding(g: Graph, cond: string, c: ControlNetConfig): string {
  const at = 'controlnet_cond_embedding';
  const ch = c.embeddingChannels;
  let x = silu(
    g,
    conv2d(g, cond, `${at}.conv_in`, { inChannels: c.conditioningChannels, outChannels: ch[0]!, kernel: 3 }),
  );
  for (let i = 0; i < ch.length - 1; i++) {
    const [cin, cout] = [ch[i]!, ch[i + 1]!];
    x = silu(g, conv2d(g, x, `${at}.blocks.${2 * i}`, { inChannels: cin, outChannels: cin, kernel: 3 }));
    x = silu(
      g,
      conv2d(g, x, `${at}.blocks.${2 * i + 1}`, { inChannels: cin, outChannels: cout, kernel: 3, stride: 2 }),
    );
  }
  return conv2d(g, x, `${at}.conv_out`, {
    inChannels: ch[ch.length - 1]!,
    outChannels: c.unet.blockOut[0]!,
    kernel: 3,
  });
}

export function buildControlNet(config: ControlNetConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('ControlNetModel', weights, options);
  const c = config.unet;
  const sample = g.toCompute(g.input('sample', ONNX_FLOAT, ['batch', c.inChannels, 'height', 'width']));
  const timestep = g.input('timestep', ONNX_FLOAT, ['timestep_batch']);
  const context = g.toCompute(g.input('encoder_hidden_states', ONNX_FLOAT, ['batch', 'sequence', c.crossAttentionDim]));
  let cond = g.toCompute(
    g.input('controlnet_cond', ONNX_FLOAT, ['batch', config.conditioningChannels, 'image_height', 'image_width']),
  );
  const count = skipCount(c);
  const scales = g.toCompute(g.input('conditioning_scales', ONNX_FLOAT, [count + 1]));

  // 1. Time, as the UNet (LCM ControlNets have no timestep_cond).
  const unet = unetContext(g, c, { timestep, context, timestepCond: null, textTime: null });

  // 2. conv_in plus the control picture's features ("bgr" ControlNets see the channels reversed).
  if (config.channelOrder === 'bgr') {
    const reversed = g.ints([2, 1, 0]);
    cond = g.op('Gather', [cond, reversed], [{ name: 'axis', i: 1 }]);
  }
  const x = conv2d(g, sample, 'conv_in', { inChannels: c.inChannels, outChannels: c.blockOut[0]!, kernel: 3 });
  const start = g.op('Add', [x, conditioningEmbedding(g, cond, config)]);

  // 3. Down and mid blocks, as the UNet's.
  const encoded = unetEncoder(g, c, start, unet);
  if (encoded.skips.length !== count) throw new Error(`ControlNet: ${encoded.skips.length} skips, expected ${count}.`);

  // 4. Zero convolutions, each residual times its scale (then averaged for global-pool ControlNets).
  const names = controlOutputNames(count);
  const scaled = (value: string, i: number) => {
    let y = g.op('Mul', [value, g.op('Gather', [scales, g.ints([i])], [{ name: 'axis', i: 0 }])]);
    if (config.globalPool)
      y = g.op(
        'ReduceMean',
        [y],
        [
          { name: 'axes', ints: [2, 3] },
          { name: 'keepdims', i: 1 },
        ],
      );
    return g.toFloat32(y);
  };
  encoded.skips.forEach((skip, i) => {
    const zero = conv2d(g, skip.value, `controlnet_down_blocks.${i}`, {
      inChannels: skip.channels,
      outChannels: skip.channels,
      kernel: 1,
    });
    g.output(names.down[i]!, scaled(zero, i), ONNX_FLOAT, ['batch', skip.channels, `skip_${i}_h`, `skip_${i}_w`]);
  });
  const mid = conv2d(g, encoded.value, 'controlnet_mid_block', {
    inChannels: encoded.channels,
    outChannels: encoded.channels,
    kernel: 1,
  });
  g.output(names.mid, scaled(mid, count), ONNX_FLOAT, ['batch', encoded.channels, 'mid_h', 'mid_w']);
  return g.encode();
}
