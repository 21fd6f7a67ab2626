/**
 * The depth map depth2img conditions on: its float values (sent to the worker) and a grey picture
 * (the "depth" surface), kept outside the store like every other pixel buffer.
 */
import { planeToRgba, rgbaLuma, type Plane } from '../core/image/planes';
import { surfaces } from './surfaces';

/** The numbers behind the picture: what the worker conditions on. */
let plane: Plane | null = null;

export function registerDepthCanvas(element: HTMLCanvasElement | null): void {
  surfaces.attach('depth', element);
}

export function setDepth(values: Float32Array, pixels: Uint8ClampedArray, width: number, height: number): void {
  plane = { width, height, data: values };
  surfaces.set('depth', new ImageData(new Uint8ClampedArray(pixels), width, height));
}

export function clearDepth(): void {
  plane = null;
  surfaces.set('depth', null);
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
