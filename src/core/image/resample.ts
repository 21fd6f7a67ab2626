/**
 * PIL's `Image.resize(size, filter)` on RGBA bytes, for the two filters the app needs: LANCZOS
 * (A1111's "Lanczos" hires upscaler) and BICUBIC (CLIP's image preprocessing for the safety
 * checker). As PIL: a separable filter widened by the scale when shrinking, the horizontal pass
 * first, each pass rounded back to bytes (PIL computes in fixed point, so a value may round the
 * other way: within one level, measured against PIL 12.3 in the tests).
 */
import type { RgbaImage } from './rgba';

export type ResampleFilter = 'lanczos' | 'bicubic';

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Each filter's support (in source pixels at scale 1) and kernel. */
const FILTERS: Record<ResampleFilter, { support: number; kernel: (x: number) => number }> = {
  lanczos: { support: 3, kernel: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  // Keys' cubic with a = −0.5, as PIL's BICUBIC.
  bicubic: {
    support: 2,
    kernel: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** Each output pixel's first source pixel and its normalised weights along one axis. */
function weights(inSize: number, outSize: number, filter: ResampleFilter): { first: Int32Array; taps: Float64Array[] } {
  const { support: base, kernel } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = base * filterScale;
  const first = new Int32Array(outSize);
  const taps: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const k = new Float64Array(hi - lo);
    let sum = 0;
    for (let j = 0; j < k.length; j++) {
      k[j] = kernel((j + lo - centre + 0.5) / filterScale);
      sum += k[j]!;
    }
    if (sum !== 0) for (let j = 0; j < k.length; j++) k[j] = k[j]! / sum;
    first[i] = lo;
    taps.push(k);
  }
  return { first, taps };
}

export function resizePil(image: RgbaImage, width: number, height: number, filter: ResampleFilter): RgbaImage {
  const { width: w, height: h, pixels } = image;
  const cols = weights(w, width, filter);
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
  const rows = weights(h, height, filter);
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
