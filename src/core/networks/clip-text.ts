/**
 * transformers' CLIPTextModel (and CLIPTextModelWithProjection) as an ONNX graph: token + position
 * embeddings, pre-norm encoder layers with causal self-attention, the final layer norm. Inputs
 * `input_ids` int32 [B, T]; outputs `last_hidden_state` [B, T, hidden], `pooler_output` [B, hidden],
 * `layer_states` [layers, B, T, hidden]: every layer's output through the final norm, for SD 1.x/2.x
 * clip skip (diffusers' `final_layer_norm(hidden_states[-(clip_skip + 1)])`), at the cost of one
 * more layer norm over the stacked layers, small beside the layers themselves; `hidden_states`
 * [layers, B, T, hidden]: every layer's output as it is (transformers' hidden_states[1:]), what SDXL
 * takes (hidden_states[-2]); and with a projection, `text_embeds` [B, projection].
 */
import { ONNX_FLOAT, ONNX_INT32 } from '../onnx/writer';
import type { ClipTextConfig } from './config';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { clipEncoder } from './clip-encoder';
import { layerNorm, linear } from './layers';

export const LAYER_STATES = 'layer_states';
export const HIDDEN_STATES = 'hidden_states';
export const TEXT_EMBEDS = 'text_embeds';

export function buildClipText(config: ClipTextConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('CLIPTextModel', weights, options);
  const { hiddenSize: d, maxPositions: p } = config;
  const ids = g.input('input_ids', ONNX_INT32, ['batch', 'sequence']);

  // Embeddings: positions 0..T-1 are the first T rows of the position table.
  const tokens = g.op('Gather', [g.weight('embeddings.token_embedding.weight', [config.vocabSize, d]), ids]);
  const length = g.op('Shape', [ids], [{ name: 'start', i: 1 }]);
  const positions = g.op('Slice', [
    g.weight('embeddings.position_embedding.weight', [p, d]),
    g.ints([0]),
    length,
    g.ints([0]),
  ]);
  let x = g.op('Add', [tokens, positions]);

  // The causal mask for T tokens is the top-left T×T corner of the largest one; transformers fills
  // the future positions with the dtype's lowest value.
  const full = new Float32Array(p * p);
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) full[i * p + j] = g.lowest;
  const square = g.op('Concat', [length, length], [{ name: 'axis', i: 0 }]);
  const mask = g.op('Slice', [g.constant(full, [p, p]), g.ints([0, 0]), square, g.ints([0, 1])]);

  const encoded = clipEncoder(g, x, config, mask);
  x = encoded.last;
  const layerOutputs = encoded.layerOutputs.map((out) => g.op('Unsqueeze', [out, g.ints([0])]));
  const last = layerNorm(g, x, 'final_layer_norm', { dim: d, eps: config.eps });
  g.output('last_hidden_state', g.toFloat32(last), ONNX_FLOAT, ['batch', 'sequence', d]);
  const stacked = layerOutputs.length === 1 ? layerOutputs[0]! : g.op('Concat', layerOutputs, [{ name: 'axis', i: 0 }]);
  const states = layerNorm(g, stacked, 'final_layer_norm', { dim: d, eps: config.eps });
  g.output(LAYER_STATES, g.toFloat32(states), ONNX_FLOAT, [config.layers, 'batch', 'sequence', d]);
  g.output(HIDDEN_STATES, g.toFloat32(stacked), ONNX_FLOAT, [config.layers, 'batch', 'sequence', d]);

  // The pooled token: transformers takes the highest id when eos_token_id is the legacy 2 (the
  // end token has the highest id in CLIP's vocabulary), else the first end token.
  const marks =
    config.eosTokenId === 2
      ? g.op('Cast', [ids], [{ name: 'to', i: ONNX_FLOAT }])
      : g.op(
          'Cast',
          [g.op('Equal', [ids, g.op('Cast', [g.ints([config.eosTokenId])], [{ name: 'to', i: ONNX_INT32 }])])],
          [{ name: 'to', i: ONNX_FLOAT }],
        );
  const where = g.op(
    'ArgMax',
    [marks],
    [
      { name: 'axis', i: 1 },
      { name: 'keepdims', i: 1 },
    ],
  );
  const pooled = g.op('GatherND', [last, where], [{ name: 'batch_dims', i: 1 }]);
  g.output('pooler_output', g.toFloat32(pooled), ONNX_FLOAT, ['batch', d]);
  if (config.projectionDim !== null) {
    const projection = { inFeatures: d, outFeatures: config.projectionDim, bias: false, rank: 2 } as const;
    g.output(TEXT_EMBEDS, g.toFloat32(linear(g, pooled, 'text_projection', projection)), ONNX_FLOAT, [
      'batch',
      config.projectionDim,
    ]);
  }
  return g.encode();
}
