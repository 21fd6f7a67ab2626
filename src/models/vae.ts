/**
 * VAEs a checkpoint can take instead of its own (A1111's "SD VAE"): the catalog's (SDXL's fp16-fix
 * VAE), ones added by repo id or folder URL (a diffusers VAE folder), and a file picked from disk.
 * A VAE decodes the latent space it was trained for: one for SDXL fits SDXL models, one for SD
 * 1.x/2.x fits those; the worker checks a folder's scaling factor against the model's own VAE.
 */
import { ValidationError } from '../core/errors';
import type { CheckpointPartRef, FileRef, VaePlan } from '../protocol/load-plan';
import type { ModelManifest } from './manifest';
import { parseModelInput } from './model-input';
import { fileUrl } from './urls';

/** The latent space a model or VAE belongs to. */
export type VaeFamily = 'sd' | 'sdxl';

export interface VaeEntry {
  id: string;
  name: string;
  /** The family it was made for; null where only its files will tell (a VAE the person added). */
  family: VaeFamily | null;
  licence: string;
  /** The download, where known before it starts. */
  approxBytes?: number;
  source:
    | { kind: 'hub'; repo: string; revision: string }
    | { kind: 'url'; baseUrl: string }
    /** A file picked from disk: this visit only, as a picked checkpoint. */
    | { kind: 'file'; file: Blob; fileName: string };
}

export const VAE_CATALOG: readonly VaeEntry[] = [
  {
    id: 'vae:madebyollin/sdxl-vae-fp16-fix',
    name: 'SDXL VAE fp16 fix (madebyollin)',
    family: 'sdxl',
    licence: 'MIT, as its model card says',
    // diffusion_pytorch_model.safetensors, float32: converted to fp16 as it downloads where listed.
    approxBytes: 335_000_000,
    source: { kind: 'hub', repo: 'madebyollin/sdxl-vae-fp16-fix', revision: 'main' },
  },
];

/** Every VAE the person can choose: the catalog's, then their own. */
export function vaeChoices(custom: readonly VaeEntry[]): readonly VaeEntry[] {
  return [...VAE_CATALOG, ...custom];
}

export function findVae(id: string | null, custom: readonly VaeEntry[]): VaeEntry | null {
  return id === null ? null : (vaeChoices(custom).find((v) => v.id === id) ?? null);
}

/** SDXL models have two text encoders; every other checkpoint here is SD 1.x/2.x. */
export function modelFamily(manifest: ModelManifest): VaeFamily {
  const c = manifest.components;
  return (c.format === 'safetensors' && c.textEncoder2) || manifest.tokenizer2 ? 'sdxl' : 'sd';
}

const FAMILY_NAMES: Record<VaeFamily, string> = { sd: 'Stable Diffusion 1.x/2.x', sdxl: 'SDXL' };

/**
 * Whether `vae` can decode for `model`, and if not, why in words: ONNX exports keep their own
 * graphs; a VAE for the other family would decode another latent space.
 */
export function vaeMisfit(vae: VaeEntry, model: ModelManifest): string | null {
  if (model.components.format === 'onnx') {
    return `${model.name} is an ONNX export, whose VAE is its own graph: it uses its own VAE.`;
  }
  const family = modelFamily(model);
  if (vae.family && vae.family !== family) {
    return `${vae.name} is a VAE for ${FAMILY_NAMES[vae.family]}; ${model.name} is ${FAMILY_NAMES[family]}, so it uses its own VAE.`;
  }
  return null;
}

/** A VAE the person typed: a hub repo id or a folder URL of a diffusers VAE (config.json at its root). */
export function vaeFromInput(text: string): VaeEntry {
  const source = parseModelInput(text);
  if (source.kind === 'hub') {
    return {
      id: `vae:${source.repo}@${source.revision}`,
      name: source.repo,
      family: null,
      licence: 'see the repository',
      source,
    };
  }
  return { id: `vae:${source.baseUrl}`, name: source.baseUrl, family: null, licence: 'see its site', source };
}

/** A VAE file picked from disk. */
export function vaeFromFile(file: Blob, fileName: string, identity: string): VaeEntry {
  if (!/\.safetensors$/i.test(fileName)) {
    throw new ValidationError(`${fileName} is not a .safetensors file: pick a VAE saved as safetensors.`, 'vae');
  }
  return {
    id: `vae-file:${fileName}#${identity}`,
    name: `${fileName} (a file from this computer)`,
    family: null,
    licence: 'as its maker says (a file from this computer)',
    source: { kind: 'file', file, fileName },
  };
}

/** The worker's plan for a VAE: its folder's files (fp16 weights first) or the picked file. */
export function planVae(vae: VaeEntry, hub: string): VaePlan {
  const s = vae.source;
  if (s.kind === 'file')
    return { id: vae.id, name: vae.name, source: { format: 'single-file', file: s.file, fileName: s.fileName } };
  const ref = (path: string): FileRef => ({ url: fileUrl(s, hub, path), path: `${vae.name}/${path}` });
  const part: CheckpointPartRef = {
    config: ref('config.json'),
    weights: [ref('diffusion_pytorch_model.fp16.safetensors'), ref('diffusion_pytorch_model.safetensors')],
  };
  return { id: vae.id, name: vae.name, source: { format: 'folder', part } };
}

/** The origin a folder-URL VAE's files come from (the plan's hosts must allow it). */
export function vaeHosts(vae: VaeEntry): string[] {
  return vae.source.kind === 'url' ? [new URL(vae.source.baseUrl).origin] : [];
}
