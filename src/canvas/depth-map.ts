/**
 * The depth map depth2img conditions on: its float values (sent to the worker) and a grey picture
 * (shown on the depth-map canvas), kept outside the store like every other pixel buffer.
 */
import { planeToRgba, rgbaLuma, type Plane } from '../core/image-ops';
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
  const plane = rgbaLuma({ width: image.width, height: image.height, pixels: image.data });
  return { values: plane.data, pixels: planeToRgba(plane).pixels };
}
