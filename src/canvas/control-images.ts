/**
 * Each ControlNet unit's pictures, outside React and the store: the uploaded picture (decoded
 * once), the scribble drawn on the page (a MaskModel: 255 where a stroke is, shown and sent as
 * white on black), and who to tell when a scribble changes. The control picture's preview is the
 * surface `control:<key>` (surfaces.ts).
 */
import type { RgbaImage } from '../core/image/rgba';
import { decodeImageFile } from './init-image';
import { MaskModel } from './mask-model';

const pictures = new Map<number, ImageBitmap>();
const scribbles = new Map<number, MaskModel>();
const listeners = new Set<(key: number) => void>();

export async function setControlPicture(key: number, file: File): Promise<{ name: string }> {
  const bitmap = await decodeImageFile(file);
  pictures.get(key)?.close();
  pictures.set(key, bitmap);
  return { name: file.name || 'pasted picture' };
}

export function dropControlPictures(key: number): void {
  pictures.get(key)?.close();
  pictures.delete(key);
  scribbles.delete(key);
}

/** The uploaded picture at its own size (the worker resizes it to the output size with Lanczos, as diffusers). */
export function controlPicturePixels(key: number): RgbaImage | null {
  const bitmap = pictures.get(key);
  if (!bitmap) return null;
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { width: bitmap.width, height: bitmap.height, pixels: data };
}

/** The unit's scribble pad at the output size (a new size rescales what is drawn). */
export function scribbleOf(key: number, width: number, height: number): MaskModel {
  let pad = scribbles.get(key);
  if (!pad) {
    pad = new MaskModel(width, height);
    scribbles.set(key, pad);
  } else if (pad.width !== width || pad.height !== height) {
    pad.resize(width, height);
  }
  return pad;
}

export function onScribbleChange(listener: (key: number) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function scribbleChanged(key: number): void {
  for (const listener of listeners) listener(key);
}

/** A scribble as the control picture: white strokes on black (null: nothing drawn). */
export function scribblePixels(key: number): RgbaImage | null {
  const pad = scribbles.get(key);
  if (!pad || pad.isEmpty) return null;
  const pixels = new Uint8ClampedArray(pad.width * pad.height * 4);
  for (let i = 0; i < pad.data.length; i++) {
    const v = pad.data[i]!;
    pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = v;
    pixels[4 * i + 3] = 255;
  }
  return { width: pad.width, height: pad.height, pixels };
}
