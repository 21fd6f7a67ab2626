/**
 * A depth estimator for pictures of flat-coloured shapes on a plain background (the world the
 * built-in Shapes model was trained on, where depth is the shape's silhouette): near where a pixel's
 * colour is far from the background's, the background being the median colour of the border.
 */
import type { RgbaImage } from './rgba';
import type { Plane } from './planes';

/** RGB distance (0..441) at which a pixel counts fully as shape; half of it is the midpoint. */
const FULL_DISTANCE = 60;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export function silhouetteDepth(image: RgbaImage): Plane {
  const { width, height, pixels } = image;
  const border: [number[], number[], number[]] = [[], [], []];
  const take = (x: number, y: number) => {
    const i = (y * width + x) * 4;
    for (let c = 0; c < 3; c++) border[c as 0 | 1 | 2].push(pixels[i + c]!);
  };
  for (let x = 0; x < width; x++) {
    take(x, 0);
    take(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    take(0, y);
    take(width - 1, y);
  }
  const background = border.map(median);
  const data = new Float32Array(width * height);
  for (let p = 0; p < data.length; p++) {
    const i = p * 4;
    const d = Math.hypot(pixels[i]! - background[0]!, pixels[i + 1]! - background[1]!, pixels[i + 2]! - background[2]!);
    data[p] = Math.min(1, d / FULL_DISTANCE);
  }
  return { width, height, data };
}
