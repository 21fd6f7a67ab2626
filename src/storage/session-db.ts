/** The start image and the mask, kept across reloads so painted work is not lost. */
import { done, objectStore, SESSION } from './idb';

export interface SavedMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export async function saveSessionItem(key: 'initImage' | 'mask', value: unknown): Promise<void> {
  await done((await objectStore(SESSION, 'readwrite')).put(value, key));
}

export async function loadSessionItem<T>(key: 'initImage' | 'mask'): Promise<T | null> {
  return ((await done((await objectStore(SESSION, 'readonly')).get(key))) as T | undefined) ?? null;
}
