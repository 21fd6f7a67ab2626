/**
 * Every picture the page shows lives here, outside React and outside the store: a surface is a
 * named picture and the canvas showing it. Actions put pictures in (the worker's buffers arrive
 * transferred and become ImageData once); components attach their canvases; the store keeps only
 * what the UI must know about them (preview steps, cells done, versions, numbers).
 */
import { paintCanvas } from './paint';

export type SurfaceKey =
  | 'result'
  | 'depth'
  | 'reconstruction'
  | `preview:${number}`
  | `cell:${number}`
  | `latent:${number}`
  | `control:${number}`;

class Surfaces {
  private readonly images = new Map<SurfaceKey, ImageData>();
  private readonly canvases = new Map<SurfaceKey, HTMLCanvasElement>();
  /** A picture drawn on a surface's canvas for a while without replacing it (a preview on the result). */
  private readonly overlays = new Map<SurfaceKey, ImageData>();
  private readonly listeners = new Set<() => void>();

  get(key: SurfaceKey): ImageData | null {
    return this.images.get(key) ?? null;
  }

  /** Puts a picture in (null removes it); its canvas shows it, overlays give way. */
  set(key: SurfaceKey, image: ImageData | null): void {
    if (image) this.images.set(key, image);
    else this.images.delete(key);
    this.overlays.delete(key);
    this.draw(key);
    this.changed();
  }

  /** Removes every surface whose key starts with `prefix` ("preview:", "cell:"). */
  clear(prefix: string): void {
    for (const key of [...this.images.keys()]) {
      if (key.startsWith(prefix)) {
        this.images.delete(key);
        this.overlays.delete(key);
        this.draw(key);
      }
    }
    this.changed();
  }

  /** Draws `image` on the surface's canvas over its own picture (null: its own picture again). */
  overlay(key: SurfaceKey, image: ImageData | null): void {
    if (image) this.overlays.set(key, image);
    else this.overlays.delete(key);
    this.draw(key);
  }

  /** A component's canvas for a surface (null when it unmounts); drawn at once. */
  attach(key: SurfaceKey, canvas: HTMLCanvasElement | null): void {
    if (canvas) this.canvases.set(key, canvas);
    else this.canvases.delete(key);
    this.draw(key);
  }

  /** Called after any picture changes (for views that list pictures rather than attach a canvas). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private draw(key: SurfaceKey): void {
    const canvas = this.canvases.get(key);
    if (canvas) paintCanvas(canvas, this.overlays.get(key) ?? this.images.get(key) ?? null);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export const surfaces = new Surfaces();

/** The worker's RGBA buffer as a picture, without copying it. */
export const pictureOf = (pixels: ArrayBuffer, width: number, height: number): ImageData =>
  new ImageData(new Uint8ClampedArray(pixels), width, height);
