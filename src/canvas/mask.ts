/** The one inpainting mask of the session, and who to tell when it changes. */
import { MaskModel } from './mask-model';

export const mask = new MaskModel(512, 512);

const listeners = new Set<() => void>();

export function onMaskChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function maskChanged(): void {
  for (const listener of listeners) listener();
}

/** A copy of the mask bytes for the worker (the request transfers it). */
export function maskForRequest(): { width: number; height: number; pixels: ArrayBuffer } {
  return { width: mask.width, height: mask.height, pixels: mask.data.slice().buffer };
}
