import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** diffusers' and torch's reference numbers, copied into the repository (see tests/fixtures/README.md). */
export const GOLDENS_DIR = fileURLToPath(new URL('../fixtures/goldens/', import.meta.url));

export function readGolden<T>(name: string): T {
  return JSON.parse(readFileSync(GOLDENS_DIR + name, 'utf8')) as T;
}

/** Largest |a−b| / (|b| + floor) over the arrays: relative error with a floor for values near zero. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-3): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    worst = Math.max(worst, Math.abs(actual[i]! - e) / (Math.abs(e) + floor));
  }
  return worst;
}

/** ‖a−b‖∞ / ‖b‖∞: the relative error of a whole tensor (elementwise ratios blow up near zero). */
export function normRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
