/**
 * ControlNets as a person names them: a catalog entry, a hub repo id or a folder URL in diffusers'
 * layout (`config.json` + `diffusion_pytorch_model[.fp16].safetensors`), or an A1111 single file
 * picked from disk, made into the worker's ControlNetPlan. The fp16 variant is preferred; a repo
 * with float32 weights only is converted to fp16 while it downloads (as the models are).
 */
import { ValidationError } from '../core/errors';
import type { CheckpointPartRef, ControlNetPlan, FileRef } from '../protocol/load-plan';
import { chooseWeights, type RepoListing } from './hub-listing';
import type { ModelSource } from './manifest';
import { parseModelInput } from './model-input';
import { modelHosts } from './origins';
import { fileUrl } from './urls';

/** A ControlNet the catalog offers: what it is for, where it is, its licence and download. */
export interface CatalogControlNet {
  repo: string;
  name: string;
  /** The preprocessor its pictures come from. */
  preprocessor: 'canny' | 'depth' | 'scribble';
  licence: string;
  /** The fp16 download, before the hub's listing gives the exact size. */
  approxBytes: number;
}

const OPEN_RAIL = 'CreativeML Open RAIL-M (use restrictions in the licence)';
/** SD 1.5's ControlNet v1.1 in fp16: 361 M parameters, 723 MB. */
const SD15_CONTROLNET_BYTES = 722_600_000;

/** One of lllyasviel's SD 1.5 ControlNets v1.1 (all fp16 in their repos, all OpenRAIL-M). */
const sd15 = (repo: string, name: string, preprocessor: CatalogControlNet['preprocessor']): CatalogControlNet => ({
  repo,
  name,
  preprocessor,
  licence: OPEN_RAIL,
  approxBytes: SD15_CONTROLNET_BYTES,
});

export const CONTROLNET_CATALOG: readonly CatalogControlNet[] = [
  sd15('lllyasviel/control_v11p_sd15_canny', 'SD 1.5 Canny edges (v1.1)', 'canny'),
  sd15('lllyasviel/control_v11f1p_sd15_depth', 'SD 1.5 Depth (v1.1)', 'depth'),
  sd15('lllyasviel/control_v11p_sd15_scribble', 'SD 1.5 Scribble (v1.1)', 'scribble'),
];

const STEM = 'diffusion_pytorch_model';

/** What a typed ControlNet names: its source and the id the worker keeps it under. */
export function controlNetSource(text: string): { source: Extract<ModelSource, { kind: 'hub' | 'url' }>; id: string } {
  let source: Extract<ModelSource, { kind: 'hub' | 'url' }>;
  try {
    source = parseModelInput(text);
  } catch {
    throw new ValidationError(
      'Enter a ControlNet repo id like "lllyasviel/control_v11p_sd15_canny" or the URL of a folder with its config.json, or pick an A1111 .safetensors file.',
      'controlnet',
    );
  }
  const id = source.kind === 'hub' ? `controlnet:${source.repo}@${source.revision}` : `controlnet:${source.baseUrl}`;
  return { source, id };
}

/** The weights to try: from the hub's listing (with sizes and SHA-256), else fp16 then float32 by name. */
function weightsPart(url: (path: string) => string, listing: RepoListing | null): CheckpointPartRef {
  const listed = (path: string): FileRef => {
    const info = listing?.files.get(path);
    return {
      url: url(path),
      path,
      ...(info?.size !== undefined ? { size: info.size } : {}),
      ...(info?.sha256 ? { sha256: info.sha256 } : {}),
    };
  };
  const config = listed('config.json');
  const chosen = listing ? chooseWeights(listing, '', STEM) : null;
  if (listing && !chosen) {
    throw new ValidationError(
      `The repo has no ${STEM}.safetensors (nor an fp16 variant): it is not a ControlNet in diffusers' layout with safetensors weights.`,
      'controlnet',
    );
  }
  if (chosen) {
    const refs = chosen.files.map((f) => ({ ...listed(f), ...(chosen.convert ? { convert: 'fp16' as const } : {}) }));
    return chosen.files.length > 1 ? { config, weights: refs.slice(0, 1), shards: refs } : { config, weights: refs };
  }
  return { config, weights: [listed(`${STEM}.fp16.safetensors`), listed(`${STEM}.safetensors`)] };
}

/** The plan for a ControlNet in a hub repo or folder (the listing, when there is one, pins files and sizes). */
export function planControlNet(text: string, hub: string, listing: RepoListing | null, name?: string): ControlNetPlan {
  const { source, id } = controlNetSource(text);
  const pinned = source.kind === 'hub' && listing?.sha ? { ...source, revision: listing.sha } : source;
  const part = weightsPart((path) => fileUrl(pinned, hub, path), listing);
  return {
    id,
    name:
      name ??
      (source.kind === 'hub'
        ? source.repo
        : decodeURIComponent(source.baseUrl.replace(/\/$/, '').split('/').pop() ?? 'ControlNet')),
    cache: true,
    source: { format: 'folder', part },
    hosts: [...modelHosts(hub), ...(source.kind === 'url' ? [new URL(source.baseUrl).origin] : [])],
    redirectHosts: modelHosts(hub),
  };
}

/** The plan for an A1111 single-file ControlNet the person picked (read range by range in the worker). */
export function planControlNetFile(file: File): ControlNetPlan {
  if (!/\.safetensors$/i.test(file.name)) {
    throw new ValidationError(
      `"${file.name}" is not a .safetensors file: pick an A1111 ControlNet such as control_v11p_sd15_canny.safetensors (.pth files are not read, as they can run code).`,
      'controlnet',
    );
  }
  return {
    id: `controlnet-file:${file.name}:${file.size}:${file.lastModified}`,
    name: file.name.replace(/\.safetensors$/i, ''),
    cache: false,
    source: { format: 'single-file', file, fileName: file.name },
  };
}

/** The download a plan makes, when its listing said (null: not known before downloading). */
export function planBytes(plan: ControlNetPlan): number | null {
  if (plan.source.format !== 'folder') return plan.source.file.size;
  const { shards, weights } = plan.source.part;
  const files = shards ?? weights.slice(0, 1);
  return files.every((f) => f.size !== undefined) ? files.reduce((n, f) => n + f.size!, 0) : null;
}
