import { paintCanvas } from './paint';
/**
 * Owns the pixels of the latest result, outside React and outside the store: the worker's buffer
 * arrives transferred, becomes ImageData once, and is drawn straight onto the registered canvas.
 */
let canvas: HTMLCanvasElement | null = null;
let current: ImageData | null = null;

/** What the canvas shows: the result, or a preview drawn over it for a while. */
let shown: ImageData | null = null;

function draw(): void {
  const image = shown ?? current;
  if (image) paintCanvas(canvas, image);
}

/** Shows a preview (null: the result again) without replacing the result. */
export function showOnCanvas(image: ImageData | null): void {
  shown = image;
  draw();
}

export function registerResultCanvas(element: HTMLCanvasElement | null): void {
  canvas = element;
  draw();
}

export function showImage(image: ImageData): void {
  current = image;
  shown = null;
  draw();
}

export function hasResult(): boolean {
  return current !== null;
}

/** The latest result's pixels (for "use the last result" as a start image). */
export function currentResult(): ImageData | null {
  return current;
}
