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
import { mapSingleFile, type Component, type MappedTensor } from '../../core/single-file/keys';
import { describeSingleFile, familyMisfit, singleFileConfigs } from '../../core/single-file/layout';
import { controlNetConfig, mapControlNet } from '../../core/single-file/controlnet';
import type { ComponentBytes } from '../runtime/safetensors-sessions';

/** Reads at most this much of the file at once (several small tensors share one read). */
const READ_BYTES = 64 * 2 ** 20;

const FOLDERS: Record<Component, string> = { unet: 'unet', vae: 'vae', textEncoder: 'text_encoder' };

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
        bytes.set(chunk.subarray(t.begin - from, t.end - from), prefix.length + offsets[k]!);
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
  configs: Record<Component, { path: string; json: unknown }> | null,
): Promise<Record<Component, ComponentBytes>> {
  const header = await readSingleFileHeader(file, name);
  const layout = describeSingleFile(header);
  const mapped = mapSingleFile(header);
  const own = configs ? null : singleFileConfigs(layout, mapped);
  const misfit = own ? familyMisfit(name, layout, own) : null;
  if (misfit) throw new ModelError(misfit);
  const part = async (c: Component): Promise<ComponentBytes> => ({
    configPath: configs ? configs[c].path : `${name} (${FOLDERS[c]}, as ${layout.summary.split(',')[0]} has it)`,
    config: configs ? configs[c].json : own![c],
    weights: await pack(file, FOLDERS[c], mapped[c]),
  });
  return { textEncoder: await part('textEncoder'), unet: await part('unet'), vae: await part('vae') };
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
