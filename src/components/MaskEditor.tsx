import { useEffect, useState } from 'react';
import { mask, maskChanged, onMaskChange } from '../canvas/mask';
import type { MaskTool, Rect } from '../canvas/mask-model';
import { StrokeCanvas } from './StrokeCanvas';
import { FileButton } from './FileButton';
import { useStore } from '../store';
import { useActions } from './actions';

const TOOLS: readonly [MaskTool, string, string][] = [
  ['brush', 'Brush', 'Brush: mark for repainting'],
  ['eraser', 'Eraser', 'Eraser: keep as is'],
];

/** Repaint areas show in this colour; the canvas's CSS opacity is the overlay opacity setting. */
const TINT = [255, 70, 120] as const;

function paint(canvas: HTMLCanvasElement, rect: Rect | null): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const r = rect ?? { x: 0, y: 0, width: mask.width, height: mask.height };
  if (r.width <= 0 || r.height <= 0) return;
  const image = ctx.createImageData(r.width, r.height);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const v = mask.data[(r.y + y) * mask.width + r.x + x]!;
      const o = (y * r.width + x) * 4;
      image.data[o] = TINT[0];
      image.data[o + 1] = TINT[1];
      image.data[o + 2] = TINT[2];
      image.data[o + 3] = v;
    }
  }
  ctx.putImageData(image, r.x, r.y);
}

/** Undo/redo/clear/invert act on the mask as a whole, then tell everyone it changed. */
function act(action: () => unknown): void {
  action();
  maskChanged();
}

export function maskUndo(): void {
  act(() => mask.undo());
}
export function maskRedo(): void {
  act(() => mask.redo());
}

/** The mask painting layer over the start image (see StrokeCanvas), tinted at the overlay opacity. */
export function MaskCanvas({ width, height }: { width: number; height: number }) {
  const opacity = useStore((s) => s.maskOpacity);
  const saved = useStore((s) => s.maskSaved);
  // The mask follows the picture's size before its canvas draws it.
  mask.resize(width, height);
  return (
    <StrokeCanvas
      model={mask}
      paint={paint}
      onChange={maskChanged}
      subscribe={onMaskChange}
      testId="mask-canvas"
      data={{ 'data-saved': saved }}
      className="mask-canvas"
      label="Mask: paint the parts to repaint"
      style={{ opacity }}
    />
  );
}

function useMaskVersion(): number {
  const [version, setVersion] = useState(mask.version);
  useEffect(() => onMaskChange(() => setVersion(mask.version)), []);
  return version;
}

export function MaskToolbar() {
  const {
    images: { uploadMask },
  } = useActions();
  const tool = useStore((s) => s.maskTool);
  const brushSize = useStore((s) => s.brushSize);
  const opacity = useStore((s) => s.maskOpacity);
  const pasteBack = useStore((s) => s.pasteBack);
  const setSetting = useStore((s) => s.setSetting);
  useMaskVersion();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      // Text fields keep their own undo.
      if (
        target &&
        (target.tagName === 'TEXTAREA' || (target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'text'))
      )
        return;
      if (!(e.ctrlKey || e.metaKey)) return;
      const key = e.key.toLowerCase();
      if (key === 'z' && !e.shiftKey) {
        e.preventDefault();
        maskUndo();
      } else if ((key === 'z' && e.shiftKey) || key === 'y') {
        e.preventDefault();
        maskRedo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="mask-toolbar" role="toolbar" aria-label="Mask tools">
      <div className="segmented">
        {TOOLS.map(([name, label, title]) => (
          <button
            key={name}
            type="button"
            data-testid={`tool-${name}`}
            aria-pressed={tool === name}
            onClick={() => setSetting('maskTool', name)}
            title={title}
          >
            {label}
          </button>
        ))}
      </div>
      <label className="inline">
        <span>Size {brushSize}</span>
        <input
          data-testid="brush-size"
          type="range"
          min={1}
          max={128}
          value={brushSize}
          onChange={(e) => setSetting('brushSize', Number(e.target.value))}
        />
      </label>
      <label className="inline">
        <span>Overlay</span>
        <input
          data-testid="mask-opacity"
          type="range"
          min={0.1}
          max={1}
          step={0.05}
          value={opacity}
          onChange={(e) => setSetting('maskOpacity', Number(e.target.value))}
        />
      </label>
      <button
        type="button"
        data-testid="mask-undo"
        disabled={!mask.canUndo}
        onClick={maskUndo}
        title="Undo stroke (Ctrl+Z)"
      >
        Undo
      </button>
      <button
        type="button"
        data-testid="mask-redo"
        disabled={!mask.canRedo}
        onClick={maskRedo}
        title="Redo (Ctrl+Shift+Z)"
      >
        Redo
      </button>
      <button type="button" data-testid="mask-clear" onClick={() => act(() => mask.clear())}>
        Clear
      </button>
      <button type="button" data-testid="mask-invert" onClick={() => act(() => mask.invert())}>
        Invert
      </button>
      <FileButton testId="mask-upload" label="Upload mask…" onFile={(file) => void uploadMask(file)} />
      <label className="inline">
        <input
          data-testid="paste-back"
          type="checkbox"
          checked={pasteBack}
          onChange={(e) => setSetting('pasteBack', e.target.checked)}
        />
        <span>Keep original outside the mask</span>
      </label>
    </div>
  );
}
