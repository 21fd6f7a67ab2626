/**
 * torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False, antialias=False) on
 * [1, C, h, w]: A1111's "Latent" hires upscaler resizes the first pass's latents with it.
 */
import { tensor, type Tensor } from './tensor';

/** For each output index along one axis: the two source indices and the second one's weight. */
function axis(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; t: Float32Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    // Pixel centres line up (align_corners=False); torch clamps a negative source position to 0.
    const src = Math.max((i + 0.5) * scale - 0.5, 0);
    const a = Math.min(Math.floor(src), inSize - 1);
    lo[i] = a;
    hi[i] = Math.min(a + 1, inSize - 1);
    t[i] = src - a;
  }
  return { lo, hi, t };
}

export function interpolateBilinear(x: Tensor, height: number, width: number): Tensor {
  const [batch, channels, h, w] = x.dims as [number, number, number, number];
  const rows = axis(h, height);
  const cols = axis(w, width);
  const out = new Float32Array(batch * channels * height * width);
  for (let c = 0; c < batch * channels; c++) {
    const src = c * h * w;
    const dst = c * height * width;
    for (let i = 0; i < height; i++) {
      const r0 = src + rows.lo[i]! * w;
      const r1 = src + rows.hi[i]! * w;
      const ty = rows.t[i]!;
      for (let j = 0; j < width; j++) {
        const a = cols.lo[j]!;
        const b = cols.hi[j]!;
        const tx = cols.t[j]!;
        const top = x.data[r0 + a]! * (1 - tx) + x.data[r0 + b]! * tx;
        const bottom = x.data[r1 + a]! * (1 - tx) + x.data[r1 + b]! * tx;
        out[dst + i * width + j] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return tensor(out, [batch, channels, height, width]);
}
