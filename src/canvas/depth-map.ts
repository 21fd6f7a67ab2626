/**
 * The depth map depth2img conditions on: its float values (sent to the worker) and a grey picture
 * (shown on the depth-map canvas), kept outside the store like every other pixel buffer.
 */
import type { Plane } from '../core/image-ops';
import { paintCanvas } from './paint';

let plane: Plane | null = null;
let picture: ImageData | null = null;
let canvas: HTMLCanvasElement | null = null;

function draw(): void {
  paintCanvas(canvas, picture);
}

export function registerDepthCanvas(element: HTMLCanvasElement | null): void {
  canvas = element;
  draw();
}

export function setDepth(values: Float32Array, pixels: Uint8ClampedArray, width: number, height: number): void {
  plane = { width, height, data: values };
  picture = new ImageData(new Uint8ClampedArray(pixels), width, height);
  draw();
}

export function clearDepth(): void {
  plane = null;
  picture = null;
  draw();
}

/** A copy for the worker (the request transfers it), or null to let the worker estimate one. */
export function depthForRequest(): { width: number; height: number; data: ArrayBuffer } | null {
  if (!plane) return null;
  return { width: plane.width, height: plane.height, data: plane.data.slice().buffer };
}

/** A depth map from a picture's brightness (white = near, as Depth Anything's output displays). */
export function depthFromImageData(image: ImageData): { values: Float32Array; pixels: Uint8ClampedArray } {
  const n = image.width * image.height;
  const values = new Float32Array(n);
  const pixels = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const l = 0.299 * image.data[i * 4]! + 0.587 * image.data[i * 4 + 1]! + 0.114 * image.data[i * 4 + 2]!;
    values[i] = l / 255;
    pixels[i * 4] = pixels[i * 4 + 1] = pixels[i * 4 + 2] = Math.round(l);
    pixels[i * 4 + 3] = 255;
  }
  return { values, pixels };
}
