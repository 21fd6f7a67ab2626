/**
 * An A1111 single-file ControlNet (`control_v11p_sd15_canny.safetensors`: `control_model.*`, or the
 * same names without the prefix as some SD 2.x files have them) under diffusers' names, as
 * diffusers' `convert_controlnet_checkpoint` maps it: the encoder half as the UNet's
 * (`time_embed`, `input_blocks`, `middle_block`), `zero_convs.i.0` → `controlnet_down_blocks.i`,
 * `middle_block_out.0` → `controlnet_mid_block`, and `input_hint_block`'s convolutions (every
 * other module, SiLUs between) → `controlnet_cond_embedding` conv_in, blocks, conv_out. Its config
 * follows from the shapes and the family's head counts, as for single-file checkpoints.
 */
import { ModelError } from '../errors';
import type { SafetensorsEntry, SafetensorsHeader } from '../formats/safetensors';
import { mapUnet, tensor, type MappedTensor } from './keys';

export const CONTROLNET_PREFIX = 'control_model.';

/** SD 1.x counts attention heads (8 per block); SD 2.x counts 64 channels per head. */
const SD1_HEADS = 8;
const HEAD_CHANNELS = 64;

function mapHint(entries: { key: string; entry: SafetensorsEntry }[]): MappedTensor[] {
  const convs = [...new Set(entries.map((e) => Number(e.key.split('.')[0])))].sort((a, b) => a - b);
  if (convs.length < 2) throw new ModelError('The ControlNet file has no complete input_hint_block.');
  const last = convs[convs.length - 1]!;
  return entries.map(({ key, entry }) => {
    const [index, ...rest] = key.split('.');
    const i = Number(index);
    const at =
      i === convs[0]
        ? 'controlnet_cond_embedding.conv_in'
        : i === last
          ? 'controlnet_cond_embedding.conv_out'
          : `controlnet_cond_embedding.blocks.${convs.indexOf(i) - 1}`;
    return tensor(`${at}.${rest.join('.')}`, entry);
  });
}

/** The file's tensors under diffusers' ControlNetModel names; a file that is not a ControlNet says what it lacks. */
export function mapControlNet(header: SafetensorsHeader, file: string): MappedTensor[] {
  const all = [...header.tensors.values()];
  const prefixed = all.some((e) => e.name.startsWith(CONTROLNET_PREFIX));
  const prefix = prefixed ? CONTROLNET_PREFIX : '';
  const own = all.filter((e) => e.name.startsWith(prefix));
  if (!own.some((e) => e.name === `${prefix}input_hint_block.0.weight`)) {
    if (all.some((e) => e.name.startsWith('model.diffusion_model.'))) {
      throw new ModelError(`${file} is a whole Stable Diffusion checkpoint, not a ControlNet: load it as the model.`);
    }
    if (all.some((e) => e.name.startsWith('controlnet_cond_embedding.'))) {
      throw new ModelError(
        `${file} is a diffusers ControlNet's weights: give the folder or repo (with its config.json) instead of the file alone.`,
      );
    }
    throw new ModelError(
      `${file} is not a ControlNet: it has no input_hint_block (the layers that read the control picture).`,
    );
  }
  const out: MappedTensor[] = [];
  const encoder: SafetensorsEntry[] = [];
  const hint: { key: string; entry: SafetensorsEntry }[] = [];
  for (const entry of own) {
    const key = entry.name.slice(prefix.length);
    const zero = /^zero_convs\.(\d+)\.0\.(.+)$/.exec(key);
    if (zero) out.push(tensor(`controlnet_down_blocks.${zero[1]}.${zero[2]}`, entry));
    else if (key.startsWith('middle_block_out.0.'))
      out.push(tensor(`controlnet_mid_block.${key.slice('middle_block_out.0.'.length)}`, entry));
    else if (key.startsWith('input_hint_block.')) hint.push({ key: key.slice('input_hint_block.'.length), entry });
    else if (
      key.startsWith('label_emb.') ||
      key.startsWith('input_blocks.') ||
      key.startsWith('middle_block.') ||
      key.startsWith('time_embed.')
    )
      encoder.push(entry);
    else if (key.startsWith('output_blocks.') || key.startsWith('out.'))
      throw new ModelError(`${file} has a UNet's output layers (${entry.name}): it is not a ControlNet alone.`);
  }
  if (encoder.some((e) => e.name.startsWith(`${prefix}label_emb.`))) {
    throw new ModelError(
      `${file} is a ControlNet for SDXL (it has label_emb); this app runs ControlNets for SD 1.x and 2.x.`,
    );
  }
  return [...mapUnet(encoder, prefix), ...out, ...mapHint(hint)];
}

const shapeOf = (t: MappedTensor[], name: string): number[] => {
  const hit = t.find((x) => x.name === name);
  if (!hit) throw new ModelError(`The ControlNet file has no ${name} (after mapping its names to diffusers').`);
  return hit.shape;
};

const count = (t: MappedTensor[], pattern: RegExp): number =>
  new Set(t.flatMap((x) => pattern.exec(x.name)?.[1] ?? [])).size;

/** diffusers' ControlNetModel config for the mapped tensors (SD 1.x or 2.x by their text width). */
export function controlNetConfig(t: MappedTensor[]): Record<string, unknown> {
  const levels = count(t, /^down_blocks\.(\d+)\./);
  const perLevel = Array.from({ length: levels }, (_, i) => i);
  const blockOut = perLevel.map((i) => shapeOf(t, `down_blocks.${i}.resnets.0.conv1.weight`)[0]!);
  const attends = perLevel.map((i) => t.some((x) => x.name.startsWith(`down_blocks.${i}.attentions.`)));
  const crossK = t.find((x) => x.name.endsWith('transformer_blocks.0.attn2.to_k.weight'));
  const textWidth = crossK?.shape[1] ?? 768;
  const linear = t.find((x) => /attentions\.\d+\.proj_in\.weight$/.test(x.name))?.shape.length === 2;
  const hint = [
    'controlnet_cond_embedding.conv_in.weight',
    ...Array.from(
      { length: count(t, /^controlnet_cond_embedding\.blocks\.(\d+)\./) },
      (_, i) => `controlnet_cond_embedding.blocks.${i}.weight`,
    ),
  ];
  // conv_in, then each pair's strided conv, give the embedding's channels.
  const embedding = hint.filter((_, i) => i === 0 || i % 2 === 0).map((name) => shapeOf(t, name)[0]!);
  return {
    _class_name: 'ControlNetModel',
    in_channels: shapeOf(t, 'conv_in.weight')[1],
    conditioning_channels: shapeOf(t, 'controlnet_cond_embedding.conv_in.weight')[1],
    conditioning_embedding_out_channels: embedding,
    block_out_channels: blockOut,
    layers_per_block: count(t, /^down_blocks\.0\.resnets\.(\d+)\./),
    down_block_types: attends.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    attention_head_dim: linear ? blockOut.map((c) => Math.max(1, Math.floor(c / HEAD_CHANNELS))) : SD1_HEADS,
    cross_attention_dim: textWidth,
    use_linear_projection: linear,
    transformer_layers_per_block: perLevel.map((i) =>
      attends[i] ? count(t, new RegExp(`^down_blocks\\.${i}\\.attentions\\.0\\.transformer_blocks\\.(\\d+)\\.`)) : 1,
    ),
  };
}
