/** The compare grid's images, by cell index; each cell's canvas attaches and is drawn on arrival. */
import { pictureOf, surfaces } from './surfaces';

export function registerCellCanvas(index: number, element: HTMLCanvasElement | null): void {
  surfaces.attach(`cell:${index}`, element);
}

export function clearCells(): void {
  surfaces.clear('cell:');
}

export function setCell(index: number, pixels: ArrayBuffer, width: number, height: number): void {
  surfaces.set(`cell:${index}`, pictureOf(pixels, width, height));
}

export function cellImage(index: number): ImageData | null {
  return surfaces.get(`cell:${index}`);
}

/** The whole grid as one picture, each cell under a label, for export. */
export function gridImage(labels: string[], columns: number): ImageData | null {
  const cells = labels.map((_, i) => surfaces.get(`cell:${i}`) ?? undefined);
  const first = cells.find((c): c is ImageData => c !== undefined);
  if (!first) return null;
  const w = first.width;
  const h = first.height;
  const labelHeight = Math.max(20, Math.round(w / 16));
  const gap = 8;
  const rows = Math.ceil(labels.length / columns);
  const canvas = new OffscreenCanvas(columns * w + (columns + 1) * gap, rows * (h + labelHeight) + (rows + 1) * gap);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#111111';
  ctx.font = `${Math.round(labelHeight * 0.7)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  labels.forEach((label, i) => {
    const x = gap + (i % columns) * (w + gap);
    const y = gap + Math.floor(i / columns) * (h + labelHeight + gap);
    ctx.fillText(label, x + 4, y + labelHeight / 2, w - 8);
    const cell = cells[i];
    if (cell) ctx.putImageData(cell, x, y + labelHeight);
  });
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
