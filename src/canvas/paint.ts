/** Sizes a canvas to a picture and draws it; an empty canvas when there is none. */
export function paintCanvas(canvas: HTMLCanvasElement | null, image: ImageData | null): void {
  if (!canvas) return;
  if (!image) {
    canvas.width = 1;
    canvas.height = 1;
    canvas.getContext('2d')?.clearRect(0, 0, 1, 1);
    return;
  }
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')?.putImageData(image, 0, 0);
}
