/**
 * Preview images from the denoising loop (predicted clean image every k steps), kept for the
 * scrubber after the run. Drawn on the result canvas without replacing the final result.
 */
import { pictureOf, surfaces } from './surfaces';

export function clearPreviews(): void {
  surfaces.clear('preview:');
}

export function addPreview(step: number, pixels: ArrayBuffer, width: number, height: number): ImageData {
  const image = pictureOf(pixels, width, height);
  surfaces.set(`preview:${step}`, image);
  return image;
}

export function previewAt(step: number): ImageData | null {
  return surfaces.get(`preview:${step}`);
}
