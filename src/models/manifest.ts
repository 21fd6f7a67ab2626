/**
 * Model manifests: data describing where a model's files are and what it is, for the catalog,
 * for custom repos read from their own `model_index.json`, and for the worker's loader. No DOM.
 */
import { ValidationError } from '../core/errors';
import { modelHosts } from './origins';
import type { SchedulerConfigJson } from '../core/schedulers/types';
import { chooseWeights, type RepoFile, type RepoListing } from './repo-files';
import type { DepthEstimatorSource } from '../protocol/messages';
import type { AppMode } from './catalog';
import type { CheckpointPartRef, FileRef, LoadPlan, OnnxFileRef, PlanComponents } from '../protocol/load-plan';

export type { FileRef, LoadPlan };

/** A file of a model, relative to the model's root. */
export interface ManifestFile {
  path: string;
  /** Bytes, when known (checked against what arrives). */
  size?: number;
  sha256?: string;
  /** ONNX external-data files next to the graph (`model.onnx_data`), passed to ORT's externalData. */
  externalData?: { path: string; size?: number; sha256?: string }[];
}

/** A diffusers component folder: config.json and the weight files to try, preferred first. */
export interface CheckpointPart {
  config: string;
  weights: string[];
  /** Every shard of a sharded save (from a listing), loaded instead of `weights`. */
  shards?: string[];
  /** float32 weights (the repo has no fp16 variant), converted to fp16 while downloading. */
  convert?: boolean;
}

export type ManifestComponents =
  | {
      format: 'onnx';
      textEncoder: ManifestFile;
      unet: ManifestFile;
      vaeDecoder: ManifestFile;
      vaeEncoder?: ManifestFile;
    }
  /** A diffusers checkpoint (config.json + safetensors per component): the app builds the graphs. */
  | { format: 'safetensors'; textEncoder: CheckpointPart; unet: CheckpointPart; vae: CheckpointPart }
  /**
   * An original single-file checkpoint picked from disk (this visit only: a picked file cannot be
   * kept), with the config.json paths of the diffusers model that describes it, or null.
   */
  | {
      format: 'single-file';
      file: Blob;
      fileName: string;
      configs: { textEncoder: string; unet: string; vae: string } | null;
    };

export type ModelSource =
  /** Files served by this app (the tiny models). */
  | { kind: 'app'; baseUrl: string }
  /** A Hugging Face repo, fetched as {hub}/{repo}/resolve/{revision}/{path}. */
  /** `hub`: the hub it was added from (a custom repo remembers it, so a later `?hub=` cannot re-point it silently). */
  | { kind: 'hub'; repo: string; revision: string; hub?: string }
  /** Any base URL serving the diffusers layout. */
  | { kind: 'url'; baseUrl: string }
  /** A folder the person picked: each file's blob: URL by its path (this visit only). */
  | { kind: 'local'; name: string; urls: Record<string, string> };

export interface ModelManifest {
  id: string;
  name: string;
  source: ModelSource;
  description: string;
  licence: string;
  dtype: 'fp32' | 'fp16';
  kind: 'txt2img' | 'inpaint' | 'depth' | 'turbo';
  modes: readonly AppMode[];
  /** Whether this file list was checked against a trusted source (see `verifiedBy`). */
  verified: boolean;
  verifiedBy?: string;
  components: ManifestComponents;
  /** scheduler_config.json path, or the config itself when the repo has none. */
  scheduler: { path: string } | { config: SchedulerConfigJson };
  tokenizer: { dir: string; hasTokenizerJson: boolean };
  /** SD 2.x pads with "!" (id 0), SD 1.x with <|endoftext|>; from the repo's tokenizer config when absent. */
  padToken?: string;
  vaeConfigPath?: string;
  nativeSize: number;
  defaults: { width: number; height: number; steps: number; guidanceScale: number };
  /** Total download, for the selector and the quota check. */
  approxBytes?: number;
  /** ORT free-dimension overrides for exports with symbolic dims. */
  freeDimensionOverrides?: Record<string, number>;
  depthEstimator?: DepthEstimatorSource;
  /** Sizes and SHA-256 by path, as the source's listing gives them (checked against what arrives). */
  files?: Record<string, RepoFile>;
}

export const DEFAULT_HUB = 'https://huggingface.co';

export function hubFileUrl(hub: string, repo: string, revision: string, path: string): string {
  return `${hub.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
}

/** The URL of one file of a model. */
export function fileUrl(source: ModelSource, hub: string, path: string): string {
  if (source.kind === 'hub') return hubFileUrl(hub, source.repo, source.revision, path);
  if (source.kind === 'local') return source.urls[path] ?? '';
  return new URL(path, source.baseUrl.endsWith('/') ? source.baseUrl : `${source.baseUrl}/`).href;
}

export function planLoad(manifest: ModelManifest, hub: string, origin: string): LoadPlan {
  const source = resolveSource(manifest.source, origin);
  const url = (path: string) => fileUrl(source, hub, path);
  // A picked folder has what it has: a file it lacks is known missing, not fetched.
  const missing = (path: string) => (source.kind === 'local' && !source.urls[path] ? { missing: true } : {});
  const listed = (path: string) => {
    const info = manifest.files?.[path];
    return {
      ...(info?.size !== undefined ? { size: info.size } : {}),
      ...(info?.sha256 ? { sha256: info.sha256 } : {}),
    };
  };
  // A picked folder's files beside a graph, by name: the graph may name external data files.
  const siblings = (path: string) => {
    if (source.kind !== 'local') return {};
    const dir = path.slice(0, path.lastIndexOf('/') + 1);
    const near = Object.entries(source.urls).filter(([p]) => p.startsWith(dir) && !p.slice(dir.length).includes('/'));
    return { siblings: Object.fromEntries(near.map(([p, u]) => [p.slice(dir.length), u])) };
  };
  const ref = (f: ManifestFile): OnnxFileRef => ({
    url: url(f.path),
    path: f.path,
    ...missing(f.path),
    ...listed(f.path),
    ...siblings(f.path),
    ...(f.size !== undefined ? { size: f.size } : {}),
    ...(f.sha256 ? { sha256: f.sha256 } : {}),
    ...(f.externalData
      ? {
          externalData: f.externalData.map((e) => ({
            url: url(e.path),
            path: e.path,
            ...listed(e.path),
            ...(e.size !== undefined ? { size: e.size } : {}),
            ...(e.sha256 ? { sha256: e.sha256 } : {}),
          })),
        }
      : {}),
  });
  const plain = (path: string): FileRef => ({ url: url(path), path, ...missing(path), ...listed(path) });
  const weight = (path: string, convert: boolean | undefined): FileRef => ({
    ...plain(path),
    ...(convert ? { convert: 'fp16' as const } : {}),
  });
  const dir = manifest.tokenizer.dir.replace(/\/?$/, '/');
  const c = manifest.components;
  const part = (p: CheckpointPart): CheckpointPartRef => ({
    config: plain(p.config),
    weights: p.weights.map((w) => weight(w, p.convert)),
    ...(p.shards ? { shards: p.shards.map((s) => weight(s, p.convert)) } : {}),
  });
  const components: PlanComponents =
    c.format === 'onnx'
      ? {
          format: 'onnx',
          textEncoder: ref(c.textEncoder),
          unet: ref(c.unet),
          vaeDecoder: ref(c.vaeDecoder),
          ...(c.vaeEncoder ? { vaeEncoder: ref(c.vaeEncoder) } : {}),
        }
      : c.format === 'safetensors'
        ? { format: 'safetensors', textEncoder: part(c.textEncoder), unet: part(c.unet), vae: part(c.vae) }
        : {
            format: 'single-file',
            file: c.file,
            fileName: c.fileName,
            configs: c.configs
              ? { textEncoder: plain(c.configs.textEncoder), unet: plain(c.configs.unet), vae: plain(c.configs.vae) }
              : null,
          };
  return {
    modelId: manifest.id,
    name: manifest.name,
    // A picked file's few config files are not worth a cache record of their own.
    cache: (manifest.source.kind === 'hub' || manifest.source.kind === 'url') && c.format !== 'single-file',
    // The hub's hosts, and a folder URL's own origin: the person chose it by typing it.
    hosts: [...modelHosts(hub), ...(source.kind === 'url' ? [new URL(source.baseUrl).origin] : [])],
    components,
    scheduler: 'config' in manifest.scheduler ? { config: manifest.scheduler.config } : plain(manifest.scheduler.path),
    ...(manifest.tokenizer.hasTokenizerJson ? { tokenizerJson: plain(`${dir}tokenizer.json`) } : {}),
    tokenizerConfig: plain(`${dir}tokenizer_config.json`),
    specialTokensMap: plain(`${dir}special_tokens_map.json`),
    ...(manifest.vaeConfigPath ? { vaeConfig: plain(manifest.vaeConfigPath) } : {}),
    ...(manifest.padToken !== undefined ? { padToken: manifest.padToken } : {}),
    ...(manifest.freeDimensionOverrides ? { freeDimensionOverrides: manifest.freeDimensionOverrides } : {}),
    dtype: manifest.dtype,
    ...(manifest.approxBytes !== undefined ? { approxBytes: manifest.approxBytes } : {}),
  };
}

/** App-relative base URLs become absolute against the page's origin (the worker resolves nothing). */
function resolveSource(source: ModelSource, origin: string): ModelSource {
  return source.kind === 'hub' || source.kind === 'local'
    ? source
    : { ...source, baseUrl: new URL(source.baseUrl, origin).href };
}

/** A repo id ("owner/name", optionally "@revision") or an http(s) URL, as a person types it. */
export function parseModelInput(text: string): Extract<ModelSource, { kind: 'hub' | 'url' }> {
  const value = text.trim();
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ValidationError(`"${value}" is not a valid URL.`, 'customModel');
    }
    // A hub page URL (…/owner/name or …/owner/name/tree/rev) means that repo on that hub.
    return { kind: 'url', baseUrl: url.href.endsWith('/') ? url.href : `${url.href}/` };
  }
  const m = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+))?$/.exec(value);
  if (!m) {
    throw new ValidationError(
      'Enter a Hugging Face repo id like "owner/name" (optionally "owner/name@revision") or a URL to a diffusers ONNX folder.',
      'customModel',
    );
  }
  return { kind: 'hub', repo: `${m[1]}/${m[2]}`, revision: m[3] ?? 'main' };
}

type ModelIndex = Record<string, unknown>;

function hasComponent(index: ModelIndex, name: string): boolean {
  const v = index[name];
  return Array.isArray(v) && v.length === 2 && v[0] !== null && v[1] !== null;
}

/** The weight files of a diffusers component, preferred variant first. */
function checkpointPart(dir: string, stem: string, dtype: 'fp32' | 'fp16'): CheckpointPart {
  const full = `${dir}/${stem}.safetensors`;
  const half = `${dir}/${stem}.fp16.safetensors`;
  return { config: `${dir}/config.json`, weights: dtype === 'fp16' ? [half, full] : [full, half] };
}

/** The files whose presence tells an ONNX export from a diffusers checkpoint. */
export const LAYOUT_PROBES = ['unet/model.onnx', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx'] as const;

/**
 * A manifest from a diffusers repo's own model_index.json: an ONNX export (`vae_decoder`,
 * `<component>/model.onnx`) or a diffusers checkpoint (`vae`, config.json + safetensors per
 * component, whose graphs the app builds). The kind comes from the pipeline class; what the class
 * does not say (UNet channels, dtypes) the loader reads from the files themselves.
 *
 * `present`: which of LAYOUT_PROBES the source has, when known (a listing, a picked folder, or
 * probed). The files decide the layout over the index's keys: optimum's exporter writes the
 * index of the pipeline it exported (`vae`, no `vae_decoder`) beside ONNX folders.
 */
export function manifestFromModelIndex(
  id: string,
  source: ModelSource,
  index: ModelIndex,
  listing?: RepoListing,
  present?: ReadonlySet<string>,
): ModelManifest {
  if (typeof index !== 'object' || index === null)
    throw new ValidationError('model_index.json is not an object.', 'customModel');
  const className = typeof index['_class_name'] === 'string' ? index['_class_name'] : '';
  const files = present ?? (listing ? new Set(listing.files.keys()) : null);
  const onnxFiles = files !== null && files.has('unet/model.onnx') && files.has('vae_decoder/model.onnx');
  if (onnxFiles) {
    // An ONNX export whatever its index says: its components are the folders it has.
    index = {
      ...index,
      vae: [null, null],
      vae_decoder: ['onnx', 'folder'],
      vae_encoder: files.has('vae_encoder/model.onnx') ? ['onnx', 'folder'] : [null, null],
      ...(hasComponent(index, 'text_encoder') ? {} : { text_encoder: ['onnx', 'folder'] }),
      ...(hasComponent(index, 'unet') ? {} : { unet: ['onnx', 'folder'] }),
    };
  }
  const checkpoint = !hasComponent(index, 'vae_decoder') && hasComponent(index, 'vae');
  if (checkpoint && (hasComponent(index, 'text_encoder_2') || /XL|StableDiffusion3|Flux/i.test(className))) {
    throw new ValidationError(
      `This repo is a ${className || 'pipeline'} with a second text encoder (SDXL, SD 3 or Flux), which this app does not run: it runs Stable Diffusion 1.x and 2.x checkpoints.`,
      'customModel',
    );
  }
  for (const part of ['text_encoder', 'unet', checkpoint ? 'vae' : 'vae_decoder']) {
    if (!hasComponent(index, part)) {
      throw new ValidationError(
        `This repo's model_index.json (${className || 'no _class_name'}) has no ${part}: it is not a diffusers Stable Diffusion checkpoint or ONNX export.`,
        'customModel',
      );
    }
  }
  const inpaint = /Inpaint/i.test(className);
  const depth = /Depth/i.test(className);
  const lcm = /LatentConsistency/i.test(className) || /LCM/.test(JSON.stringify(index['scheduler'] ?? ''));
  const modes: AppMode[] = inpaint
    ? ['inpaint']
    : depth
      ? ['depth2img']
      : ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'];
  const file = (part: string): ManifestFile => ({ path: `${part}/model.onnx` });
  const name =
    source.kind === 'hub' ? source.repo : source.kind === 'local' ? `${source.name} (local folder)` : source.baseUrl;
  const hasEncoder = checkpoint || hasComponent(index, 'vae_encoder');
  const dtype = 'fp32';
  const part = (dir: string, stem: string) => checkpointPart(dir, stem, dtype);
  const components: ManifestComponents = checkpoint
    ? {
        format: 'safetensors',
        textEncoder: part('text_encoder', 'model'),
        unet: part('unet', 'diffusion_pytorch_model'),
        vae: part('vae', 'diffusion_pytorch_model'),
      }
    : {
        format: 'onnx',
        textEncoder: file('text_encoder'),
        unet: file('unet'),
        vaeDecoder: file('vae_decoder'),
        ...(hasComponent(index, 'vae_encoder') ? { vaeEncoder: file('vae_encoder') } : {}),
      };
  const manifest: ModelManifest = {
    id,
    name,
    source,
    description: `Loaded from its model_index.json (${className || 'unknown pipeline'}${checkpoint ? ', safetensors: the app builds its networks' : ''}).`,
    licence: 'see the repository',
    dtype,
    kind: inpaint ? 'inpaint' : depth ? 'depth' : 'txt2img',
    modes: hasEncoder ? modes : modes.filter((m) => m === 'txt2img' || m === 'compare' || m === 'explore'),
    verified: false,
    components,
    scheduler: { path: 'scheduler/scheduler_config.json' },
    // Hub SD checkpoints ship vocab.json + merges.txt (CLIP's vocabulary): the app's bundled
    // tokenizer.json is that vocabulary, with the repo's tokenizer_config deciding the padding.
    tokenizer: { dir: 'tokenizer/', hasTokenizerJson: !checkpoint },
    vaeConfigPath: checkpoint ? 'vae/config.json' : 'vae_decoder/config.json',
    nativeSize: 512,
    defaults: lcm
      ? { width: 512, height: 512, steps: 4, guidanceScale: 8 }
      : { width: 512, height: 512, steps: 20, guidanceScale: 7.5 },
  };
  return listing ? withListing(manifest, listing) : manifest;
}

/**
 * A model's files as the hub's listing has them: sizes and SHA-256 attached (checked before and
 * after download), pinned to the listed commit (every file from the same revision), and for a
 * diffusers checkpoint each network's weights chosen from what is there: the fp16 variant, all
 * shards of a sharded save, or float32 weights converted to fp16 as they download.
 */
export function withListing(manifest: ModelManifest, listing: RepoListing): ModelManifest {
  const c = manifest.components;
  let components = c;
  let converted = false;
  let bytes = 0;
  if (c.format === 'safetensors') {
    const choose = (p: CheckpointPart): CheckpointPart => {
      const m = /^(.*)\/([^/]+?)(\.fp16)?\.safetensors$/.exec(p.weights[0] ?? '');
      const chosen = m ? chooseWeights(listing, m[1]!, m[2]!) : null;
      if (!m || !chosen) {
        throw new ValidationError(
          `The repo has no ${p.weights.join(' or ')} (nor shards of them): it has no safetensors weights there.`,
          'customModel',
        );
      }
      converted ||= chosen.convert;
      bytes += chosen.files.reduce((s, f) => s + (listing.files.get(f)?.size ?? 0), 0) / (chosen.convert ? 2 : 1);
      return {
        config: p.config,
        weights: chosen.files.length === 1 ? chosen.files : [],
        ...(chosen.files.length > 1 ? { shards: chosen.files } : {}),
        ...(chosen.convert ? { convert: true } : {}),
      };
    };
    components = { ...c, textEncoder: choose(c.textEncoder), unet: choose(c.unet), vae: choose(c.vae) };
  }
  const source = manifest.source;
  return {
    ...manifest,
    source: source.kind === 'hub' && listing.sha ? { ...source, revision: listing.sha } : source,
    components,
    files: Object.fromEntries(listing.files),
    ...(bytes > 0 ? { approxBytes: Math.round(bytes) } : {}),
    ...(converted
      ? {
          description: `${manifest.description} The repo has float32 weights only: they are converted to fp16 as they download, which halves what this browser keeps (the networks still compute in float32).`,
        }
      : {}),
  };
}
