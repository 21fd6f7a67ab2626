/**
 * LoRA files in the two layouts people have, matched to a checkpoint's own module names, and
 * merged into its weights as W + s·(alpha/rank)·up·down (alpha = rank when the file has none):
 * - kohya / A1111: `lora_unet_<module with _>` and `lora_te_<module with _>` (SDXL: `lora_te1_`,
 *   `lora_te2_`, and the UNet's SGM block names, `input_blocks_4_1_…`, as kohya's SDXL trainer
 *   writes them), with `.lora_down`, `.lora_up` and `.alpha`; underscores are ambiguous, so names
 *   are matched against the model's own modules written the same way;
 * - diffusers / PEFT: `unet.<module>.lora_A.weight`, `text_encoder.<module>.lora_B.weight`,
 *   `text_encoder_2.…` (alpha/rank already in lora_B).
 * Linear layers and 1×1 convolutions; other kinds are refused with what the file is.
 */
import { ModelError } from '../errors';
import { readFloat32, type SafetensorsHeader } from '../formats/safetensors';
import type { WeightFile } from './graph';

export type LoraTarget = 'unet' | 'text_encoder' | 'text_encoder_2';

export interface LoraLayer {
  target: LoraTarget;
  /** The module's weight name in the checkpoint, e.g. `down_blocks.0.attentions.0.proj_in.weight`. */
  weight: string;
  down: Float32Array;
  up: Float32Array;
  rank: number;
  alpha: number;
}

/** The checkpoint's weight names per network, as its safetensors files have them (SDXL: two text encoders). */
export interface ModelModules {
  unet: readonly string[];
  text_encoder: readonly string[];
  text_encoder_2?: readonly string[];
}

/** kohya's prefixes: SD's one text encoder is `lora_te_`; SDXL's are `lora_te1_` and `lora_te2_`. */
function kohyaPrefix(target: LoraTarget, sdxl: boolean): string {
  return target === 'unet' ? 'lora_unet_' : target === 'text_encoder_2' ? 'lora_te2_' : sdxl ? 'lora_te1_' : 'lora_te_';
}
const PEFT_PREFIX: Record<LoraTarget, string> = {
  unet: 'unet.',
  text_encoder: 'text_encoder.',
  text_encoder_2: 'text_encoder_2.',
};

/** What a file is, when it is a LoRA kind this app does not merge, or for another family. */
function unsupportedKind(file: string, names: string[], modules: ModelModules): string | null {
  if (names.some((n) => /\.(hada_w1_a|hada_w2_a|lokr_w1|lokr_w2|oft_blocks|diff_b?)\b/.test(n))) {
    return `${file} is a LyCORIS file (LoHa, LoKr, OFT or a full diff), not a plain LoRA: this app merges LoRA only.`;
  }
  const sdxlLora = names.some((n) =>
    /^lora_te[12]_|^lora_unet_(input|output|middle)_blocks?_|^text_encoder_2\./.test(n),
  );
  if (sdxlLora && !modules.text_encoder_2) {
    return `${file} is an SDXL LoRA (two text encoders), which does not fit this Stable Diffusion 1.x/2.x model: use it with an SDXL model.`;
  }
  return null;
}

/**
 * A diffusers UNet module's name in the SGM (LDM) layout kohya's SDXL LoRAs use, for the modules
 * LoRAs train (attention and feed-forward inside the transformers), or null. `layers` is the
 * resnets per down block (2 for SDXL): each level has that many blocks and a downsampler, and each
 * up level one more.
 */
export function sgmUnetModule(module: string, layers: number): string | null {
  const m = /^(down_blocks|up_blocks)\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(module);
  if (m) {
    const [level, index] = [Number(m[2]), Number(m[3])];
    return m[1] === 'down_blocks'
      ? `input_blocks.${(layers + 1) * level + index + 1}.1.${m[4]}`
      : `output_blocks.${(layers + 1) * level + index}.1.${m[4]}`;
  }
  const mid = /^mid_block\.attentions\.0\.(.+)$/.exec(module);
  return mid ? `middle_block.1.${mid[1]}` : null;
}

/**
 * The names a module may have in a LoRA file: as the checkpoint names it; a text encoder's with and
 * without `text_model.` (transformers 4 and kohya write it, transformers 5 does not); a UNet's in
 * SDXL's SGM layout too (kohya).
 */
function moduleNames(target: LoraTarget, module: string, layers: number): string[] {
  if (target !== 'unet') {
    const bare = module.replace(/^text_model\./, '');
    return [`text_model.${bare}`, bare];
  }
  const sgm = sgmUnetModule(module, layers);
  return sgm ? [module, sgm] : [module];
}

/** The LoRA layers of a file, each matched to a weight of the checkpoint. */
export function readLora(
  file: string,
  header: SafetensorsHeader,
  bytes: Uint8Array,
  modules: ModelModules,
): LoraLayer[] {
  const names = [...header.tensors.keys()];
  const kind = unsupportedKind(file, names, modules);
  if (kind) throw new ModelError(kind);
  const read = (name: string) => readFloat32(header, bytes, name);
  const layers: LoraLayer[] = [];
  const claimed = new Set<string>();
  // Resnets per down block, for SDXL's SGM names (counted from the model's own modules).
  const perLevel = new Set(modules.unet.flatMap((w) => /^down_blocks\.0\.resnets\.(\d+)\./.exec(w)?.[1] ?? [])).size;
  for (const target of ['unet', 'text_encoder', 'text_encoder_2'] as const) {
    for (const weight of modules[target] ?? []) {
      if (!weight.endsWith('.weight')) continue;
      const module = weight.slice(0, -'.weight'.length);
      const known = moduleNames(target, module, perLevel);
      const prefix = kohyaPrefix(target, modules.text_encoder_2 !== undefined);
      const kohyaKeys = known.map((n) => `${prefix}${n.replace(/\./g, '_')}`);
      const kohya = kohyaKeys.find((k) => header.tensors.has(`${k}.lora_down.weight`)) ?? '';
      const peft =
        known.map((n) => `${PEFT_PREFIX[target]}${n}`).find((k) => header.tensors.has(`${k}.lora_A.weight`)) ?? '';
      const form = header.tensors.has(`${kohya}.lora_down.weight`)
        ? { down: `${kohya}.lora_down.weight`, up: `${kohya}.lora_up.weight`, alpha: `${kohya}.alpha` }
        : header.tensors.has(`${peft}.lora_A.weight`)
          ? { down: `${peft}.lora_A.weight`, up: `${peft}.lora_B.weight`, alpha: null }
          : null;
      if (!form) continue;
      const downShape = header.tensors.get(form.down)!.shape;
      if (downShape.length === 4 && (downShape[2] !== 1 || downShape[3] !== 1)) {
        throw new ModelError(
          `${file} is a LoCon file (LoRA on ${downShape[2]}×${downShape[3]} convolutions, e.g. ${module}): this app merges LoRA on linear layers and 1×1 convolutions only.`,
        );
      }
      if (!header.tensors.has(form.up)) throw new ModelError(`${file} has ${form.down} but no ${form.up}.`);
      const rank = downShape[0]!;
      const alpha = form.alpha && header.tensors.has(form.alpha) ? read(form.alpha)[0]! : rank;
      layers.push({ target, weight, down: read(form.down), up: read(form.up), rank, alpha });
      for (const n of [form.down, form.up, ...(form.alpha ? [form.alpha] : [])]) claimed.add(n);
    }
  }
  const left = names.filter((n) => !claimed.has(n) && /lora_(down|up|A|B)\b/.test(n));
  if (layers.length === 0 || left.length > 0) {
    const example = left[0] ?? names[0] ?? '(none)';
    throw new ModelError(
      `${file} does not fit this model: ${left.length || names.length} of its tensors (e.g. ${example}) match no layer of this checkpoint. It is probably a LoRA for another architecture.`,
    );
  }
  return layers;
}

/**
 * The merged weights of every layer the LoRAs touch, W + Σ s·(alpha/rank)·up·down, as one float32
 * file that shadows the originals (a WeightSet takes the last file's tensor for a name). `base`
 * reads a weight of the checkpoint as float32.
 */
export function mergeLoras(
  loras: readonly { layers: readonly LoraLayer[]; scale: number }[],
  target: LoraTarget,
  base: (name: string) => { values: Float32Array; shape: number[] },
  location: string,
): { file: WeightFile; bytes: Uint8Array } | null {
  const touched = [...new Set(loras.flatMap((l) => l.layers.filter((x) => x.target === target).map((x) => x.weight)))];
  if (touched.length === 0) return null;
  const originals = touched.map((w) => base(w));
  const bytes = new Uint8Array(originals.reduce((n, o) => n + o.values.length * 4, 0));
  const tensors: SafetensorsHeader['tensors'] = new Map();
  let at = 0;
  touched.forEach((weight, i) => {
    const { values, shape } = originals[i]!;
    const out = new Float32Array(bytes.buffer, at, values.length);
    out.set(values);
    const outF = shape[0]!;
    const inF = values.length / outF;
    for (const { layers, scale } of loras) {
      for (const layer of layers) {
        if (layer.target !== target || layer.weight !== weight) continue;
        if (layer.up.length !== outF * layer.rank || layer.down.length !== layer.rank * inF) {
          throw new ModelError(
            `The LoRA's ${weight} has rank-${layer.rank} matrices that do not fit its [${shape.join(', ')}] weight.`,
          );
        }
        const k = (scale * layer.alpha) / layer.rank;
        // out[o, j] += k · Σ_r up[o, r] · down[r, j]
        for (let o = 0; o < outF; o++) {
          for (let r = 0; r < layer.rank; r++) {
            const u = k * layer.up[o * layer.rank + r]!;
            if (u === 0) continue;
            const row = r * inF;
            const dst = o * inF;
            for (let j = 0; j < inF; j++) out[dst + j] = out[dst + j]! + u * layer.down[row + j]!;
          }
        }
      }
    }
    tensors.set(weight, { name: weight, dtype: 'F32', shape, begin: at, end: at + values.length * 4 });
    at += values.length * 4;
  });
  return {
    file: { header: { file: location, dataStart: 0, size: bytes.length, tensors, metadata: {} }, location },
    bytes,
  };
}
