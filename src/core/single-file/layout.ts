/**
 * What an original single-file checkpoint is, from its tensor names and shapes alone (its header),
 * and the diffusers configs of its three networks.
 *
 * The weights say the channels, depths and dimensions; they do not say the attention head counts
 * or the group-norm group count. Those come from Stable Diffusion's own inference configs, as
 * diffusers' single-file loader takes them: SD 1.x has 8 heads per UNet block, SD 2.x and SDXL 64
 * channels per head; CLIP ViT-L (SD 1.x, SDXL), OpenCLIP ViT-H (SD 2.x) and ViT-bigG (SDXL) text
 * encoders have 64 channels per head; every SD network uses 32 groups. A checkpoint of another shape needs the configs of a
 * diffusers model that describes it (`configs` in the load plan), as diffusers' `config=` does.
 */
import { ModelError } from '../errors';
import { SDXL_TIME_IDS } from '../networks/config';
import type { SafetensorsHeader } from '../formats/safetensors';
import {
  CLIP_PREFIX,
  OPEN_CLIP_PREFIX,
  SDXL_CLIP_PREFIX,
  SDXL_OPEN_CLIP_PREFIX,
  UNET_PREFIX,
  VAE_PREFIX,
  type MappedComponents,
  type MappedTensor,
} from './keys';

export type CheckpointFamily = 'sd1' | 'sd2' | 'sdxl';

export interface SingleFileLayout {
  family: CheckpointFamily;
  unetInChannels: number;
  kind: 'txt2img' | 'inpaint' | 'depth';
  /** The UNet's weight dtype. */
  dtype: 'fp32' | 'fp16' | 'bf16';
  /** The tokenizer's padding: SD 1.x pads with <|endoftext|>, SD 2.x (OpenCLIP) with "!". */
  padToken: string;
  /** SDXL's second tokenizer's padding (OpenCLIP's "!"); absent for one text encoder. */
  secondPadToken?: string;
  /** In words, for the UI: "SD 2.x, depth (5-channel UNet), fp16". */
  summary: string;
}

const FAMILY_NAMES: Record<CheckpointFamily, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };
const KIND_BY_CHANNELS: Record<number, SingleFileLayout['kind']> = { 4: 'txt2img', 9: 'inpaint', 5: 'depth' };
const KIND_WORDS: Record<SingleFileLayout['kind'], string> = {
  txt2img: 'text-to-image (4-channel UNet)',
  inpaint: 'inpainting (9-channel UNet)',
  depth: 'depth (5-channel UNet)',
};

/** Says what a file that is not an SD 1.x/2.x checkpoint is, and what to do with it. */
function refuse(file: string, names: string[]): never {
  const has = (prefix: string) => names.some((n) => n.startsWith(prefix));
  if (has('conditioner.embedders.0.model.')) {
    throw new ModelError(
      `${file} is the SDXL refiner (one OpenCLIP text encoder and an aesthetic score), which this app does not run: it runs SDXL base, Turbo and inpainting checkpoints and their fine-tunes.`,
    );
  }
  if (has('conditioner.embedders.')) {
    throw new ModelError(
      `${file} has text encoders under conditioner.embedders but not SDXL's two (${SDXL_CLIP_PREFIX}*, ${SDXL_OPEN_CLIP_PREFIX}*), which this app does not know how to read.`,
    );
  }
  if (has('lora_unet_') || has('lora_te') || names.some((n) => /lora_[AB]\.|lora_(up|down)\./.test(n))) {
    throw new ModelError(`${file} is a LoRA, not a checkpoint: add it in the LoRA panel of a loaded model.`);
  }
  if (names.some((n) => /^(unet\.)?(down_blocks|conv_in)\./.test(n))) {
    throw new ModelError(
      `${file} holds one diffusers network, not a whole checkpoint: pick the model's folder (with model_index.json) instead.`,
    );
  }
  throw new ModelError(
    `${file} is a safetensors file but not a Stable Diffusion checkpoint: it has no model.diffusion_model.* tensors (its first tensor is ${names[0] ?? 'none'}).`,
  );
}

export function describeSingleFile(header: SafetensorsHeader): SingleFileLayout {
  const names = [...header.tensors.keys()].sort();
  const sdxl =
    names.some((n) => n.startsWith(SDXL_CLIP_PREFIX)) && names.some((n) => n.startsWith(SDXL_OPEN_CLIP_PREFIX));
  if (!names.some((n) => n.startsWith(UNET_PREFIX)) || (!sdxl && names.some((n) => n.startsWith('conditioner.')))) {
    refuse(header.file, names);
  }
  if (!sdxl && names.some((n) => n.startsWith(`${UNET_PREFIX}label_emb.`))) {
    throw new ModelError(
      `${header.file} has a class-conditioned UNet (label_emb: the SD 2 upscaler or unCLIP), which this app does not run.`,
    );
  }
  const family: CheckpointFamily | null = sdxl
    ? 'sdxl'
    : names.some((n) => n.startsWith(OPEN_CLIP_PREFIX))
      ? 'sd2'
      : names.some((n) => n.startsWith(CLIP_PREFIX))
        ? 'sd1'
        : null;
  if (!family) {
    throw new ModelError(
      `${header.file} has a UNet but no text encoder (cond_stage_model.*): it is not a whole SD checkpoint, or its text encoder was saved apart.`,
    );
  }
  if (!names.some((n) => n.startsWith(VAE_PREFIX))) {
    throw new ModelError(
      `${header.file} has no VAE (first_stage_model.*): this app needs a checkpoint with its VAE baked in.`,
    );
  }
  const convIn = header.tensors.get(`${UNET_PREFIX}input_blocks.0.0.weight`);
  const channels = convIn?.shape[1] ?? 0;
  const kind = KIND_BY_CHANNELS[channels];
  if (!kind || (sdxl && kind === 'depth')) {
    throw new ModelError(
      `${header.file}'s UNet takes ${channels} input channels; this app runs 4 (text-to-image), 9 (inpainting) and 5 (depth).`,
    );
  }
  const dtype = convIn?.dtype === 'F16' ? 'fp16' : convIn?.dtype === 'BF16' ? 'bf16' : 'fp32';
  return {
    family,
    unetInChannels: channels,
    kind,
    dtype,
    padToken: family === 'sd2' ? '!' : '<|endoftext|>',
    ...(sdxl ? { secondPadToken: '!' } : {}),
    summary: `${FAMILY_NAMES[family]}, ${KIND_WORDS[kind]}, ${dtype}`,
  };
}

export interface SingleFileConfigs {
  unet: Record<string, unknown>;
  vae: Record<string, unknown>;
  textEncoder: Record<string, unknown>;
  /** SDXL's second text encoder (CLIPTextModelWithProjection). */
  textEncoder2?: Record<string, unknown>;
}

/** SD's group count, and channels per attention head where the family counts by channels. */
const GROUPS = 32;
const HEAD_CHANNELS = 64;
const SD1_UNET_HEADS = 8;

function shapeOf(tensors: MappedTensor[], name: string): number[] {
  const t = tensors.find((x) => x.name === name);
  if (!t) throw new ModelError(`The checkpoint has no ${name} (after mapping its names to diffusers').`);
  return t.shape;
}

const count = (tensors: MappedTensor[], pattern: RegExp): number =>
  new Set(tensors.flatMap((t) => pattern.exec(t.name)?.[1] ?? [])).size;

function unetConfig(layout: SingleFileLayout, t: MappedTensor[], pooledWidth: number | null): Record<string, unknown> {
  const levels = count(t, /^down_blocks\.(\d+)\./);
  const perLevel = Array.from({ length: levels }, (_, i) => i);
  const blockOut = perLevel.map((i) => shapeOf(t, `down_blocks.${i}.resnets.0.conv1.weight`)[0]!);
  const layers = perLevel.map((i) => count(t, new RegExp(`^down_blocks\\.${i}\\.resnets\\.(\\d+)\\.`)));
  const attends = perLevel.map((i) => t.some((x) => x.name.startsWith(`down_blocks.${i}.attentions.`)));
  const upAttends = perLevel.map((i) => t.some((x) => x.name.startsWith(`up_blocks.${i}.attentions.`)));
  const firstAttention = t.find((x) => /attentions\.\d+\.proj_in\.weight$/.test(x.name));
  const crossK = t.find((x) => x.name.endsWith('transformer_blocks.0.attn2.to_k.weight'));
  const transformerLayers = perLevel.map((i) =>
    attends[i] ? count(t, new RegExp(`^down_blocks\\.${i}\\.attentions\\.0\\.transformer_blocks\\.(\\d+)\\.`)) : 1,
  );
  return {
    _class_name: 'UNet2DConditionModel',
    in_channels: layout.unetInChannels,
    out_channels: shapeOf(t, 'conv_out.weight')[0],
    block_out_channels: blockOut,
    layers_per_block: layers,
    down_block_types: attends.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    up_block_types: upAttends.map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    mid_block_type: t.some((x) => x.name.startsWith('mid_block.')) ? 'UNetMidBlock2DCrossAttn' : null,
    attention_head_dim:
      layout.family === 'sd1' ? SD1_UNET_HEADS : blockOut.map((c) => Math.max(1, Math.floor(c / HEAD_CHANNELS))),
    cross_attention_dim: crossK?.shape[1] ?? 768,
    use_linear_projection: firstAttention?.shape.length === 2,
    transformer_layers_per_block: transformerLayers,
    norm_num_groups: GROUPS,
    ...(layout.family === 'sdxl' ? textTimeConfig(t, pooledWidth) : {}),
  };
}

/**
 * SDXL's added conditioning from add_embedding's input width: the pooled text (the second text
 * encoder's projection) and 6 time ids (original size, crop, target size) of equal width.
 */
function textTimeConfig(t: MappedTensor[], pooledWidth: number | null): Record<string, unknown> {
  const inputDim = shapeOf(t, 'add_embedding.linear_1.weight')[1]!;
  if (pooledWidth === null || (inputDim - pooledWidth) % SDXL_TIME_IDS !== 0) {
    throw new ModelError(
      `The checkpoint's add_embedding takes ${inputDim} values, which is not its pooled text (${String(pooledWidth)}) and ${SDXL_TIME_IDS} time ids: an SDXL UNet of another kind (the refiner's takes 5).`,
    );
  }
  return {
    addition_embed_type: 'text_time',
    addition_time_embed_dim: (inputDim - pooledWidth) / SDXL_TIME_IDS,
    projection_class_embeddings_input_dim: inputDim,
  };
}

function vaeConfig(t: MappedTensor[], sdxl: boolean): Record<string, unknown> {
  const levels = count(t, /^encoder\.down_blocks\.(\d+)\./);
  const perLevel = Array.from({ length: levels }, (_, i) => i);
  return {
    _class_name: 'AutoencoderKL',
    in_channels: shapeOf(t, 'encoder.conv_in.weight')[1],
    out_channels: shapeOf(t, 'decoder.conv_out.weight')[0],
    latent_channels: shapeOf(t, 'decoder.conv_in.weight')[1],
    block_out_channels: perLevel.map((i) => shapeOf(t, `encoder.down_blocks.${i}.resnets.0.conv1.weight`)[0]),
    layers_per_block: count(t, /^encoder\.down_blocks\.0\.resnets\.(\d+)\./),
    down_block_types: perLevel.map(() => 'DownEncoderBlock2D'),
    up_block_types: perLevel.map(() => 'UpDecoderBlock2D'),
    norm_num_groups: GROUPS,
    // SDXL's VAE latents are scaled by 0.13025 (its diffusers config), SD 1.x/2.x's by 0.18215.
    scaling_factor: sdxl ? 0.13025 : 0.18215,
  };
}

/** A text encoder's config: OpenCLIP's (SD 2.x, SDXL's second) use gelu, CLIP ViT-L quick_gelu. */
function textConfig(t: MappedTensor[], openClip: boolean): Record<string, unknown> {
  const at = (name: string) =>
    t.find((x) => x.name === `text_model.${name}` || x.name === name)?.shape ?? shapeOf(t, `text_model.${name}`);
  const [vocab, hidden] = at('embeddings.token_embedding.weight') as [number, number];
  const projection = t.find((x) => x.name === 'text_projection.weight');
  return {
    architectures: [projection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_size: hidden,
    intermediate_size: at('encoder.layers.0.mlp.fc1.weight')[0],
    num_hidden_layers: count(t, /encoder\.layers\.(\d+)\./),
    num_attention_heads: Math.max(1, Math.floor(hidden / HEAD_CHANNELS)),
    hidden_act: openClip ? 'gelu' : 'quick_gelu',
    max_position_embeddings: at('embeddings.position_embedding.weight')[0],
    vocab_size: vocab,
    eos_token_id: 49407,
    ...(projection ? { projection_dim: projection.shape[0] } : {}),
  };
}

/**
 * Why the family's own head and group counts cannot describe these networks (a width they do not
 * divide), or null when they can. A checkpoint that misfits needs the configs of a diffusers model.
 */
export function familyMisfit(file: string, layout: SingleFileLayout, configs: SingleFileConfigs): string | null {
  const unetWidths = configs.unet['block_out_channels'] as number[];
  const vaeWidths = configs.vae['block_out_channels'] as number[];
  const hidden = configs.textEncoder['hidden_size'] as number;
  const hidden2 = configs.textEncoder2?.['hidden_size'] as number | undefined;
  const perHead = layout.family === 'sd1' ? `${SD1_UNET_HEADS} attention heads` : `${HEAD_CHANNELS} channels per head`;
  const bad = [
    ...unetWidths
      .filter((c) => c % GROUPS !== 0 || c % (layout.family === 'sd1' ? SD1_UNET_HEADS : HEAD_CHANNELS) !== 0)
      .map((c) => `UNet width ${c}`),
    ...vaeWidths.filter((c) => c % GROUPS !== 0).map((c) => `VAE width ${c}`),
    ...(hidden % HEAD_CHANNELS !== 0 ? [`text width ${hidden}`] : []),
    ...(hidden2 !== undefined && hidden2 % HEAD_CHANNELS !== 0 ? [`second text width ${hidden2}`] : []),
  ];
  if (bad.length === 0) return null;
  return `${file} is not the size of ${FAMILY_NAMES[layout.family]} (${bad.join(', ')}), and a single file does not store its attention head and group-norm counts, which ${FAMILY_NAMES[layout.family]} has as ${perHead} and ${GROUPS} groups. Choose the diffusers model it was made from under "Configs from", and pick the file again.`;
}

/** The three networks' configs, from the weights' shapes and the family's own head and group counts. */
export function singleFileConfigs(layout: SingleFileLayout, mapped: MappedComponents): SingleFileConfigs {
  const second = mapped.textEncoder2;
  const pooled = second?.find((x) => x.name === 'text_projection.weight')?.shape[0] ?? null;
  return {
    unet: unetConfig(layout, mapped.unet, pooled),
    vae: vaeConfig(mapped.vae, layout.family === 'sdxl'),
    textEncoder: textConfig(mapped.textEncoder, layout.family === 'sd2'),
    ...(second ? { textEncoder2: textConfig(second, true) } : {}),
  };
}
