/** Pixels between the canvas (RGBA bytes) and the models (NCHW floats in [-1, 1]). */

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major RGBA, 4 bytes a pixel. */
  pixels: Uint8ClampedArray;
}

/** Decoder output [1, 3, H, W] in [-1, 1] → RGBA, as diffusers: (x/2 + 0.5) clamped, ×255, rounded. */
export function chwToRgba(data: Float32Array, width: number, height: number): RgbaImage {
  const plane = width * height;
  if (data.length < 3 * plane) throw new RangeError(`Expected ${3 * plane} values for a ${width}×${height} image.`);
  const pixels = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.min(Math.max(data[c * plane + i]! / 2 + 0.5, 0), 1);
      pixels[i * 4 + c] = Math.round(v * 255);
    }
    pixels[i * 4 + 3] = 255;
  }
  return { width, height, pixels };
}

/** RGBA → [1, 3, H, W] in [-1, 1], as diffusers' image processor does (2x − 1). */
export function rgbaToChw(image: RgbaImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (image.pixels[i * 4 + c]! / 255) * 2 - 1;
  }
  return out;
}

/** Mean and standard deviation of the RGB channels (0..255): how "blank" an image is. */
export function pixelStats(pixels: Uint8ClampedArray): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[i + c]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(sumSq / n - mean * mean, 0)) };
}
