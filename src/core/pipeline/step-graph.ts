/**
 * The denoising step as a small ONNX graph, so on WebGPU it runs where the UNet's output already
 * is: classifier-free guidance, the scheduler's linear step (see schedulers/linear-plan) and the
 * next UNet input, with no latent-sized read back to the CPU.
 *
 * Inputs                                   Outputs
 *   noise_pred [B, C, H, W] (UNet dtype)     next_state  [STATE_ROWS, N]
 *   state      [STATE_ROWS, N]               latents     [1, N]  (the new sample)
 *   guidance   [B, 1]  CFG weights           unet_sample [B, C, H, W] (UNet dtype)
 *   noise      [1, N]
 *   weights    [STATE_ROWS + 2, 1]  row 0 of the step's matrix
 *   c_in       [1]     the next step's input scale
 * with N = C·H·W. B is 2 for a batch-2 guided call ([1 − g, g] combine the halves) and 1 otherwise.
 *
 * Weighted sums are Mul + ReduceSum rather than MatMul: ORT's WebGPU MatMul with a handful of rows
 * and 16 K columns took 533 ms on SwiftShader where Mul + ReduceSum took 14 ms. The other rows of
 * every step matrix are the same window shift (linear-plan builds them so), done here by slicing.
 */
import { encodeOnnxModel, ONNX_FLOAT, ONNX_FLOAT16, type NodeSpec } from '../onnx/writer';
import { PLAN_COLUMNS, PLAN_WINDOW, STATE_ROWS } from '../schedulers/linear-plan';

export type StepGraphDtype = 'float32' | 'float16';

export function stepGraph(dtype: StepGraphDtype): Uint8Array {
  const unetType = dtype === 'float16' ? ONNX_FLOAT16 : ONNX_FLOAT;
  const half = dtype === 'float16';
  const W = PLAN_WINDOW;
  const nodes: NodeSpec[] = [
    { op: 'Reshape', inputs: ['noise_pred', 'keep_batch_flatten'], outputs: ['pred_flat'] },
    ...(half
      ? [{ op: 'Cast', inputs: ['pred_flat'], outputs: ['pred_f32'], attrs: [{ name: 'to', i: ONNX_FLOAT }] }]
      : []),
    { op: 'Mul', inputs: [half ? 'pred_f32' : 'pred_flat', 'guidance'], outputs: ['pred_weighted'] },
    { op: 'ReduceSum', inputs: ['pred_weighted', 'zero'], outputs: ['eps'] },
    { op: 'Concat', inputs: ['state', 'eps', 'noise'], outputs: ['stack'], attrs: [{ name: 'axis', i: 0 }] },
    { op: 'Mul', inputs: ['stack', 'weights'], outputs: ['stack_weighted'] },
    { op: 'ReduceSum', inputs: ['stack_weighted', 'zero'], outputs: ['latents'] },
    // The window shift: samples k…k−W+1 move down one row, this step's output joins the outputs.
    { op: 'Slice', inputs: ['state', 'zero', 'samples_end', 'zero'], outputs: ['older_samples'] },
    { op: 'Slice', inputs: ['state', 'outputs_start', 'outputs_end', 'zero'], outputs: ['older_outputs'] },
    {
      op: 'Concat',
      inputs: ['latents', 'older_samples', 'eps', 'older_outputs'],
      outputs: ['next_state'],
      attrs: [{ name: 'axis', i: 0 }],
    },
    { op: 'Mul', inputs: ['latents', 'c_in'], outputs: ['scaled'] },
    { op: 'Shape', inputs: ['noise_pred'], outputs: ['pred_shape'] },
    { op: 'Slice', inputs: ['pred_shape', 'zero', 'one', 'zero'], outputs: ['batch'] },
    { op: 'Concat', inputs: ['batch', 'one'], outputs: ['batch_by_one'], attrs: [{ name: 'axis', i: 0 }] },
    { op: 'Expand', inputs: ['scaled', 'batch_by_one'], outputs: ['repeated'] },
    { op: 'Reshape', inputs: ['repeated', 'pred_shape'], outputs: [half ? 'unet_f32' : 'unet_sample'] },
    ...(half
      ? [{ op: 'Cast', inputs: ['unet_f32'], outputs: ['unet_sample'], attrs: [{ name: 'to', i: ONNX_FLOAT16 }] }]
      : []),
  ];
  return encodeOnnxModel({
    name: `latent_studio_step_${dtype}`,
    opset: 17,
    inputs: [
      { name: 'noise_pred', type: unetType, dims: ['B', 'C', 'H', 'W'] },
      { name: 'state', type: ONNX_FLOAT, dims: [STATE_ROWS, 'N'] },
      { name: 'guidance', type: ONNX_FLOAT, dims: ['B', 1] },
      { name: 'noise', type: ONNX_FLOAT, dims: [1, 'N'] },
      { name: 'weights', type: ONNX_FLOAT, dims: [PLAN_COLUMNS, 1] },
      { name: 'c_in', type: ONNX_FLOAT, dims: [1] },
    ],
    outputs: [
      { name: 'next_state', type: ONNX_FLOAT, dims: [STATE_ROWS, 'N'] },
      { name: 'latents', type: ONNX_FLOAT, dims: [1, 'N'] },
      { name: 'unet_sample', type: unetType, dims: ['B', 'C', 'H', 'W'] },
    ],
    int64s: [
      { name: 'keep_batch_flatten', values: [0, -1] },
      { name: 'zero', values: [0] },
      { name: 'one', values: [1] },
      { name: 'samples_end', values: [W] },
      { name: 'outputs_start', values: [W + 1] },
      { name: 'outputs_end', values: [2 * W] },
    ],
    nodes,
  });
}

/** The CFG weights that turn the UNet's output batch into one noise prediction. */
export function guidanceWeights(batch: 1 | 2, guided: boolean, scale: number): Float32Array {
  if (batch === 1) return Float32Array.of(1);
  // [uncond; cond]: uncond + g·(cond − uncond). Unguided batch-2 exports run [cond; cond]: take one.
  return guided ? Float32Array.of(1 - scale, scale) : Float32Array.of(0, 1);
}
