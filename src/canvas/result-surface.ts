/** The latest result on its surface; previews are drawn over it while a run goes on. */
import { surfaces } from './surfaces';

/** Shows a preview (null: the result again) without replacing the result. */
export function showOnCanvas(image: ImageData | null): void {
  surfaces.overlay('result', image);
}

export function registerResultCanvas(element: HTMLCanvasElement | null): void {
  surfaces.attach('result', element);
}

export function showImage(image: ImageData): void {
  surfaces.set('result', image);
}

/** No result on the surface (a picture the safety checker flagged is not drawn, and the last one goes). */
export function clearResult(): void {
  surfaces.set('result', null);
}

export function hasResult(): boolean {
  return surfaces.get('result') !== null;
}

/** The latest result's pixels (for "use the last result" as a start image). */
export function currentResult(): ImageData | null {
  return surfaces.get('result');
}
