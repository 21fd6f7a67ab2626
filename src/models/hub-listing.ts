/**
 * What files a model repo has, with sizes and SHA-256 where the source says: the hub's API listing
 * (`{hub}/api/models/{repo}/revision/{revision}?blobs=true`, whose `siblings` carry `size` and, for
 * LFS files, `lfs.sha256`), or a folder picked from disk. The weight files to load are chosen from
 * it, so nothing is guessed and a file that is too big is refused before the first byte.
 */
import { ValidationError } from '../core/errors';
import { isRecord } from '../core/json';
import type { SafetyCheckerFiles, CheckpointPart, ListedFile, ModelManifest } from './manifest';

/** A file as the listing has it. */
export type RepoFile = ListedFile;

export interface RepoListing {
  /** The commit the listing describes (files are then fetched from it, so they belong together). */
  sha: string | null;
  files: Map<string, RepoFile>;
}

function hubListingUrl(hub: string, repo: string, revision: string): string {
  return `${hub.replace(/\/+$/, '')}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

const size = (v: unknown): number | undefined =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined;

/** The hub's answer, checked entry by entry: what is not well formed is left out, not trusted. */
export function parseHubListing(json: unknown): RepoListing {
  if (!isRecord(json) || !Array.isArray(json['siblings'])) {
    throw new ValidationError(
      "The hub's file listing has no siblings: it is not a model repo's API answer.",
      'customModel',
    );
  }
  const files = new Map<string, RepoFile>();
  for (const s of json['siblings'] as unknown[]) {
    if (!isRecord(s) || typeof s['rfilename'] !== 'string') continue;
    const lfs = isRecord(s['lfs']) ? s['lfs'] : null;
    const sha =
      lfs && typeof lfs['sha256'] === 'string' && /^[0-9a-f]{64}$/i.test(lfs['sha256']) ? lfs['sha256'] : undefined;
    const bytes = size(s['size']) ?? (lfs ? size(lfs['size']) : undefined);
    files.set(s['rfilename'], { ...(bytes !== undefined ? { size: bytes } : {}), ...(sha ? { sha256: sha } : {}) });
  }
  const sha = typeof json['sha'] === 'string' && /^[0-9a-f]{40}$/i.test(json['sha']) ? json['sha'] : null;
  return { sha, files };
}

/** The weights of one component as a listing has them. */
export interface ChosenWeights {
  /** One file, or every shard of a sharded save. */
  files: string[];
  /** float32 weights only: converted to fp16 tensor by tensor while they download. */
  convert: boolean;
}

/** A sharded save's files (`{stem}{variant}-00001-of-00003.safetensors`, as diffusers and transformers write them), all present, or null. */
function shards(listing: RepoListing, base: string): string[] | null {
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{5})-of-(\\d{5})\\.safetensors$`);
  const found = [...listing.files.keys()].flatMap((f) => {
    const m = pattern.exec(f);
    return m ? [{ f, i: Number(m[1]), n: Number(m[2]) }] : [];
  });
  if (found.length === 0) return null;
  const n = found[0]!.n;
  const all = Array.from({ length: n }, (_, k) => found.find((x) => x.i === k + 1 && x.n === n)?.f);
  if (all.some((f) => f === undefined)) {
    throw new ValidationError(
      `The repo has only ${found.length} of the ${n} shards of ${base}.safetensors: its upload looks incomplete.`,
      'customModel',
    );
  }
  return all as string[];
}

/**
 * The weights to load for `{dir}/{stem}` (`{stem}` at the root when `dir` is ''): the fp16 variant when there is one (half the download
 * and cache; the graphs widen it to float32 exactly), else the float32 weights converted to fp16
 * while downloading. One file or all shards; null when the listing has none of them.
 */
export function chooseWeights(listing: RepoListing, dir: string, stem: string): ChosenWeights | null {
  for (const [variant, convert] of [
    ['.fp16', false],
    ['', true],
  ] as const) {
    const base = dir ? `${dir}/${stem}${variant}` : `${stem}${variant}`;
    const files = listing.files.has(`${base}.safetensors`) ? [`${base}.safetensors`] : shards(listing, base);
    if (files) return { files, convert };
  }
  return null;
}

/**
 * The hub's listing of a repo, or null where there is none to be had (offline, or a mirror
 * without the API): then weights are found by trying their names.
 */
export async function fetchListing(hub: string, repo: string, revision: string): Promise<RepoListing | null> {
  const response = await fetch(hubListingUrl(hub, repo, revision)).catch(() => null);
  if (!response?.ok) return null;
  const json: unknown = await response.json().catch(() => null);
  return json === null ? null : parseHubListing(json);
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
    components = {
      ...c,
      textEncoder: choose(c.textEncoder),
      ...(c.textEncoder2 ? { textEncoder2: choose(c.textEncoder2) } : {}),
      unet: choose(c.unet),
      vae: choose(c.vae),
    };
  }
  const safetyChecker = listedSafetyChecker(manifest, listing);
  const source = manifest.source;
  return {
    ...manifest,
    source: source.kind === 'hub' && listing.sha ? { ...source, revision: listing.sha } : source,
    components,
    ...(safetyChecker ? { safetyChecker } : {}),
    files: Object.fromEntries(listing.files),
    ...(bytes > 0 ? { approxBytes: Math.round(bytes) } : {}),
    ...(converted
      ? {
          description: `${manifest.description} The repo has float32 weights only: they are converted to fp16 as they download, which halves what this browser keeps (the networks still compute in float32).`,
        }
      : {}),
  };
}

/**
 * A checkpoint's safety checker as its repo has it: the one its model_index.json names, or for a
 * catalog entry (whose index is not read) the repo's own `safety_checker/` and
 * `feature_extractor/` folders; its weights chosen as the networks' are (fp16 preferred).
 */
export function listedSafetyChecker(manifest: ModelManifest, listing: RepoListing): SafetyCheckerFiles | undefined {
  if (manifest.components.format !== 'safetensors') return manifest.safetyChecker;
  const preprocessor = manifest.safetyChecker?.preprocessor ?? 'feature_extractor/preprocessor_config.json';
  if (
    !manifest.safetyChecker &&
    !(listing.files.has('safety_checker/config.json') && listing.files.has(preprocessor))
  ) {
    return undefined;
  }
  const chosen = chooseWeights(listing, 'safety_checker', 'model');
  if (!chosen) return manifest.safetyChecker;
  const bytes = chosen.files.reduce((s, f) => s + (listing.files.get(f)?.size ?? 0), 0) / (chosen.convert ? 2 : 1);
  return {
    part: {
      config: 'safety_checker/config.json',
      weights: chosen.files.length === 1 ? chosen.files : [],
      ...(chosen.files.length > 1 ? { shards: chosen.files } : {}),
      ...(chosen.convert ? { convert: true } : {}),
    },
    preprocessor,
    ...(bytes > 0 ? { bytes: Math.round(bytes) } : {}),
  };
}
