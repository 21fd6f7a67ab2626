/**
 * The safety checker's image tower as an ONNX graph: transformers' CLIPVisionModel (patch
 * embedding, class token, position embeddings, pre-norm, the encoder, the class token through the
 * post-norm) and the checker's `visual_projection`. Input `pixel_values` float32 [B, 3, S, S];
 * output `image_embeds` [B, projection].
 */
import { ONNX_FLOAT } from '../onnx/writer';
import { clipEncoder, type ClipEncoderConfig } from './clip-encoder';
import { Graph, type GraphOptions, type WeightSet } from './graph';
import { conv2d, layerNorm, linear, toTokens } from './layers';

export interface ClipVisionConfig extends ClipEncoderConfig {
  imageSize: number;
  patchSize: number;
  channels: number;
  /** The width of `visual_projection`'s output (the CLIPConfig's projection_dim). */
  projectionDim: number;
}

export function buildClipVision(config: ClipVisionConfig, weights: WeightSet, options: GraphOptions = {}): Uint8Array {
  const g = new Graph('CLIPVisionModel', weights, options);
  const { hiddenSize: d, imageSize, patchSize, channels } = config;
  const patches = (imageSize / patchSize) ** 2;
  const pixels = g.toCompute(g.input('pixel_values', ONNX_FLOAT, ['batch', channels, imageSize, imageSize]));

  // Embeddings: the patches as tokens after the class token, plus a learned position per token.
  const grid = conv2d(g, pixels, 'embeddings.patch_embedding', {
    inChannels: channels,
    outChannels: d,
    kernel: patchSize,
    stride: patchSize,
    padding: 0,
    bias: false,
  });
  const tokens = toTokens(g, grid, d);
  const batch = g.op('Shape', [pixels], [{ name: 'end', i: 1 }]);
  const classShape = g.op('Concat', [batch, g.ints([1, d])], [{ name: 'axis', i: 0 }]);
  const cls = g.op('Expand', [
    g.op('Reshape', [g.weight('embeddings.class_embedding', [d]), g.ints([1, 1, d])]),
    classShape,
  ]);
  let x = g.op('Concat', [cls, tokens], [{ name: 'axis', i: 1 }]);
  x = g.op('Add', [x, g.weight('embeddings.position_embedding.weight', [patches + 1, d])]);
  // transformers' own spelling of the pre-norm's name.
  x = layerNorm(g, x, 'pre_layrnorm', { dim: d, eps: config.eps });

  const { last } = clipEncoder(g, x, config);
  const pooled = g.op('Gather', [last, g.ints([0])], [{ name: 'axis', i: 1 }]);
  const flat = g.op('Reshape', [pooled, g.ints([-1, d])]);
  const normed = layerNorm(g, flat, 'post_layernorm', { dim: d, eps: config.eps });
  const embeds = linear(g, normed, 'visual_projection', {
    inFeatures: d,
    outFeatures: config.projectionDim,
    bias: false,
    rank: 2,
  });
  g.output('image_embeds', g.toFloat32(embeds), ONNX_FLOAT, ['batch', config.projectionDim]);
  return g.encode();
}
