/**
 * OpenCV's cv2.Canny(picture, low, high) with its defaults (3×3 Sobel, L1 gradient), step by step
 * as OpenCV 4 computes it, so the edges a ControlNet sees are the ones diffusers' examples feed it:
 * 1. Sobel dx, dy per channel in integers, borders replicated;
 * 2. |dx| + |dy| per channel, and per pixel the channel with the largest (the first on ties);
 * 3. non-maximum suppression along the gradient's direction, in 45° sectors measured with OpenCV's
 *    fixed-point tan(22.5°) (ties broken as OpenCV breaks them), zero magnitude outside the picture;
 * 4. hysteresis: pixels above `high` are edges, and so is every pixel above `low` 8-connected to one.
 */
import type { RgbaImage } from './rgba';

/** OpenCV's CANNY_SHIFT and tan(22.5°) = √2 − 1 in that fixed point (13573). */
const SHIFT = 15;
const TG22 = Math.round((Math.SQRT2 - 1) * (1 << SHIFT));

/** Edges of an RGB(A) picture: one byte per pixel, 255 on an edge, 0 elsewhere. */
export function canny(image: RgbaImage, low: number, high: number): Uint8Array {
  const { width: w, height: h, pixels } = image;
  // OpenCV floors the thresholds and swaps them when low > high.
  let lo = Math.floor(low);
  let hi = Math.floor(high);
  if (lo > hi) [lo, hi] = [hi, lo];
  const n = w * h;
  const dx = new Int32Array(n);
  const dy = new Int32Array(n);
  const mag = new Int32Array(n).fill(-1);

  // 1–2. Sobel per channel, the strongest channel kept.
  const at = (x: number, y: number, c: number) =>
    pixels[4 * (Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) + c]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      for (let c = 0; c < 3; c++) {
        const gx =
          at(x + 1, y - 1, c) -
          at(x - 1, y - 1, c) +
          2 * (at(x + 1, y, c) - at(x - 1, y, c)) +
          at(x + 1, y + 1, c) -
          at(x - 1, y + 1, c);
        const gy =
          at(x - 1, y + 1, c) -
          at(x - 1, y - 1, c) +
          2 * (at(x, y + 1, c) - at(x, y - 1, c)) +
          at(x + 1, y + 1, c) -
          at(x + 1, y - 1, c);
        const m = Math.abs(gx) + Math.abs(gy);
        if (m > mag[i]!) {
          mag[i] = m;
          dx[i] = gx;
          dy[i] = gy;
        }
      }
    }
  }

  // 3. Non-maximum suppression: 2 = edge, 0 = candidate (above low), 1 = not an edge.
  const magAt = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : mag[y * w + x]!);
  const map = new Uint8Array(n).fill(1);
  const stack: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const m = mag[i]!;
      if (m <= lo) continue;
      const xs = dx[i]!;
      const ys = dy[i]!;
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << SHIFT);
      const tg22x = ax * TG22;
      let peak: boolean;
      if (ay < tg22x) {
        peak = m > magAt(x - 1, y) && m >= magAt(x + 1, y);
      } else if (ay > tg22x + ax * (1 << (SHIFT + 1))) {
        peak = m > magAt(x, y - 1) && m >= magAt(x, y + 1);
      } else {
        const s = xs < 0 !== ys < 0 ? -1 : 1;
        peak = m > magAt(x - s, y - 1) && m > magAt(x + s, y + 1);
      }
      if (!peak) continue;
      if (m > hi) {
        map[i] = 2;
        stack.push(i);
      } else {
        map[i] = 0;
      }
    }
  }

  // 4. Hysteresis from every strong pixel through candidates, 8-connected.
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w;
    const y = (i - x) / w;
    for (let oy = -1; oy <= 1; oy++) {
      for (let ox = -1; ox <= 1; ox++) {
        const nx = x + ox;
        const ny = y + oy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const j = ny * w + nx;
        if (map[j] === 0) {
          map[j] = 2;
          stack.push(j);
        }
      }
    }
  }
  const edges = new Uint8Array(n);
  for (let i = 0; i < n; i++) edges[i] = map[i] === 2 ? 255 : 0;
  return edges;
}

/** Edges as the control picture a ControlNet takes: white on black, the same in all three channels. */
export function cannyPicture(image: RgbaImage, low: number, high: number): RgbaImage {
  const edges = canny(image, low, high);
  const pixels = new Uint8ClampedArray(edges.length * 4);
  for (let i = 0; i < edges.length; i++) {
    pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = edges[i]!;
    pixels[4 * i + 3] = 255;
  }
  return { width: image.width, height: image.height, pixels };
}
