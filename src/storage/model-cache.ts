/**
 * Downloaded model files in Cache Storage, one entry per file URL, written only when a file is
 * complete and verified. A small JSON record per model (files, bytes, last use) lets the cache
 * manager list and delete whole models. Used by the worker (downloads) and the page (manager).
 */
export const MODEL_CACHE = 'latent-studio-models-v1';

export interface CachedModelRecord {
  modelId: string;
  name: string;
  /** File URLs that belong to this model. */
  files: string[];
  bytes: number;
  lastUsed: number;
}

/** Records live under a path of this app's own origin that is never fetched. */
function recordUrl(modelId: string): string {
  return new URL(`/__model-cache__/${encodeURIComponent(modelId)}.json`, self.location.origin).href;
}

function isRecordUrl(url: string): boolean {
  return new URL(url).pathname.startsWith('/__model-cache__/');
}

export function cacheAvailable(): boolean {
  return typeof caches !== 'undefined';
}

export async function cachedFile(url: string): Promise<Response | null> {
  if (!cacheAvailable()) return null;
  const cache = await caches.open(MODEL_CACHE);
  return (await cache.match(url)) ?? null;
}

export async function putFile(url: string, bytes: Uint8Array): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(
    url,
    new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
    }),
  );
}

/** A file kept in parts (a safetensors file split on the way: see SafetensorsRewriter): part i's key. */
export const partKey = (url: string, index: number): string => `${url}#part-${index}`;
/** On the entry under the file's own key: how many parts it was kept in (its body is empty). */
const PARTS = 'x-latent-studio-parts';

/**
 * Keeps a file's parts, each under its own key, then the marker that says how many: a set cut
 * short (storage full) has no marker and is never read as the file.
 */
export async function putParts(url: string, parts: Uint8Array[]): Promise<void> {
  for (const [i, bytes] of parts.entries()) await putFile(partKey(url, i), bytes);
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(url, new Response(new Uint8Array(0), { headers: { [PARTS]: String(parts.length) } }));
}

/** A cached file's bytes, as the parts it was kept in (one for a file kept whole), or null. */
export async function cachedParts(url: string): Promise<Uint8Array[] | null> {
  const hit = await cachedFile(url);
  if (!hit) return null;
  const count = hit.headers.get(PARTS);
  if (count === null) return [new Uint8Array(await hit.arrayBuffer())];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < Number(count); i++) {
    const part = await cachedFile(partKey(url, i));
    if (!part) return null;
    parts.push(new Uint8Array(await part.arrayBuffer()));
  }
  return parts;
}

export async function deleteFile(url: string): Promise<void> {
  if (!cacheAvailable()) return;
  const cache = await caches.open(MODEL_CACHE);
  const count = (await cache.match(url))?.headers.get(PARTS);
  for (let i = 0; i < Number(count ?? 0); i++) await cache.delete(partKey(url, i));
  await cache.delete(url);
}

export async function writeRecord(record: CachedModelRecord): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(
    recordUrl(record.modelId),
    new Response(JSON.stringify(record), { headers: { 'content-type': 'application/json' } }),
  );
}

export async function listRecords(): Promise<CachedModelRecord[]> {
  if (!cacheAvailable()) return [];
  const cache = await caches.open(MODEL_CACHE);
  const records: CachedModelRecord[] = [];
  for (const request of await cache.keys()) {
    if (!isRecordUrl(request.url)) continue;
    const response = await cache.match(request);
    if (response) records.push((await response.json()) as CachedModelRecord);
  }
  return records.sort((a, b) => b.lastUsed - a.lastUsed);
}

/** Deletes a model's files and its record; files another cached model also uses are kept. */
export async function deleteModel(modelId: string): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  const records = await listRecords();
  const keep = new Set(records.filter((r) => r.modelId !== modelId).flatMap((r) => r.files));
  const record = records.find((r) => r.modelId === modelId);
  for (const url of record?.files ?? []) if (!keep.has(url)) await cache.delete(url);
  await cache.delete(recordUrl(modelId));
}

export async function clearAll(): Promise<void> {
  if (cacheAvailable()) await caches.delete(MODEL_CACHE);
}

export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  if (!navigator.storage?.estimate) return null;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return { usage, quota };
}
