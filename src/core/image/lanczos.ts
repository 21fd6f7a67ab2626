/**
 * PIL's `Image.resize(size, Image.LANCZOS)` on RGBA bytes: A1111's "Lanczos" hires upscaler. As PIL,
 * a separable Lanczos-3 filter (widened by the scale when shrinking), the horizontal pass first,
 * each pass rounded back to bytes.
 */
import type { RgbaImage } from './rgba';

const SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x > -SUPPORT && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0;
}

/** Each output pixel's first source pixel and its normalised weights along one axis. */
function weights(inSize: number, outSize: number): { first: Int32Array; taps: Float64Array[] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const first = new Int32Array(outSize);
  const taps: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const k = new Float64Array(hi - lo);
    let sum = 0;
    for (let j = 0; j < k.length; j++) {
      k[j] = lanczos((j + lo - centre + 0.5) / filterScale);
      sum += k[j]!;
    }
    if (sum !== 0) for (let j = 0; j < k.length; j++) k[j] = k[j]! / sum;
    first[i] = lo;
    taps.push(k);
  }
  return { first, taps };
}

export function resizeLanczos(image: RgbaImage, width: number, height: number): RgbaImage {
  const { width: w, height: h, pixels } = image;
  const cols = weights(w, width);
  const wide = new Uint8ClampedArray(width * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const k = cols.taps[x]!;
      const base = (y * w + cols.first[x]!) * 4;
      for (let c = 0; c < 4; c++) {
        let v = 0;
        for (let j = 0; j < k.length; j++) v += pixels[base + j * 4 + c]! * k[j]!;
        wide[(y * width + x) * 4 + c] = Math.round(v);
      }
    }
  }
  const rows = weights(h, height);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const k = rows.taps[y]!;
    const base = rows.first[y]! * width * 4;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let v = 0;
        for (let j = 0; j < k.length; j++) v += wide[base + j * width * 4 + x * 4 + c]! * k[j]!;
        out[(y * width + x) * 4 + c] = Math.round(v);
      }
    }
  }
  return { width, height, pixels: out };
}
