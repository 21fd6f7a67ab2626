/**
 * Full-size SD 1.5 networks with random fp16 weights, made here (no download): every tensor the
 * app's graph builder asks for, at the shape it expects, as one safetensors file. Timing and memory
 * do not depend on the values.
 */
import { encodeSafetensors, type SafetensorsEntry } from '../../src/core/formats/safetensors';
import { WeightSet, type WeightFile } from '../../src/core/networks';
import { readUnetConfig, readVaeConfig } from '../../src/core/networks/config';
import { buildUnet } from '../../src/core/networks/unet';
import { buildVaeDecoder } from '../../src/core/networks/vae';
import { buildClipVision } from '../../src/core/networks/clip-vision';
import { readControlNetConfig, readSafetyCheckerConfig } from '../../src/core/networks/config';
import { buildControlNet } from '../../src/core/networks/controlnet';

/** A weight set that makes up each tensor the graph asks for (fp16, the shape it expects). */
class RecordingWeights extends WeightSet {
  readonly shapes = new Map<string, number[]>();
  private readonly file: WeightFile = {
    header: { file: 'recorded', dataStart: 0, size: 0, tensors: new Map(), metadata: {} },
    location: 'recorded',
  };

  constructor() {
    super([]);
  }

  override resolve(name: string, shape: number[]): { entry: SafetensorsEntry; file: WeightFile } {
    this.shapes.set(name, shape);
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    return { entry: { name, dtype: 'F16', shape, begin: 0, end: bytes }, file: this.file };
  }
}

/** SD 1.5's unet/config.json, key for key. */
export const SD15_UNET = {
  _class_name: 'UNet2DConditionModel',
  act_fn: 'silu',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
};

/** stabilityai/stable-diffusion-xl-base-1.0's unet/config.json: the keys that shape it. */
export const SDXL_UNET = {
  _class_name: 'UNet2DConditionModel',
  addition_embed_type: 'text_time',
  addition_time_embed_dim: 256,
  attention_head_dim: [5, 10, 20],
  block_out_channels: [320, 640, 1280],
  cross_attention_dim: 2048,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  in_channels: 4,
  layers_per_block: 2,
  out_channels: 4,
  projection_class_embeddings_input_dim: 2816,
  sample_size: 128,
  transformer_layers_per_block: [1, 2, 10],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  use_linear_projection: true,
};

/** SD 1.5's vae/config.json, key for key. */
export const SD15_VAE = {
  _class_name: 'AutoencoderKL',
  act_fn: 'silu',
  block_out_channels: [128, 256, 512, 512],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  in_channels: 3,
  latent_channels: 4,
  layers_per_block: 2,
  norm_num_groups: 32,
  out_channels: 3,
  sample_size: 512,
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
};

/** Random fp16 weights (about N(0, 0.02)) for every tensor SD 1.5's UNet has, as one safetensors file. */
export function fullSizeUnet(): { bytes: Uint8Array; params: number } {
  const recorder = new RecordingWeights();
  buildUnet(readUnetConfig('unet/config.json', SD15_UNET), recorder);
  return randomHalves(recorder);
}

/**
 * Random fp16 weights for SDXL's UNet (2.57 B parameters, 5.1 GB): shards of at most `shardBytes`,
 * as the app holds a file past one buffer (see SafetensorsRewriter).
 */
export function fullSizeSdxlUnet(shardBytes = 2 ** 30): { files: Uint8Array[]; params: number } {
  const recorder = new RecordingWeights();
  buildUnet(readUnetConfig('unet/config.json', SDXL_UNET), recorder);
  const shapes = [...recorder.shapes];
  const files: Uint8Array[] = [];
  let params = 0;
  for (let i = 0; i < shapes.length;) {
    const shard = new RecordingWeights();
    let bytes = 0;
    for (; i < shapes.length; i++) {
      const [name, shape] = shapes[i]!;
      const size = shape.reduce((a, b) => a * b, 1) * 2;
      if (bytes > 0 && bytes + size > shardBytes) break;
      shard.shapes.set(name, shape);
      bytes += size;
    }
    const made = randomHalves(shard);
    files.push(made.bytes);
    params += made.params;
  }
  return { files, params };
}

/** The same for SD 1.5's VAE decoder. */
export function fullSizeVaeDecoder(): { bytes: Uint8Array; params: number } {
  const recorder = new RecordingWeights();
  buildVaeDecoder(readVaeConfig('vae/config.json', SD15_VAE), recorder);
  return randomHalves(recorder);
}

/** SD 1.5's ControlNet v1.1 config (lllyasviel/control_v11p_sd15_canny's config.json, the keys that shape it). */
export const SD15_CONTROLNET = {
  _class_name: 'ControlNetModel',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  conditioning_embedding_out_channels: [16, 32, 96, 256],
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  in_channels: 4,
  layers_per_block: 2,
};

/** Random fp16 weights for SD 1.5's ControlNet. */
export function fullSizeControlNet(): { bytes: Uint8Array; params: number } {
  const recorder = new RecordingWeights();
  buildControlNet(readControlNetConfig('config.json', SD15_CONTROLNET), recorder);
  return randomHalves(recorder);
}

/** The same for SD 1.5's UNet built to take a ControlNet's residuals (the same weights as fullSizeUnet). */
export function fullSizeControlledUnet(): { bytes: Uint8Array; params: number } {
  const recorder = new RecordingWeights();
  buildUnet(readUnetConfig('unet/config.json', SD15_UNET), recorder, { controlResiduals: true });
  return randomHalves(recorder);
}

/** SD 1.5's safety checker (CLIP ViT-L/14's vision tower): the keys of its config.json that shape it. */
export const SD15_SAFETY_CHECKER = {
  architectures: ['StableDiffusionSafetyChecker'],
  model_type: 'clip',
  projection_dim: 768,
  vision_config: {
    hidden_size: 1024,
    intermediate_size: 4096,
    num_attention_heads: 16,
    num_hidden_layers: 24,
    patch_size: 14,
    image_size: 224,
    hidden_act: 'quick_gelu',
  },
};

/** SD 1.5's feature_extractor/preprocessor_config.json (the older CLIPFeatureExtractor form), key for key. */
export const SD15_FEATURE_EXTRACTOR = {
  crop_size: 224,
  do_center_crop: true,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  size: 224,
};

/** The same for SD 1.5's safety checker's vision tower and projection. */
export function fullSizeSafetyChecker(): { bytes: Uint8Array; params: number } {
  const recorder = new RecordingWeights();
  buildClipVision(readSafetyCheckerConfig('safety_checker/config.json', SD15_SAFETY_CHECKER), recorder);
  return randomHalves(recorder);
}

function randomHalves(recorder: RecordingWeights): { bytes: Uint8Array; params: number } {
  // A block of random halves, repeated at shifting offsets: random enough for timing, fast to make.
  const block = new Uint16Array(1 << 20);
  let seed = 12345;
  for (let i = 0; i < block.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const u = (seed >>> 8) / 2 ** 24 - 0.5;
    // 0.02·u as fp16: sign, exponent around 2^-7, random mantissa.
    const mag = Math.abs(u) * 0.04;
    const e = Math.max(0, Math.min(30, Math.floor(Math.log2(mag || 1e-8)) + 15));
    const m = Math.floor((mag / 2 ** (e - 15) - 1) * 1024) & 0x3ff;
    block[i] = (u < 0 ? 0x8000 : 0) | (e << 10) | m;
  }
  const blockBytes = new Uint8Array(block.buffer);
  let params = 0;
  let shift = 0;
  const tensors = [...recorder.shapes].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    params += n;
    const data = new Uint8Array(n * 2);
    for (let at = 0; at < data.length; at += blockBytes.length - shift) {
      data.set(blockBytes.subarray(shift, Math.min(blockBytes.length, shift + data.length - at)), at);
    }
    shift = (shift + 4098) % 65536;
    return { name, dtype: 'F16' as const, shape, data };
  });
  return { bytes: encodeSafetensors(tensors), params };
}
