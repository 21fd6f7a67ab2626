/**
 * An original (LDM) single-file checkpoint's tensors under diffusers' names, per component: the
 * reverse of diffusers' `convert_diffusers_to_original_stable_diffusion.py` (and its SDXL twin).
 * Every mapping is a rename and a byte range of the file (OpenCLIP's fused q/k/v projection is
 * three row ranges of one tensor), so nothing is copied to describe it; the one exception is
 * SDXL's OpenCLIP `text_projection`, stored for `x @ P`, which is read transposed.
 *
 * The UNet's block indices are walked, not computed: the LDM layout numbers input blocks with a
 * gap per level (`3·i + j + 1` for SD's two layers per block), and diffusers' converter keeps that
 * numbering for other depths too, so the levels are found from where the down- and upsamplers are.
 */
import { ModelError } from '../errors';
import type { SafetensorsEntry, SafetensorsHeader } from '../formats/safetensors';

export type Component = 'unet' | 'vae' | 'textEncoder' | 'textEncoder2';

/** A tensor of the file under its diffusers name: same dtype and bytes, maybe another shape. */
export interface MappedTensor {
  name: string;
  source: string;
  dtype: SafetensorsEntry['dtype'];
  shape: number[];
  begin: number;
  end: number;
  /** A 2-D tensor stored the other way round: `shape` is after transposing the file's. */
  transpose?: true;
}

/** The networks' tensors; `textEncoder2` for SDXL checkpoints only. */
export type MappedComponents = Record<Exclude<Component, 'textEncoder2'>, MappedTensor[]> & {
  textEncoder2?: MappedTensor[];
};

export const UNET_PREFIX = 'model.diffusion_model.';
export const VAE_PREFIX = 'first_stage_model.';
/** SD 1.x: transformers' CLIPTextModel, as diffusers names it after `text_model.` or without. */
export const CLIP_PREFIX = 'cond_stage_model.transformer.';
/** SD 2.x: OpenCLIP's own names. */
export const OPEN_CLIP_PREFIX = 'cond_stage_model.model.';
/** SDXL (sgm layout): CLIP ViT-L in transformers' names, then OpenCLIP ViT-bigG in its own. */
export const SDXL_CLIP_PREFIX = 'conditioner.embedders.0.transformer.';
export const SDXL_OPEN_CLIP_PREFIX = 'conditioner.embedders.1.model.';

const RESNET_PARTS: [string, string][] = [
  ['in_layers.0.', 'norm1.'],
  ['in_layers.2.', 'conv1.'],
  ['emb_layers.1.', 'time_emb_proj.'],
  ['out_layers.0.', 'norm2.'],
  ['out_layers.3.', 'conv2.'],
  ['skip_connection.', 'conv_shortcut.'],
];

const isResnet = (rest: string) => RESNET_PARTS.some(([ldm]) => rest.startsWith(ldm));

function resnetName(rest: string): string {
  for (const [ldm, hf] of RESNET_PARTS) if (rest.startsWith(ldm)) return hf + rest.slice(ldm.length);
  return rest;
}

/** `input_blocks.3.1.proj_in.weight` → { block: 3, child: 1, rest: 'proj_in.weight' }. */
function splitBlock(key: string): { block: number; child: number; rest: string } | null {
  const m = /^(\d+)\.(\d+)\.(.+)$/.exec(key);
  return m ? { block: Number(m[1]), child: Number(m[2]), rest: m[3]! } : null;
}

function groupByBlock(keys: { key: string; entry: SafetensorsEntry }[]) {
  const blocks = new Map<number, { child: number; rest: string; entry: SafetensorsEntry }[]>();
  for (const { key, entry } of keys) {
    const parts = splitBlock(key);
    if (!parts)
      throw new ModelError(`The checkpoint has a UNet tensor named ${entry.name}, which is not in the SD layout.`);
    const list = blocks.get(parts.block) ?? [];
    list.push({ child: parts.child, rest: parts.rest, entry });
    blocks.set(parts.block, list);
  }
  return [...blocks.entries()].sort((a, b) => a[0] - b[0]);
}

export const tensor = (name: string, entry: SafetensorsEntry, shape = entry.shape): MappedTensor => ({
  name,
  source: entry.name,
  dtype: entry.dtype,
  shape,
  begin: entry.begin,
  end: entry.end,
});

/** The UNet's tensors under `prefix` (a ControlNet's encoder half too: it has no output blocks). */
export function mapUnet(entries: SafetensorsEntry[], prefix = UNET_PREFIX): MappedTensor[] {
  const out: MappedTensor[] = [];
  const input: { key: string; entry: SafetensorsEntry }[] = [];
  const output: { key: string; entry: SafetensorsEntry }[] = [];
  const fixed: [string, string][] = [
    ['time_embed.0.', 'time_embedding.linear_1.'],
    ['time_embed.2.', 'time_embedding.linear_2.'],
    ['input_blocks.0.0.', 'conv_in.'],
    ['out.0.', 'conv_norm_out.'],
    ['out.2.', 'conv_out.'],
    // SDXL's add_embedding (pooled text and time ids); describeSingleFile refuses it elsewhere.
    ['label_emb.0.0.', 'add_embedding.linear_1.'],
    ['label_emb.0.2.', 'add_embedding.linear_2.'],
  ];
  const middle = ['mid_block.resnets.0.', 'mid_block.attentions.0.', 'mid_block.resnets.1.'];
  for (const entry of entries) {
    const key = entry.name.slice(prefix.length);
    const hit = fixed.find(([ldm]) => key.startsWith(ldm));
    if (hit) {
      out.push(tensor(hit[1] + key.slice(hit[0].length), entry));
    } else if (key.startsWith('middle_block.')) {
      const parts = splitBlock(`0.${key.slice('middle_block.'.length)}`);
      const at = parts ? middle[parts.child] : undefined;
      if (!parts || at === undefined) throw new ModelError(`Unknown UNet tensor ${entry.name}.`);
      out.push(tensor(at + (parts.child === 1 ? parts.rest : resnetName(parts.rest)), entry));
    } else if (key.startsWith('input_blocks.')) {
      input.push({ key: key.slice('input_blocks.'.length), entry });
    } else if (key.startsWith('output_blocks.')) {
      output.push({ key: key.slice('output_blocks.'.length), entry });
    } else {
      throw new ModelError(
        `The checkpoint's UNet has ${entry.name}, which SD 1.x/2.x UNets do not have (a class- or image-conditioned model?).`,
      );
    }
  }
  // Down: a block is a resnet (child 0) with an optional transformer (child 1), or a downsampler
  // (`0.op`), which ends its level.
  let level = 0;
  let index = 0;
  for (const [, children] of groupByBlock(input)) {
    if (children.some((c) => c.rest.startsWith('op.'))) {
      for (const c of children)
        out.push(tensor(`down_blocks.${level}.downsamplers.0.conv.${c.rest.slice(3)}`, c.entry));
      level++;
      index = 0;
      continue;
    }
    for (const c of children) {
      const name =
        c.child === 0
          ? `down_blocks.${level}.resnets.${index}.${resnetName(c.rest)}`
          : `down_blocks.${level}.attentions.${index}.${c.rest}`;
      out.push(tensor(name, c.entry));
    }
    index++;
  }
  // Up: a block holds a resnet, maybe a transformer, maybe an upsampler (`conv.`), which ends its level.
  level = 0;
  index = 0;
  for (const [, children] of groupByBlock(output)) {
    const hasResnet = children.some((c) => c.child === 0 && isResnet(c.rest));
    let ends = false;
    for (const c of children) {
      let name: string;
      if (c.child > 0 && c.rest.startsWith('conv.')) {
        name = `up_blocks.${level}.upsamplers.0.conv.${c.rest.slice(5)}`;
        ends = true;
      } else if (c.child === 0) {
        name = `up_blocks.${level}.resnets.${index}.${resnetName(c.rest)}`;
      } else {
        name = `up_blocks.${level}.attentions.${index}.${c.rest}`;
      }
      out.push(tensor(name, c.entry));
    }
    if (hasResnet) index++;
    if (ends) {
      level++;
      index = 0;
    }
  }
  return out;
}

function mapVae(entries: SafetensorsEntry[], prefix = VAE_PREFIX): MappedTensor[] {
  const levels = new Set(
    entries.flatMap((e) => /^encoder\.down\.(\d+)\./.exec(e.name.slice(prefix.length))?.slice(1, 2) ?? []),
  ).size;
  const resnet = (rest: string) => rest.replace(/^nin_shortcut\./, 'conv_shortcut.');
  const attention: Record<string, string> = {
    norm: 'group_norm',
    q: 'to_q',
    k: 'to_k',
    v: 'to_v',
    proj_out: 'to_out.0',
  };
  return entries.map((entry) => {
    const key = entry.name.slice(prefix.length);
    let m: RegExpExecArray | null;
    if ((m = /^(encoder|decoder)\.norm_out\.(.+)$/.exec(key))) return tensor(`${m[1]}.conv_norm_out.${m[2]}`, entry);
    if ((m = /^encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$/.exec(key)))
      return tensor(`encoder.down_blocks.${m[1]}.resnets.${m[2]}.${resnet(m[3]!)}`, entry);
    if ((m = /^encoder\.down\.(\d+)\.downsample\.conv\.(.+)$/.exec(key)))
      return tensor(`encoder.down_blocks.${m[1]}.downsamplers.0.conv.${m[2]}`, entry);
    // The decoder's `up` levels count from the lowest resolution up; diffusers' from the top.
    if ((m = /^decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$/.exec(key)))
      return tensor(`decoder.up_blocks.${levels - 1 - Number(m[1])}.resnets.${m[2]}.${resnet(m[3]!)}`, entry);
    if ((m = /^decoder\.up\.(\d+)\.upsample\.conv\.(.+)$/.exec(key)))
      return tensor(`decoder.up_blocks.${levels - 1 - Number(m[1])}.upsamplers.0.conv.${m[2]}`, entry);
    if ((m = /^(encoder|decoder)\.mid\.block_([12])\.(.+)$/.exec(key)))
      return tensor(`${m[1]}.mid_block.resnets.${Number(m[2]) - 1}.${resnet(m[3]!)}`, entry);
    if ((m = /^(encoder|decoder)\.mid\.attn_1\.(norm|q|k|v|proj_out)\.(weight|bias)$/.exec(key))) {
      // LDM's attention projections are 1×1 convs; diffusers' are linears: the same bytes.
      const shape = m[3] === 'weight' && m[2] !== 'norm' ? entry.shape.slice(0, 2) : entry.shape;
      return tensor(`${m[1]}.mid_block.attentions.0.${attention[m[2]!]}.${m[3]}`, entry, shape);
    }
    return tensor(key, entry);
  });
}

/** transformers' CLIP names after the prefix, as they are (with or without `text_model.`). */
function mapClip(entries: SafetensorsEntry[], prefix = CLIP_PREFIX): MappedTensor[] {
  return entries
    .filter((e) => !e.name.endsWith('position_ids'))
    .map((entry) => tensor(entry.name.slice(prefix.length), entry));
}

/**
 * OpenCLIP's text transformer as transformers' CLIPTextModel. SD 2 conditions on the penultimate
 * layer (then `ln_final`), so its last resblock is left out, as diffusers' text encoder for SD 2
 * has one layer fewer; `text_projection` and `logit_scale` are CLIP's image-text head, unused.
 * SDXL (`sdxl`) keeps every layer (its pipeline picks the penultimate itself) and the projection,
 * as CLIPTextModelWithProjection's `text_projection`, transposed (diffusers'
 * `convert_open_clip_checkpoint`).
 */
function mapOpenClip(entries: SafetensorsEntry[], prefix = OPEN_CLIP_PREFIX, sdxl = false): MappedTensor[] {
  const layerOf = (e: SafetensorsEntry) => /transformer\.resblocks\.(\d+)\./.exec(e.name)?.[1];
  const last = sdxl ? Infinity : Math.max(...entries.map((e) => Number(layerOf(e) ?? -1)));
  const out: MappedTensor[] = [];
  const parts: [string, string][] = [
    ['ln_1.', 'layer_norm1.'],
    ['ln_2.', 'layer_norm2.'],
    ['mlp.c_fc.', 'mlp.fc1.'],
    ['mlp.c_proj.', 'mlp.fc2.'],
    ['attn.out_proj.', 'self_attn.out_proj.'],
  ];
  for (const entry of entries) {
    const key = entry.name.slice(prefix.length);
    if (sdxl && key === 'text_projection') {
      const [rows, cols] = entry.shape as [number, number];
      out.push({ ...tensor('text_projection.weight', entry, [cols, rows]), transpose: true });
    } else if (key === 'token_embedding.weight')
      out.push(tensor('text_model.embeddings.token_embedding.weight', entry));
    else if (key === 'positional_embedding') out.push(tensor('text_model.embeddings.position_embedding.weight', entry));
    else if (key.startsWith('ln_final.')) out.push(tensor(`text_model.final_layer_norm.${key.slice(9)}`, entry));
    else if (key === 'text_projection' || key === 'logit_scale' || key === 'attn_mask') continue;
    else {
      const m = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(key);
      if (!m) throw new ModelError(`Unknown OpenCLIP text tensor ${entry.name}.`);
      if (Number(m[1]) === last) continue;
      const at = `text_model.encoder.layers.${m[1]}.`;
      const rest = m[2]!;
      const fused = /^attn\.in_proj_(weight|bias)$/.exec(rest);
      if (fused) {
        // [3·d, …] rows: q, then k, then v; each a contiguous third of the tensor's bytes.
        const [rows, ...tail] = entry.shape as [number, ...number[]];
        const d = rows / 3;
        const third = (entry.end - entry.begin) / 3;
        ['q', 'k', 'v'].forEach((p, i) =>
          out.push({
            name: `${at}self_attn.${p}_proj.${fused[1]}`,
            source: entry.name,
            dtype: entry.dtype,
            shape: [d, ...tail],
            begin: entry.begin + i * third,
            end: entry.begin + (i + 1) * third,
          }),
        );
        continue;
      }
      const hit = parts.find(([ldm]) => rest.startsWith(ldm));
      if (!hit) throw new ModelError(`Unknown OpenCLIP text tensor ${entry.name}.`);
      out.push(tensor(at + hit[1] + rest.slice(hit[0].length), entry));
    }
  }
  return out;
}

/**
 * A VAE file (A1111's `*.vae.safetensors`, or a checkpoint's VAE saved alone) under diffusers'
 * names: LDM names with or without `first_stage_model.`, or diffusers' own, kept as they are.
 */
export function mapVaeFile(header: SafetensorsHeader): MappedTensor[] {
  const all = [...header.tensors.values()];
  if (all.some((e) => /^(encoder|decoder)\.(down|up)_blocks\./.test(e.name))) return all.map((e) => tensor(e.name, e));
  const prefixed = all.some((e) => e.name.startsWith(VAE_PREFIX));
  const vae = prefixed ? all.filter((e) => e.name.startsWith(VAE_PREFIX)) : all;
  if (!vae.some((e) => /^(encoder|decoder)\.(down|up)\.\d+\./.test(e.name.slice(prefixed ? VAE_PREFIX.length : 0)))) {
    throw new ModelError(
      `${header.file} is not a VAE: it has no encoder.down.* / decoder.up.* tensors (its first tensor is ${all[0]?.name ?? 'none'}).`,
    );
  }
  return mapVae(vae, prefixed ? VAE_PREFIX : '');
}

/** The file's tensors per component under diffusers' names. */
export function mapSingleFile(header: SafetensorsHeader): MappedComponents {
  const all = [...header.tensors.values()];
  const under = (prefix: string) => all.filter((e) => e.name.startsWith(prefix));
  if (all.some((e) => e.name.startsWith(SDXL_OPEN_CLIP_PREFIX))) {
    return {
      unet: mapUnet(under(UNET_PREFIX)),
      vae: mapVae(under(VAE_PREFIX)),
      textEncoder: mapClip(under(SDXL_CLIP_PREFIX), SDXL_CLIP_PREFIX),
      textEncoder2: mapOpenClip(under(SDXL_OPEN_CLIP_PREFIX), SDXL_OPEN_CLIP_PREFIX, true),
    };
  }
  const openClip = under(OPEN_CLIP_PREFIX);
  return {
    unet: mapUnet(under(UNET_PREFIX)),
    vae: mapVae(under(VAE_PREFIX)),
    textEncoder: openClip.length > 0 ? mapOpenClip(openClip) : mapClip(under(CLIP_PREFIX)),
  };
}
