/** The explore view's VAE round trip: each latent channel as a grey picture, and the reconstruction. */
import { surfaces } from './surfaces';

export interface RoundTripImages {
  channels: ImageData[];
  reconstruction: ImageData;
}

/** The last round trip's pictures: its latent channels are `latent:0`, `latent:1`, … */
export function roundTripImages(): RoundTripImages | null {
  const reconstruction = surfaces.get('reconstruction');
  if (!reconstruction) return null;
  const channels: ImageData[] = [];
  for (let c = 0; ; c++) {
    const image = surfaces.get(`latent:${c}`);
    if (!image) break;
    channels.push(image);
  }
  return { channels, reconstruction };
}

/** Called when a new round trip's pictures are in (its reconstruction is set last). */
export function onRoundTripChange(listener: () => void): () => void {
  let last = surfaces.get('reconstruction');
  return surfaces.subscribe(() => {
    const now = surfaces.get('reconstruction');
    if (now === last) return;
    last = now;
    listener();
  });
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
  surfaces.clear('latent:');
  images.forEach((image, c) => surfaces.set(`latent:${c}`, image));
  surfaces.set('reconstruction', reconstruction);
}
