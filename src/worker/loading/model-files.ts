/**
 * A model's files as one load reads them: from Cache Storage when there (a second visit works
 * offline) or downloaded with progress over all the files; optional files the server does not
 * have are remembered as absent, so an offline load knows it too.
 */
import { ModelError } from '../../core/errors';
import { cacheKey, type FileRef, type LoadPlan, type PlanComponents } from '../../protocol/load-plan';
import type { Progress } from '../../protocol/messages';
import { cachedFile, MODEL_CACHE, partKey } from '../../storage/model-cache';
import { loadFile } from './download';

/** Cached stand-in for an optional file the server does not have, so offline loads know it is absent. */
const MISSING = 'x-latent-studio-missing';

const isNotFound = (error: unknown): boolean => error instanceof ModelError && /\(404\)/.test(error.message);

/** The big files a plan downloads: ONNX graphs with their external data, or each checkpoint part's preferred weights. */
export function plannedFiles(components: PlanComponents): FileRef[] {
  // A picked checkpoint file is read in place, not downloaded.
  if (components.format === 'single-file') return [];
  if (components.format === 'safetensors') {
    const { textEncoder, textEncoder2, unet, vae } = components;
    return [textEncoder, ...(textEncoder2 ? [textEncoder2] : []), unet, vae].flatMap(
      (p) => p.shards ?? p.weights.slice(0, 1),
    );
  }
  const { textEncoder, unet, vaeDecoder, vaeEncoder } = components;
  return [textEncoder, unet, vaeDecoder, ...(vaeEncoder ? [vaeEncoder] : [])].flatMap((f) => [
    f,
    ...(f.externalData ?? []),
  ]);
}

export interface FetchedFile {
  ref: FileRef;
  /** The file, or the safetensors files it was split into on the way (past one buffer: see download). */
  files: Uint8Array[];
  fromCache: boolean;
}

/** A file that is never split (an ONNX graph, a small weights file) as its one buffer. */
export function wholeFile(f: FetchedFile): Uint8Array {
  if (f.files.length !== 1)
    throw new ModelError(`${f.ref.path} arrived in ${f.files.length} parts, where one was needed.`);
  return f.files[0]!;
}

/** A checkpoint weights file as the safetensors files a component reads: itself, or its parts. */
export function weightFiles(f: FetchedFile): { path: string; bytes: Uint8Array }[] {
  return f.files.length === 1
    ? [{ path: f.ref.path, bytes: f.files[0]! }]
    : f.files.map((bytes, i) => ({ path: `${f.ref.path}#part-${i}`, bytes }));
}

export interface ModelFiles {
  /** A file the model needs, with download progress. */
  get(ref: FileRef): Promise<FetchedFile>;
  /** A small optional file: null when the server has none. */
  getOptional(ref: FileRef): Promise<Uint8Array | null>;
  /** The first of a checkpoint part's weight candidates that exists. */
  getFirst(refs: FileRef[]): Promise<FetchedFile>;
  /** The URLs read (for the cache record) and the bytes of model files read so far. */
  readonly fetched: readonly string[];
  bytes(): number;
}

/** A JSON file's content, or null for an absent one; a file that is not JSON says so. */
export function parseJson<T>(bytes: Uint8Array | null, name: string): T | null {
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new ModelError(`${name} is not valid JSON.`);
  }
}

/** What the file reader of one load needs of its plan: the files it will fetch, how, from where. */
export type FilesPlan = Pick<LoadPlan, 'cache' | 'hosts' | 'redirectHosts' | 'stallMs' | 'approxBytes'> & {
  planned: FileRef[];
};

export function modelFiles(plan: FilesPlan, signal: AbortSignal, onProgress: (progress: Progress) => void): ModelFiles {
  // Overall progress across files: bytes done in finished files plus the current one.
  const known = new Map<string, number>();
  let finished = 0;
  const planned = plan.planned;
  const overallTotal = (): number | null => {
    // Sizes the server told, plus the planned files not started yet.
    const sum =
      [...known.values()].reduce((s, n) => s + n, 0) +
      planned.filter((f) => !known.has(f.url)).reduce((s, f) => s + (f.size ?? 0), 0);
    return sum > 0 ? sum : (plan.approxBytes ?? null);
  };
  const fetched: string[] = [];
  const hosts = {
    ...(plan.hosts ? { hosts: plan.hosts } : {}),
    ...(plan.redirectHosts ? { redirectHosts: plan.redirectHosts } : {}),
  };
  const get = async (ref: FileRef): Promise<FetchedFile> => {
    const got = await loadFile(ref, {
      signal,
      cache: plan.cache,
      ...hosts,
      ...(plan.stallMs ? { stallMs: plan.stallMs } : {}),
      onBytes: (loaded, total) => {
        if (total !== null) known.set(ref.url, total);
        onProgress({
          kind: 'download',
          file: ref.path,
          loaded,
          total,
          overall: { loaded: finished + loaded, total: overallTotal() },
        });
      },
    });
    // Progress counts bytes over the network: a file converted on the way arrived at its full size.
    const size = got.files.reduce((n, f) => n + f.length, 0);
    finished += ref.convert && !got.fromCache ? (ref.size ?? size) : size;
    const key = cacheKey(ref);
    fetched.push(key, ...(got.files.length > 1 ? got.files.map((_, i) => partKey(key, i)) : []));
    return { ref, ...got };
  };
  const rememberMissing = async (ref: FileRef): Promise<void> => {
    if (!plan.cache) return;
    await caches
      .open(MODEL_CACHE)
      .then((c) => c.put(ref.url, new Response(new Uint8Array(0), { headers: { [MISSING]: '1' } })));
    fetched.push(ref.url);
  };
  const getOptional = async (ref: FileRef): Promise<Uint8Array | null> => {
    if (plan.cache) {
      const hit = await cachedFile(ref.url);
      if (hit) {
        fetched.push(ref.url);
        return hit.headers.get(MISSING) ? null : new Uint8Array(await hit.arrayBuffer());
      }
    }
    try {
      const got = await loadFile(ref, { signal, cache: plan.cache, ...hosts, onBytes: () => undefined });
      fetched.push(ref.url);
      return wholeFile({ ref, ...got });
    } catch (error) {
      if (isNotFound(error)) {
        await rememberMissing(ref);
        return null;
      }
      throw error;
    }
  };
  const getFirst = async (refs: FileRef[]): Promise<FetchedFile> => {
    const absent: FileRef[] = [];
    for (const ref of refs) {
      if (ref.missing) continue;
      if (plan.cache && (await cachedFile(ref.url))?.headers.get(MISSING)) continue;
      try {
        const got = await get(ref);
        // Remembered only once another candidate is there: a load that finds none must ask again.
        for (const a of absent) await rememberMissing(a);
        return got;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        absent.push(ref);
      }
    }
    throw new ModelError(`The model has none of ${refs.map((r) => r.path).join(', ')}.`);
  };
  return { get, getOptional, getFirst, fetched, bytes: () => finished };
}
