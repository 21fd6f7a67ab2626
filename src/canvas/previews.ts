/**
 * Preview images from the denoising loop (predicted clean image every k steps), kept for the
 * scrubber after the run. Drawn on the result canvas without replacing the final result.
 */
let images: { step: number; image: ImageData }[] = [];

export function clearPreviews(): void {
  images = [];
}

export function addPreview(step: number, pixels: ArrayBuffer, width: number, height: number): ImageData {
  const image = new ImageData(new Uint8ClampedArray(pixels), width, height);
  images.push({ step, image });
  return image;
}

export function previewAt(step: number): ImageData | null {
  return images.find((p) => p.step === step)?.image ?? null;
}
