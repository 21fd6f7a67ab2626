/**
 * The inpainting mask as data: one byte per image pixel (255 = repaint), whatever size the canvas
 * is displayed at. Strokes are stamped discs spaced a fraction of the radius apart, so a fast
 * pointer still draws a continuous line. One undo entry per stroke, as excalidraw does. No DOM.
 */

export type MaskTool = 'brush' | 'eraser';

export interface StrokePoint {
  /** Image pixels, not display pixels. */
  x: number;
  y: number;
  /** 0..1; pens report it, mice give a constant. */
  pressure: number;
}

/** A dirty rectangle, in image pixels, for partial redraws. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const MAX_HISTORY = 40;

export class MaskModel {
  data: Uint8Array;
  private undoStack: Uint8Array[] = [];
  private redoStack: Uint8Array[] = [];
  private stroke: { tool: MaskTool; radius: number; last: StrokePoint } | null = null;
  /** Bumped on every change, so views know to redraw and savers to save. */
  version = 0;

  constructor(
    public width: number,
    public height: number,
  ) {
    this.data = new Uint8Array(width * height);
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** True when some pixel is marked for repainting. */
  get isEmpty(): boolean {
    return !this.data.some((v) => v >= 128);
  }

  private checkpoint(): void {
    this.undoStack.push(this.data.slice());
    if (this.undoStack.length > MAX_HISTORY) this.undoStack.shift();
    this.redoStack = [];
  }

  beginStroke(tool: MaskTool, radius: number, point: StrokePoint): Rect {
    this.checkpoint();
    this.stroke = { tool, radius, last: point };
    return this.stamp(point, tool, radius);
  }

  /** Extends the stroke to `point` with discs every quarter radius, interpolating pressure. */
  extendStroke(point: StrokePoint): Rect | null {
    if (!this.stroke) return null;
    const { tool, radius, last } = this.stroke;
    const dx = point.x - last.x;
    const dy = point.y - last.y;
    const distance = Math.hypot(dx, dy);
    const spacing = Math.max(0.5, (radius * Math.min(last.pressure, point.pressure)) / 4);
    const count = Math.max(1, Math.ceil(distance / spacing));
    let dirty: Rect | null = null;
    for (let i = 1; i <= count; i++) {
      const f = i / count;
      const p = {
        x: last.x + dx * f,
        y: last.y + dy * f,
        pressure: last.pressure + (point.pressure - last.pressure) * f,
      };
      dirty = unionRect(dirty, this.stamp(p, tool, radius));
    }
    this.stroke.last = point;
    return dirty;
  }

  endStroke(): void {
    this.stroke = null;
  }

  get drawing(): boolean {
    return this.stroke !== null;
  }

  private stamp(p: StrokePoint, tool: MaskTool, radius: number): Rect {
    const r = Math.max(0.5, radius * Math.min(Math.max(p.pressure, 0.05), 1));
    const x0 = Math.max(0, Math.floor(p.x - r));
    const x1 = Math.min(this.width - 1, Math.ceil(p.x + r));
    const y0 = Math.max(0, Math.floor(p.y - r));
    const y1 = Math.min(this.height - 1, Math.ceil(p.y + r));
    const value = tool === 'brush' ? 255 : 0;
    const r2 = r * r;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Pixel centres inside the disc.
        const cx = x + 0.5 - p.x;
        const cy = y + 0.5 - p.y;
        if (cx * cx + cy * cy <= r2) this.data[y * this.width + x] = value;
      }
    }
    this.version++;
    return { x: x0, y: y0, width: Math.max(0, x1 - x0 + 1), height: Math.max(0, y1 - y0 + 1) };
  }

  undo(): boolean {
    const previous = this.undoStack.pop();
    if (!previous) return false;
    this.redoStack.push(this.data);
    this.data = previous;
    this.version++;
    return true;
  }

  redo(): boolean {
    const next = this.redoStack.pop();
    if (!next) return false;
    this.undoStack.push(this.data);
    this.data = next;
    this.version++;
    return true;
  }

  clear(): void {
    if (this.isEmpty) return;
    this.checkpoint();
    this.data = new Uint8Array(this.width * this.height);
    this.version++;
  }

  invert(): void {
    this.checkpoint();
    this.data = this.data.map((v) => 255 - v);
    this.version++;
  }

  /** Replaces the mask with one from a picture's brightness (white = repaint), as one undo step. */
  load(bytes: Uint8Array, width: number, height: number): void {
    this.checkpoint();
    this.data =
      width === this.width && height === this.height
        ? bytes
        : resizeBytes(bytes, width, height, this.width, this.height);
    this.version++;
  }

  /** Puts back a saved mask as it was (after a reload), with no history. */
  restore(data: Uint8Array, width: number, height: number): void {
    if (data.length !== width * height) return;
    this.data = data;
    this.width = width;
    this.height = height;
    this.undoStack = [];
    this.redoStack = [];
    this.version++;
  }

  /** Follows a change of output size: the mask is rescaled (nearest), history is dropped. */
  resize(width: number, height: number): void {
    if (width === this.width && height === this.height) return;
    this.data = resizeBytes(this.data, this.width, this.height, width, height);
    this.width = width;
    this.height = height;
    this.undoStack = [];
    this.redoStack = [];
    this.version++;
  }
}

/** The smallest rectangle holding both (either may be absent). */
export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

function resizeBytes(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor((y * sh) / dh));
    for (let x = 0; x < dw; x++) out[y * dw + x] = src[sy * sw + Math.min(sw - 1, Math.floor((x * sw) / dw))]!;
  }
  return out;
}
