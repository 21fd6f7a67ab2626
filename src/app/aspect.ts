/**
 * Aspect-ratio presets: for a model's native size (512 for SD 1.x, 768 for SD 2.x), the landscape
 * size of each ratio with about the native area, in multiples of 64 (the sizes SD fine-tunes use;
 * 512 → 576×448 for 4:3, 640×448 for 3:2, 704×384 for 16:9). The swap button makes them portrait.
 */
export const ASPECT_RATIOS = [
  [1, 1],
  [4, 3],
  [3, 2],
  [16, 9],
] as const;

export function aspectSize(native: number, [w, h]: readonly [number, number]): { width: number; height: number } {
  const side = (r: number) => Math.max(64, Math.round((native * Math.sqrt(r)) / 64) * 64);
  return { width: side(w / h), height: side(h / w) };
}
