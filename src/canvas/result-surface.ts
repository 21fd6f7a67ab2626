/**
 * Owns the pixels of the latest result, outside React and outside the store: the worker's buffer
 * arrives transferred, becomes ImageData once, and is drawn straight onto the registered canvas.
 */
let canvas: HTMLCanvasElement | null = null;
let current: ImageData | null = null;

function draw(): void {
  if (!canvas || !current) return;
  canvas.width = current.width;
  canvas.height = current.height;
  canvas.getContext('2d')?.putImageData(current, 0, 0);
}

export function registerResultCanvas(element: HTMLCanvasElement | null): void {
  canvas = element;
  draw();
}

export function showResult(pixels: ArrayBuffer, width: number, height: number): void {
  current = new ImageData(new Uint8ClampedArray(pixels), width, height);
  draw();
}

export function hasResult(): boolean {
  return current !== null;
}

/** The result as a PNG file. */
export function resultPng(): Promise<Blob | null> {
  return new Promise((resolve) => {
    if (!canvas || !current) resolve(null);
    else canvas.toBlob((blob) => resolve(blob), 'image/png');
  });
}

/** The latest result's pixels (for "use the last result" as a start image). */
export function currentResult(): ImageData | null {
  return current;
}
