/**
 * The component configs (`config.json`) read exactly as diffusers and transformers read them:
 * missing keys take the classes' defaults; any key whose value would change the architecture in a
 * way these graphs do not build is refused with its name and value, never ignored.
 */
import { ModelError } from '../errors';
import { isRecord, type JsonObject } from '../json';
import type { ClipEncoderConfig } from './clip-encoder';
import type { ClipVisionConfig } from './clip-vision';

type Json = JsonObject;

/** Reads keys of one config with its file name in every message. */
class ConfigReader {
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    private readonly json: Json,
  ) {}

  private raw(key: string): unknown {
    this.seen.add(key);
    return this.json[key];
  }

  fail(key: string, why: string): never {
    throw new ModelError(`${this.file}: ${key} = ${JSON.stringify(this.json[key])} ${why}`);
  }

  int(key: string, fallback: number, min = 1): number {
    const v = this.raw(key) ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min) this.fail(key, `must be a whole number ≥ ${min}.`);
    return v as number;
  }

  number(key: string, fallback: number): number {
    const v = this.raw(key) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a number.');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key) ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false.');
    return v;
  }

  intOrNull(key: string): number | null {
    const v = this.raw(key);
    if (v === undefined || v === null) return null;
    if (!Number.isInteger(v) || (v as number) < 1) this.fail(key, 'must be a whole number or null.');
    return v as number;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(key) ?? fallback;
    if (!allowed.includes(v as T)) this.fail(key, `is not supported (this app builds ${allowed.join(', ')}).`);
    return v as T;
  }

  /** An int, or a list of ints of a given length (diffusers broadcasts a single value). */
  perBlock(key: string, fallback: number | number[], count: number, min = 1): number[] {
    const v = this.raw(key) ?? fallback;
    const list = Array.isArray(v) ? v : Array.from({ length: count }, () => v);
    if (list.length !== count || !list.every((x) => Number.isInteger(x) && (x as number) >= min)) {
      this.fail(key, `must be a whole number or a list of ${count} whole numbers ≥ ${min}.`);
    }
    return list as number[];
  }

  strings<T extends string>(key: string, allowed: readonly T[], fallback: T[]): T[] {
    const v = this.raw(key) ?? fallback;
    if (!Array.isArray(v) || v.length === 0) this.fail(key, 'must be a list of block types.');
    for (const item of v) {
      if (!allowed.includes(item as T)) {
        throw new ModelError(
          `${this.file}: ${key} has "${String(item)}", which this app does not build (it builds ${allowed.join(', ')}).`,
        );
      }
    }
    return v as T[];
  }

  /** Keys that must keep the value the plain SD architecture has (null and absent alike). */
  mustBe(key: string, ...allowed: unknown[]): void {
    const v = this.raw(key);
    if (v === undefined || allowed.some((a) => a === v)) return;
    this.fail(
      key,
      `is not supported: this app builds Stable Diffusion 1.x/2.x and XL networks, where it is ${allowed.map((a) => JSON.stringify(a)).join(' or ')}.`,
    );
  }

  /** Marks keys that do not change the graph (sizes for training, dropout, bookkeeping). */
  ignore(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  /** Every key must have been read: an unknown one could change what the network computes. */
  finish(): void {
    for (const key of Object.keys(this.json)) {
      if (key.startsWith('_') || this.seen.has(key)) continue;
      this.fail(key, 'is a key this app does not know, so it cannot tell whether the network would be built right.');
    }
  }
}

function reader(file: string, json: unknown): ConfigReader {
  if (!isRecord(json)) throw new ModelError(`${file} is not a JSON object.`);
  return new ConfigReader(file, json);
}

export interface ClipTextConfig extends ClipEncoderConfig {
  maxPositions: number;
  vocabSize: number;
  eosTokenId: number;
  /** CLIPTextModelWithProjection (SDXL's second encoder): `text_projection`'s width; null for CLIPTextModel. */
  projectionDim: number | null;
}

/** transformers' CLIPTextConfig (a CLIPTextModel's `text_encoder/config.json`). */
export function readClipTextConfig(file: string, json: unknown): ClipTextConfig {
  const r = reader(file, json);
  const arch = (json as Json)['architectures'];
  if (Array.isArray(arch) && !arch.every((a) => a === 'CLIPTextModel' || a === 'CLIPTextModelWithProjection')) {
    r.fail('architectures', 'is not a CLIP text model.');
  }
  const withProjection = Array.isArray(arch) && arch.includes('CLIPTextModelWithProjection');
  const config: ClipTextConfig = {
    hiddenSize: r.int('hidden_size', 512),
    intermediateSize: r.int('intermediate_size', 2048),
    heads: r.int('num_attention_heads', 8),
    layers: r.int('num_hidden_layers', 12),
    act: r.oneOf('hidden_act', ['quick_gelu', 'gelu'], 'quick_gelu'),
    eps: r.number('layer_norm_eps', 1e-5),
    maxPositions: r.int('max_position_embeddings', 77),
    vocabSize: r.int('vocab_size', 49408),
    eosTokenId: r.int('eos_token_id', 49407, 0),
    // CLIPTextConfig's default projection_dim is 512; a CLIPTextModel has the key but no projection.
    projectionDim: withProjection ? r.int('projection_dim', 512) : null,
  };
  if (config.hiddenSize % config.heads !== 0)
    r.fail('num_attention_heads', `does not divide hidden_size ${config.hiddenSize}.`);
  r.mustBe('model_type', 'clip_text_model', 'clip');
  r.ignore(
    'architectures',
    'attention_dropout',
    'dropout',
    'bos_token_id',
    'pad_token_id',
    'projection_dim',
    'initializer_factor',
    'initializer_range',
    'dtype',
    'torch_dtype',
    'transformers_version',
    'use_cache',
    'output_attentions',
    'output_hidden_states',
    'return_dict',
    'id2label',
    'label2id',
    'tie_word_embeddings',
    'is_encoder_decoder',
  );
  r.finish();
  return config;
}

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

export interface UnetConfig {
  inChannels: number;
  outChannels: number;
  blockOut: number[];
  layersPerBlock: number[];
  down: DownBlockType[];
  up: UpBlockType[];
  midBlock: boolean;
  /** Heads per down block (diffusers' attention_head_dim, which for these UNets is the head count). */
  heads: number[];
  transformerLayers: number[];
  crossAttentionDim: number;
  linearProjection: boolean;
  upcastAttention: boolean;
  groups: number;
  eps: number;
  flipSinToCos: boolean;
  freqShift: number;
  timeCondProjDim: number | null;
  downsamplePadding: number;
  midScale: number;
  convInKernel: number;
  convOutKernel: number;
  /**
   * SDXL's `addition_embed_type: "text_time"`: the pooled text embedding and the time ids' sinusoidal
   * embedding (`timeEmbedDim` channels each) through `add_embedding` (`inputDim` in), added to the
   * time embedding. Null for SD 1.x/2.x.
   */
  textTime: { timeEmbedDim: number; inputDim: number } | null;
}

/** How many time ids SDXL's base and inpainting UNets take: original size, crop top-left, target size. */
export const SDXL_TIME_IDS = 6;

/**
 * diffusers' UNet2DConditionModel config, for the SD 1.x/2.x family (inpaint, depth, LCM, distilled)
 * and SDXL (text_time).
 */
export function readUnetConfig(file: string, json: unknown): UnetConfig {
  const r = reader(file, json);
  const down = r.strings('down_block_types', ['CrossAttnDownBlock2D', 'DownBlock2D'] as const, [
    'CrossAttnDownBlock2D',
    'CrossAttnDownBlock2D',
    'CrossAttnDownBlock2D',
    'DownBlock2D',
  ]);
  const up = r.strings('up_block_types', ['CrossAttnUpBlock2D', 'UpBlock2D'] as const, [
    'UpBlock2D',
    'CrossAttnUpBlock2D',
    'CrossAttnUpBlock2D',
    'CrossAttnUpBlock2D',
  ]);
  const n = down.length;
  if (up.length !== n) r.fail('up_block_types', `has ${up.length} blocks but down_block_types has ${n}.`);
  const blockOut = r.perBlock('block_out_channels', [320, 640, 1280, 1280], n);
  const mid = (json as Json)['mid_block_type'];
  if (mid !== undefined && mid !== null && mid !== 'UNetMidBlock2DCrossAttn') {
    r.fail('mid_block_type', 'is not supported (this app builds UNetMidBlock2DCrossAttn or none).');
  }
  r.ignore('mid_block_type');
  // diffusers refuses num_attention_heads for this class and reads attention_head_dim as the head count.
  r.mustBe('num_attention_heads', null);
  const heads = r.perBlock('attention_head_dim', 8, n);
  const cross = (json as Json)['cross_attention_dim'];
  if (Array.isArray(cross)) r.fail('cross_attention_dim', 'is per block, which this app does not build.');
  const config: UnetConfig = {
    inChannels: r.int('in_channels', 4),
    outChannels: r.int('out_channels', 4),
    blockOut,
    layersPerBlock: r.perBlock('layers_per_block', 2, n),
    down,
    up,
    midBlock: mid !== null,
    heads,
    transformerLayers: r.perBlock('transformer_layers_per_block', 1, n),
    crossAttentionDim: r.int('cross_attention_dim', 1280),
    linearProjection: r.bool('use_linear_projection', false),
    upcastAttention: r.bool('upcast_attention', false),
    groups: r.int('norm_num_groups', 32),
    eps: r.number('norm_eps', 1e-5),
    flipSinToCos: r.bool('flip_sin_to_cos', true),
    freqShift: r.number('freq_shift', 0),
    timeCondProjDim: r.intOrNull('time_cond_proj_dim'),
    downsamplePadding: r.int('downsample_padding', 1, 0),
    midScale: r.number('mid_block_scale_factor', 1),
    convInKernel: r.int('conv_in_kernel', 3),
    convOutKernel: r.int('conv_out_kernel', 3),
    textTime: readTextTime(r),
  };
  blockOut.forEach((c, i) => {
    if (c % config.groups !== 0) r.fail('norm_num_groups', `does not divide block_out_channels[${i}] = ${c}.`);
    if (c % heads[i]! !== 0)
      r.fail('attention_head_dim', `(${heads[i]} heads) does not divide block_out_channels[${i}] = ${c}.`);
  });
  if (config.convInKernel % 2 === 0) r.fail('conv_in_kernel', 'must be odd.');
  if (config.convOutKernel % 2 === 0) r.fail('conv_out_kernel', 'must be odd.');
  r.oneOf('act_fn', ['silu'], 'silu');
  r.mustBe('class_embed_type', null);
  r.mustBe('num_class_embeds', null);
  r.mustBe('class_embeddings_concat', false);
  r.mustBe('dual_cross_attention', false);
  r.mustBe('only_cross_attention', false);
  r.mustBe('mid_block_only_cross_attention', null, false);
  r.mustBe('encoder_hid_dim', null);
  r.mustBe('encoder_hid_dim_type', null);
  r.mustBe('center_input_sample', false);
  r.mustBe('time_embedding_type', 'positional');
  r.mustBe('time_embedding_dim', null);
  r.mustBe('time_embedding_act_fn', null);
  r.mustBe('timestep_post_act', null);
  r.mustBe('resnet_time_scale_shift', 'default');
  r.mustBe('resnet_skip_time_act', false);
  r.mustBe('resnet_out_scale_factor', 1, 1.0);
  r.mustBe('cross_attention_norm', null);
  r.mustBe('attention_type', 'default');
  r.mustBe('reverse_transformer_layers_per_block', null);
  r.ignore('sample_size', 'dropout', 'addition_embed_type_num_heads');
  r.finish();
  return config;
}

export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOut: number[];
  layersPerBlock: number;
  groups: number;
  midAttention: boolean;
  quantConv: boolean;
  postQuantConv: boolean;
  scalingFactor: number;
  /**
   * diffusers' `force_upcast` (default true): this VAE may overflow in float16, so a float16 decode
   * that comes out non-finite is done again in float32.
   */
  forceUpcast: boolean;
}

/** diffusers' AutoencoderKL config. */
export function readVaeConfig(file: string, json: unknown): VaeConfig {
  const r = reader(file, json);
  const down = r.strings('down_block_types', ['DownEncoderBlock2D'] as const, ['DownEncoderBlock2D']);
  const up = r.strings('up_block_types', ['UpDecoderBlock2D'] as const, ['UpDecoderBlock2D']);
  if (up.length !== down.length)
    r.fail('up_block_types', `has ${up.length} blocks but down_block_types has ${down.length}.`);
  const config: VaeConfig = {
    inChannels: r.int('in_channels', 3),
    outChannels: r.int('out_channels', 3),
    latentChannels: r.int('latent_channels', 4),
    blockOut: r.perBlock('block_out_channels', [64], down.length),
    layersPerBlock: r.int('layers_per_block', 1),
    groups: r.int('norm_num_groups', 32),
    midAttention: r.bool('mid_block_add_attention', true),
    quantConv: r.bool('use_quant_conv', true),
    postQuantConv: r.bool('use_post_quant_conv', true),
    scalingFactor: r.number('scaling_factor', 0.18215),
    forceUpcast: r.bool('force_upcast', true),
  };
  config.blockOut.forEach((c, i) => {
    if (c % config.groups !== 0) r.fail('norm_num_groups', `does not divide block_out_channels[${i}] = ${c}.`);
  });
  r.oneOf('act_fn', ['silu'], 'silu');
  r.mustBe('shift_factor', null, 0);
  r.mustBe('latents_mean', null);
  r.mustBe('latents_std', null);
  r.ignore('sample_size');
  r.finish();
  return config;
}

/**
 * A safety checker's `config.json`: a CLIPConfig whose vision tower it runs (`vision_config`, with
 * the legacy `vision_config_dict` overriding it as transformers does) and its `projection_dim`.
 * transformers writes every generic PretrainedConfig key into these sub-configs (generation
 * settings and the like): only the keys that shape the vision tower are read, each checked.
 */
export function readSafetyCheckerConfig(file: string, json: unknown): ClipVisionConfig {
  const top = reader(file, json);
  const root = json as Json;
  const arch = root['architectures'];
  if (Array.isArray(arch) && !arch.every((a) => a === 'StableDiffusionSafetyChecker')) {
    top.fail('architectures', 'is not a StableDiffusionSafetyChecker.');
  }
  top.mustBe('model_type', 'clip');
  const vision = { ...(isRecord(root['vision_config']) ? root['vision_config'] : {}) };
  if (isRecord(root['vision_config_dict'])) Object.assign(vision, root['vision_config_dict']);
  const r = new ConfigReader(`${file} (vision_config)`, vision);
  // transformers' CLIPVisionConfig defaults.
  const config: ClipVisionConfig = {
    hiddenSize: r.int('hidden_size', 768),
    intermediateSize: r.int('intermediate_size', 3072),
    heads: r.int('num_attention_heads', 12),
    layers: r.int('num_hidden_layers', 12),
    act: r.oneOf('hidden_act', ['quick_gelu', 'gelu'], 'quick_gelu'),
    eps: r.number('layer_norm_eps', 1e-5),
    imageSize: r.int('image_size', 224),
    patchSize: r.int('patch_size', 32),
    channels: r.int('num_channels', 3),
    projectionDim: top.int('projection_dim', 512),
  };
  if (config.hiddenSize % config.heads !== 0)
    r.fail('num_attention_heads', `does not divide hidden_size ${config.hiddenSize}.`);
  if (config.imageSize % config.patchSize !== 0)
    r.fail('patch_size', `does not divide image_size ${config.imageSize}.`);
  return config;
}

/** diffusers' ControlNetModel: the UNet's encoder half plus what turns the control picture into features. */
export interface ControlNetConfig {
  /** The encoder half (time embedding, conv_in, down blocks, mid block) as a UNet config reads it. */
  unet: UnetConfig;
  /** Channels of the control picture (3). */
  conditioningChannels: number;
  /** ControlNetConditioningEmbedding's block_out_channels (conv_in, then a pair of convs per step). */
  embeddingChannels: number[];
  /** "bgr" ControlNets take the picture's channels reversed. */
  channelOrder: 'rgb' | 'bgr';
  /** Residuals averaged over the picture (shuffle ControlNets); such a ControlNet always runs in guess mode. */
  globalPool: boolean;
}

/** The ControlNet keys the UNet reader does not know, taken off before it reads the rest. */
const CONTROLNET_KEYS = [
  'conditioning_channels',
  'conditioning_embedding_out_channels',
  'controlnet_conditioning_channel_order',
  'global_pool_conditions',
] as const;

export function readControlNetConfig(file: string, json: unknown): ControlNetConfig {
  const r = reader(file, json);
  const raw = json as Json;
  if (raw['addition_embed_type'] === 'text_time') {
    throw new ModelError(
      `${file}: this is a ControlNet for SDXL (addition_embed_type "text_time"); this app runs ControlNets for Stable Diffusion 1.x and 2.x.`,
    );
  }
  const conditioningChannels = r.int('conditioning_channels', 3);
  const embeddingChannels = r.perBlock(
    'conditioning_embedding_out_channels',
    [16, 32, 96, 256],
    listLength(raw, 'conditioning_embedding_out_channels', 4),
  );
  const channelOrder = r.oneOf('controlnet_conditioning_channel_order', ['rgb', 'bgr'] as const, 'rgb');
  const globalPool = r.bool('global_pool_conditions', false);
  // The rest is the UNet's encoder half: read it with the UNet's reader (and its refusals). A
  // ControlNet has no up blocks; the reader's up_block_types only has to mirror the down blocks.
  const rest: Json = Object.fromEntries(
    Object.entries(raw).filter(([k]) => !(CONTROLNET_KEYS as readonly string[]).includes(k)),
  );
  const down: unknown = rest['down_block_types'];
  if (Array.isArray(down)) {
    const mirrored = down.map((t: unknown) => (t === 'CrossAttnDownBlock2D' ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
    rest['up_block_types'] = mirrored.reverse();
  }
  // ControlNetModel has no out_channels or conv kernels of its own (conv_in is 3×3).
  const unet = readUnetConfig(file, rest);
  return { unet, conditioningChannels, embeddingChannels, channelOrder, globalPool };
}

/**
 * SDXL's added conditioning, or null. The pooled text takes what the time ids leave of
 * `projection_class_embeddings_input_dim`; a UNet that takes another count of time ids (the SDXL
 * refiner's 5, with an aesthetic score) gets too few or the wrong width, which its text encoder's
 * projection then refuses at load.
 */
function readTextTime(r: ConfigReader): UnetConfig['textTime'] {
  const type = r.oneOf('addition_embed_type', ['none', 'text_time'] as const, 'none');
  if (type === 'none') {
    r.mustBe('addition_time_embed_dim', null);
    r.mustBe('projection_class_embeddings_input_dim', null);
    return null;
  }
  const timeEmbedDim = r.int('addition_time_embed_dim', 256);
  if (timeEmbedDim % 2 !== 0) r.fail('addition_time_embed_dim', 'must be even.');
  const inputDim = r.int('projection_class_embeddings_input_dim', 2816);
  if (inputDim <= SDXL_TIME_IDS * timeEmbedDim) {
    r.fail(
      'projection_class_embeddings_input_dim',
      `leaves no room for the pooled text beside ${SDXL_TIME_IDS} time ids of ${timeEmbedDim} channels.`,
    );
  }
  return { timeEmbedDim, inputDim };
}

function listLength(json: Json, key: string, fallback: number): number {
  const v = json[key];
  return Array.isArray(v) ? Math.max(1, v.length) : fallback;
}
