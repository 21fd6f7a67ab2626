/** The start image and the mask, kept across reloads so painted work is not lost. */
import { done, objectStore, SESSION } from './idb';

export interface SavedMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** `lora:<name>`, `embedding:<name>`: a LoRA's or an embedding's file bytes, kept for the next visit like a model. */
export type SessionKey = 'initImage' | 'mask' | `lora:${string}` | `embedding:${string}`;

export async function saveSessionItem(key: SessionKey, value: unknown): Promise<void> {
  await done((await objectStore(SESSION, 'readwrite')).put(value, key));
}

export async function deleteSessionItem(key: SessionKey): Promise<void> {
  await done((await objectStore(SESSION, 'readwrite')).delete(key));
}

export async function loadSessionItem<T>(key: SessionKey): Promise<T | null> {
  return ((await done((await objectStore(SESSION, 'readonly')).get(key))) as T | undefined) ?? null;
}
