/** The explore view's VAE round trip: each latent channel as a grey picture, and the reconstruction. */
export interface RoundTripImages {
  channels: ImageData[];
  reconstruction: ImageData;
}

let current: RoundTripImages | null = null;
const listeners = new Set<() => void>();

export function onRoundTripChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function roundTripImages(): RoundTripImages | null {
  return current;
}

/** Scaled latents [c, h, w] → one min–max normalised grey image per channel. */
export function setRoundTrip(
  latents: Float32Array,
  channels: number,
  width: number,
  height: number,
  reconstruction: ImageData,
): void {
  const plane = width * height;
  const images: ImageData[] = [];
  for (let c = 0; c < channels; c++) {
    const values = latents.subarray(c * plane, (c + 1) * plane);
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const range = max - min || 1;
    const image = new ImageData(width, height);
    for (let i = 0; i < plane; i++) {
      const g = Math.round(((values[i]! - min) / range) * 255);
      image.data[i * 4] = image.data[i * 4 + 1] = image.data[i * 4 + 2] = g;
      image.data[i * 4 + 3] = 255;
    }
    images.push(image);
  }
  current = { channels: images, reconstruction };
  for (const listener of listeners) listener();
}
