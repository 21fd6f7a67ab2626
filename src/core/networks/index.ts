/**
 * Stable Diffusion's networks built from a diffusers checkpoint: each component's `config.json`
 * and safetensors headers in, ONNX graphs out whose weights point into those same files.
 */
import { buildClipText } from './clip-text';
import { buildControlNet } from './controlnet';
import { buildClipVision } from './clip-vision';
import {
  readClipTextConfig,
  readControlNetConfig,
  readSafetyCheckerConfig,
  readUnetConfig,
  readVaeConfig,
  type ControlNetConfig,
  type UnetConfig,
  type VaeConfig,
} from './config';
import { WeightSet, type GraphOptions, type LinearForm, type WeightFile } from './graph';
import { buildUnet, type UnetBuildOptions } from './unet';
import { buildVaeDecoder, buildVaeEncoder } from './vae';

export type { ControlNetConfig, GraphOptions, LinearForm, UnetConfig, VaeConfig, WeightFile, UnetBuildOptions };
export { WeightSet };

/** A component folder as read: its config (parsed JSON) and its weight files' headers. */
export interface ComponentSource {
  /** e.g. `unet/config.json`, for messages. */
  configPath: string;
  config: unknown;
  files: WeightFile[];
}

/** transformers saves CLIPTextModel's weights under `text_model.`; some converters drop it. */
const TEXT_PREFIXES = ['text_model.', ''];

export function textEncoderGraph(
  source: ComponentSource,
  options: GraphOptions & { extraTokens?: number } = {},
): Uint8Array {
  const config = readClipTextConfig(source.configPath, source.config);
  // Textual-inversion vectors are rows after the vocabulary: the token table grows by them.
  const vocabSize = config.vocabSize + (options.extraTokens ?? 0);
  return buildClipText({ ...config, vocabSize }, new WeightSet(source.files, TEXT_PREFIXES), options);
}

export function unetGraph(
  source: ComponentSource,
  options: UnetBuildOptions = {},
): { model: Uint8Array; config: UnetConfig } {
  const config = readUnetConfig(source.configPath, source.config);
  return { model: buildUnet(config, new WeightSet(source.files), options), config };
}

export function vaeGraphs(
  source: ComponentSource,
  options: GraphOptions = {},
): { encoder: Uint8Array; decoder: Uint8Array; config: VaeConfig } {
  const config = readVaeConfig(source.configPath, source.config);
  const weights = new WeightSet(source.files);
  return {
    encoder: buildVaeEncoder(config, weights, options),
    decoder: buildVaeDecoder(config, weights, options),
    config,
  };
}

/**
 * transformers 4 saved the checker's CLIPVisionModel under `vision_model.vision_model.` (SD 1.5's
 * file); transformers 5 under `vision_model.`; `visual_projection` is at the top.
 */
const VISION_PREFIXES = ['vision_model.vision_model.', 'vision_model.', ''];

export function safetyCheckerGraph(source: ComponentSource, options: GraphOptions = {}): Uint8Array {
  const config = readSafetyCheckerConfig(source.configPath, source.config);
  return buildClipVision(config, new WeightSet(source.files, VISION_PREFIXES), options);
}

/** A ControlNet's graph and config, from its own `config.json` and weights. */
export function controlNetGraph(
  source: ComponentSource,
  options: GraphOptions = {},
): { model: Uint8Array; config: ControlNetConfig } {
  const config = readControlNetConfig(source.configPath, source.config);
  return { model: buildControlNet(config, new WeightSet(source.files), options), config };
}
