/**
 * An original single-file checkpoint (a File the person picked or dropped) read into the three
 * components a diffusers folder has, a byte range at a time: no buffer ever holds the whole file,
 * so a 4 GB float32 checkpoint loads as shards under 1 GiB per component. Tensors keep their
 * dtype here; the session builder converts them to the graphs' compute type (convert-weights.ts).
 */
import { ModelError } from '../../core/errors';
import { safetensorsPrefix } from '../../core/formats/safetensors';
import { readSingleFileHeader } from '../../core/single-file/header';
import { SHARD_BYTES } from '../../core/networks/convert-weights';
import { mapSingleFile, mapVaeFile, type Component, type MappedTensor } from '../../core/single-file/keys';
import { describeSingleFile, familyMisfit, singleFileConfigs } from '../../core/single-file/layout';
import { controlNetConfig, mapControlNet } from '../../core/single-file/controlnet';
import type { ComponentBytes } from '../runtime/safetensors-sessions';

/** Reads at most this much of the file at once (several small tensors share one read). */
const READ_BYTES = 64 * 2 ** 20;

const FOLDERS: Record<Component, string> = {
  unet: 'unet',
  vae: 'vae',
  textEncoder: 'text_encoder',
  textEncoder2: 'text_encoder_2',
};

/** A checkpoint's components as a diffusers folder has them (`textEncoder2` for SDXL). */
export type SingleFileParts<T> = Record<Exclude<Component, 'textEncoder2'>, T> & { textEncoder2?: T };

/** A [rows, cols] tensor's bytes as [cols, rows], element by element in its own width. */
function transposed(bytes: Uint8Array, [rows, cols]: [number, number]): Uint8Array {
  const width = bytes.length / (rows * cols);
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * cols + c) * width;
      out.set(bytes.subarray(from, from + width), (c * rows + r) * width);
    }
  }
  return out;
}

/** One component's tensors packed into safetensors shards, read from the file range by range. */
async function pack(file: Blob, folder: string, tensors: MappedTensor[]): Promise<ComponentBytes['weights']> {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  const shards: MappedTensor[][] = [];
  let size = 0;
  for (const t of sorted) {
    const bytes = t.end - t.begin;
    if (!shards.length || (size + bytes > SHARD_BYTES && shards[shards.length - 1]!.length > 0)) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(t);
    size += bytes;
  }
  const out: ComponentBytes['weights'] = [];
  for (const [index, shard] of shards.entries()) {
    const { prefix, offsets, dataBytes } = safetensorsPrefix(
      shard.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin })),
    );
    const bytes = new Uint8Array(prefix.length + dataBytes);
    bytes.set(prefix);
    // Consecutive tensors are read together, up to READ_BYTES per read.
    for (let i = 0; i < shard.length;) {
      const from = shard[i]!.begin;
      let j = i;
      let to = shard[i]!.end;
      while (j + 1 < shard.length && shard[j + 1]!.end - from <= READ_BYTES) to = Math.max(to, shard[++j]!.end);
      const chunk = new Uint8Array(await file.slice(from, to).arrayBuffer());
      if (chunk.length !== to - from)
        throw new ModelError(`The checkpoint file could not be read (it changed or was moved?).`);
      for (let k = i; k <= j; k++) {
        const t = shard[k]!;
        const data = chunk.subarray(t.begin - from, t.end - from);
        // `shape` is the transposed one: the file holds [shape[1], shape[0]].
        const placed = t.transpose ? transposed(data, [t.shape[1]!, t.shape[0]!]) : data;
        bytes.set(placed, prefix.length + offsets[k]!);
      }
      i = j + 1;
    }
    out.push({ path: `${folder}/single-file-${index}.safetensors`, bytes });
  }
  return out;
}

/**
 * The checkpoint as three diffusers components. `configs` are the configs of a diffusers model
 * that describes it; without them they follow from the file (see core/single-file/layout.ts).
 */
export async function readSingleFile(
  file: Blob,
  name: string,
  configs: SingleFileParts<{ path: string; json: unknown }> | null,
): Promise<SingleFileParts<ComponentBytes>> {
  const header = await readSingleFileHeader(file, name);
  const layout = describeSingleFile(header);
  const mapped = mapSingleFile(header);
  const own = configs ? null : singleFileConfigs(layout, mapped);
  const misfit = own ? familyMisfit(name, layout, own) : null;
  if (misfit) throw new ModelError(misfit);
  const part = async (c: Component, tensors: MappedTensor[]): Promise<ComponentBytes> => {
    const given = configs?.[c];
    const config = given ? given.json : own?.[c];
    if (config === undefined) {
      throw new ModelError(
        `${name} has ${FOLDERS[c]} tensors, but the model whose configs describe it has no ${FOLDERS[c]}.`,
      );
    }
    return {
      configPath: given ? given.path : `${name} (${FOLDERS[c]}, as ${layout.summary.split(',')[0]} has it)`,
      config,
      weights: await pack(file, FOLDERS[c], tensors),
    };
  };
  if (configs && !configs.textEncoder2 !== !mapped.textEncoder2) {
    throw new ModelError(
      `${name} is ${mapped.textEncoder2 ? 'an SDXL checkpoint (two text encoders)' : 'not an SDXL checkpoint'}, and the model chosen for its configs is ${configs.textEncoder2 ? 'an SDXL model' : 'not'}: choose a model of the same family.`,
    );
  }
  return {
    textEncoder: await part('textEncoder', mapped.textEncoder),
    ...(mapped.textEncoder2 ? { textEncoder2: await part('textEncoder2', mapped.textEncoder2) } : {}),
    unet: await part('unet', mapped.unet),
    vae: await part('vae', mapped.vae),
  };
}

/** An A1111 single-file ControlNet as a diffusers ControlNet folder would give it, read range by range. */
export async function readControlNetFile(file: Blob, name: string): Promise<ComponentBytes> {
  const header = await readSingleFileHeader(file, name);
  const mapped = mapControlNet(header, name);
  return {
    configPath: `${name} (its config, from its shapes)`,
    config: controlNetConfig(mapped),
    weights: await pack(file, 'controlnet', mapped),
  };
}

/**
 * A VAE file (A1111's `*.vae.safetensors`) as a VAE component, read range by range, with the
 * config of the checkpoint's own VAE (a file does not store one).
 */
export async function readVaeFile(
  file: Blob,
  name: string,
  config: { path: string; json: unknown },
): Promise<ComponentBytes> {
  const header = await readSingleFileHeader(file, name);
  return {
    configPath: `${config.path} (the model's own, for ${name})`,
    config: config.json,
    weights: await pack(file, 'vae', mapVaeFile(header)),
  };
}
