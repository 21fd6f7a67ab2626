/**
 * The gallery in IndexedDB: every result as a PNG (with its parameters in a tEXt chunk) and its
 * parameters as fields, so the list renders without decoding images and survives reloads.
 */
import type { GenerationSettings } from '../core/generation-settings';
import { committed, done, GALLERY, objectStore } from './idb';

export interface GalleryEntry {
  id: number;
  createdAt: number;
  params: GenerationSettings;
  width: number;
  height: number;
}

interface StoredEntry extends Omit<GalleryEntry, 'id'> {
  id?: number;
  png: Blob;
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return objectStore(GALLERY, mode);
}

export async function addEntry(entry: Omit<StoredEntry, 'id'>): Promise<GalleryEntry> {
  const s = await store('readwrite');
  const finished = committed(s);
  const id = (await done(s.add(entry))) as number;
  await finished;
  return { id, createdAt: entry.createdAt, params: entry.params, width: entry.width, height: entry.height };
}

/** All entries, newest first, without their images. */
export async function listEntries(): Promise<GalleryEntry[]> {
  const all = (await done((await store('readonly')).getAll())) as StoredEntry[];
  return all
    .map(({ id, createdAt, params, width, height }) => ({ id: id!, createdAt, params, width, height }))
    .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
}

export async function entryPng(id: number): Promise<Blob | null> {
  const entry = (await done((await store('readonly')).get(id))) as StoredEntry | undefined;
  return entry?.png ?? null;
}

export async function deleteEntry(id: number): Promise<void> {
  const s = await store('readwrite');
  const finished = committed(s);
  await done(s.delete(id));
  await finished;
}
