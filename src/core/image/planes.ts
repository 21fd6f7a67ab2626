/**
 * Resampling and mask arithmetic on planar float images, matching the torch calls diffusers makes
 * (`F.interpolate` nearest and bicubic with align_corners=False), so masks and depth maps reach
 * the UNet as they would in Python.
 */
import type { RgbaImage } from './rgba';

/** One channel, row-major. */
export interface Plane {
  width: number;
  height: number;
  data: Float32Array;
}

/** torch `interpolate(mode='nearest')`: source index floor(dst · in/out), as torch computes the scale in float32. */
export function resizeNearest(src: Plane, width: number, height: number): Plane {
  const out = new Float32Array(width * height);
  const sy = Math.fround(src.height / height);
  const sx = Math.fround(src.width / width);
  for (let y = 0; y < height; y++) {
    const iy = Math.min(Math.floor(Math.fround(y * sy)), src.height - 1);
    for (let x = 0; x < width; x++) {
      const ix = Math.min(Math.floor(Math.fround(x * sx)), src.width - 1);
      out[y * width + x] = src.data[iy * src.width + ix]!;
    }
  }
  return { width, height, data: out };
}

/** Keys' cubic convolution weights with a = −0.75, as torch's upsample_bicubic2d. */
function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.75;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** torch `interpolate(mode='bicubic', align_corners=False)`: half-pixel centres, borders clamped. */
export function resizeBicubic(src: Plane, width: number, height: number): Plane {
  const out = new Float32Array(width * height);
  const scaleY = src.height / height;
  const scaleX = src.width / width;
  const at = (x: number, y: number) =>
    src.data[Math.min(Math.max(y, 0), src.height - 1) * src.width + Math.min(Math.max(x, 0), src.width - 1)]!;
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) * scaleY - 0.5;
    const y0 = Math.floor(fy);
    const wy = cubicWeights(fy - y0);
    for (let x = 0; x < width; x++) {
      const fx = (x + 0.5) * scaleX - 0.5;
      const x0 = Math.floor(fx);
      const wx = cubicWeights(fx - x0);
      let sum = 0;
      for (let j = 0; j < 4; j++) {
        let row = 0;
        for (let i = 0; i < 4; i++) row += wx[i]! * at(x0 - 1 + i, y0 - 1 + j);
        sum += wy[j]! * row;
      }
      out[y * width + x] = sum;
    }
  }
  return { width, height, data: out };
}

/** diffusers' mask binarization: < 0.5 → 0, ≥ 0.5 → 1. */
export function binarize(plane: Plane): Plane {
  return { ...plane, data: plane.data.map((v) => (v < 0.5 ? 0 : 1)) };
}

function extent(data: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Rescale to [−1, 1] by the plane's own min and max (diffusers' depth normalisation). A flat map becomes 0. */
export function normalizeToUnitRange(plane: Plane): Plane {
  const { min, max } = extent(plane.data);
  const range = max - min;
  return { ...plane, data: plane.data.map((v) => (range > 0 ? (2 * (v - min)) / range - 1 : 0)) };
}

/** Bytes 0..255 of one channel (a mask) → floats 0..1. */
export function bytesToPlane(bytes: Uint8Array | Uint8ClampedArray, width: number, height: number): Plane {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = bytes[i]! / 255;
  return { width, height, data };
}

/** Luma of an RGBA image in 0..1 (for a depth map given as a picture). */
export function rgbaLuma(image: RgbaImage): Plane {
  const { width, height, pixels } = image;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    data[i] = (0.299 * pixels[i * 4]! + 0.587 * pixels[i * 4 + 1]! + 0.114 * pixels[i * 4 + 2]!) / 255;
  }
  return { width, height, data };
}

/** A separable box blur of radius r (edges clamped). */
function boxBlur(plane: Plane, r: number): Plane {
  const { width, height } = plane;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  const n = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += plane.data[y * width + Math.min(Math.max(x + k, 0), width - 1)]!;
      tmp[y * width + x] = s / n;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += tmp[Math.min(Math.max(y + k, 0), height - 1) * width + x]!;
      out[y * width + x] = s / n;
    }
  }
  return { width, height, data: out };
}

/**
 * A soft-edged version of a binary mask that still covers the whole mask: 1 inside, falling to 0
 * within `radius` pixels outside it. Pixels further out keep weight exactly 0.
 */
export function featherMask(mask: Plane, radius: number): Plane {
  if (radius <= 0) return binarize(mask);
  const blurred = boxBlur(binarize(mask), radius);
  return { ...blurred, data: blurred.data.map((v) => (v > 0 ? Math.min(1, 2 * v) : 0)) };
}

/** original·(1 − w) + generated·w per pixel: the original shows wherever the weight is 0. */
export function pasteBack(original: RgbaImage, generated: RgbaImage, weight: Plane): RgbaImage {
  const { width, height } = generated;
  if (original.width !== width || original.height !== height || weight.width !== width || weight.height !== height) {
    throw new RangeError('Paste-back needs the image, the result and the mask at one size.');
  }
  const pixels = new Uint8ClampedArray(generated.pixels.length);
  for (let i = 0; i < width * height; i++) {
    const w = weight.data[i]!;
    for (let c = 0; c < 3; c++) {
      const o = original.pixels[i * 4 + c]!;
      pixels[i * 4 + c] = w === 0 ? o : Math.round(o + (generated.pixels[i * 4 + c]! - o) * w);
    }
    pixels[i * 4 + 3] = 255;
  }
  return { width, height, pixels };
}

/** A plane in [lo, hi] as a grey RGBA picture, for showing a depth map. */
export function planeToRgba(plane: Plane): RgbaImage {
  const { min, max } = extent(plane.data);
  const range = max - min || 1;
  const pixels = new Uint8ClampedArray(plane.width * plane.height * 4);
  for (let i = 0; i < plane.data.length; i++) {
    const g = Math.round(((plane.data[i]! - min) / range) * 255);
    pixels[i * 4] = g;
    pixels[i * 4 + 1] = g;
    pixels[i * 4 + 2] = g;
    pixels[i * 4 + 3] = 255;
  }
  return { width: plane.width, height: plane.height, pixels };
}

/**
 * A depth plane (larger = nearer, as DPT and Depth Anything give it) as the picture a depth
 * ControlNet takes: transformers' depth-estimation pipeline's `depth` image, value × 255 / max
 * truncated to a byte (what diffusers' depth ControlNet examples feed), grey in all three channels.
 */
export function depthControlPicture(plane: Plane): RgbaImage {
  const { max } = extent(plane.data);
  const scale = max > 0 ? 255 / max : 0;
  const pixels = new Uint8ClampedArray(plane.width * plane.height * 4);
  for (let i = 0; i < plane.data.length; i++) {
    const g = Math.max(0, Math.floor(plane.data[i]! * scale));
    pixels[i * 4] = pixels[i * 4 + 1] = pixels[i * 4 + 2] = g;
    pixels[i * 4 + 3] = 255;
  }
  return { width: plane.width, height: plane.height, pixels };
}
