/**
 * The gallery in IndexedDB: every result as a PNG (with its parameters in a tEXt chunk) and its
 * parameters as fields, so the list renders without decoding images and survives reloads.
 */
import type { ImageParameters } from '../core/parameters-text';

export interface GalleryEntry {
  id: number;
  createdAt: number;
  params: ImageParameters;
  width: number;
  height: number;
}

interface StoredEntry extends Omit<GalleryEntry, 'id'> {
  id?: number;
  png: Blob;
}

const DB_NAME = 'latent-studio';
const STORE = 'gallery';

let opening: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened.'));
    request.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this app.'));
  });
  opening.catch(() => {
    opening = null;
  });
  return opening;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed.'));
  });
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return (await open()).transaction(STORE, mode).objectStore(STORE);
}

export async function addEntry(entry: Omit<StoredEntry, 'id'>): Promise<GalleryEntry> {
  const id = (await done((await store('readwrite')).add(entry))) as number;
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
  await done((await store('readwrite')).delete(id));
}
