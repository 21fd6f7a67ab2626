/**
 * The start image for img2img, inpaint and depth2img: the decoded picture lives here, outside
 * React and the store (which only hold its name and size); it is drawn at the output size, cropped
 * or fitted, each time a generation needs its pixels.
 */
import { ValidationError } from '../core/errors';
import type { RgbaImage } from '../core/image/rgba';

export type ResizeMode = 'crop' | 'fit';

export const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

export interface InitImageInfo {
  name: string;
  width: number;
  height: number;
  /** Bumped for every new picture, so derived data (depth maps) know when they are stale. */
  version: number;
}

let source: ImageBitmap | null = null;
let info: InitImageInfo | null = null;
const listeners = new Set<(info: InitImageInfo | null) => void>();

export function onInitImageChange(listener: (info: InitImageInfo | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function set(bitmap: ImageBitmap, name: string): InitImageInfo {
  source?.close();
  source = bitmap;
  info = { name, width: bitmap.width, height: bitmap.height, version: (info?.version ?? 0) + 1 };
  for (const listener of listeners) listener(info);
  return info;
}

export function initImageInfo(): InitImageInfo | null {
  return info;
}

function typeLabel(file: File): string {
  return file.type || (file.name.includes('.') ? `.${file.name.split('.').pop()}` : 'unknown type');
}

/** "an image/svg+xml", "a text/plain": the article a MIME type takes in a sentence. */
export function withArticle(type: string): string {
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type}`;
}

/** Decodes a PNG, JPEG or WebP file; anything else, or a file that fails to decode, is a clear error. */
export async function decodeImageFile(file: Blob & { name?: string }): Promise<ImageBitmap> {
  const name = file.name ?? 'The pasted data';
  const type = file.type;
  const byExtension = /\.(png|jpe?g|webp)$/i.test(name);
  if (type ? !(ACCEPTED_TYPES as readonly string[]).includes(type) : !byExtension) {
    throw new ValidationError(
      `"${name}" is ${type ? withArticle(type) : 'not a recognised'} file. Choose a PNG, JPEG or WebP image.`,
      'image',
    );
  }
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image', colorSpaceConversion: 'default' });
  } catch {
    throw new ValidationError(
      `"${name}" could not be decoded as ${type || 'an image'}: the file may be damaged or not really an image.`,
      'image',
    );
  }
}

export async function loadInitImage(file: File): Promise<InitImageInfo> {
  return set(await decodeImageFile(file), file.name || `pasted ${typeLabel(file)}`);
}

export async function loadInitImageFromPixels(image: ImageData, name: string): Promise<InitImageInfo> {
  return set(await createImageBitmap(image), name);
}

/** Where the picture lands in a width×height frame: cover (crop the overflow) or contain (letterbox). */
export function placement(
  srcWidth: number,
  srcHeight: number,
  width: number,
  height: number,
  mode: ResizeMode,
): { x: number; y: number; w: number; h: number } {
  const scale =
    mode === 'crop' ? Math.max(width / srcWidth, height / srcHeight) : Math.min(width / srcWidth, height / srcHeight);
  const w = srcWidth * scale;
  const h = srcHeight * scale;
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
}

/** Draws the picture into a width×height canvas context (letterbox bars mid grey, as SD sees "nothing"). */
export function drawInitImage(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  width: number,
  height: number,
  mode: ResizeMode,
): boolean {
  if (!source) return false;
  ctx.fillStyle = 'rgb(128, 128, 128)';
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const p = placement(source.width, source.height, width, height, mode);
  ctx.drawImage(source, p.x, p.y, p.w, p.h);
  return true;
}

/** The picture's pixels at the output size, or null when there is none. */
export function renderInitImage(width: number, height: number, mode: ResizeMode): RgbaImage | null {
  if (!source) return null;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx || !drawInitImage(ctx, width, height, mode)) return null;
  const data = ctx.getImageData(0, 0, width, height);
  return { width, height, pixels: data.data };
}
