import { useCallback, useEffect, useRef, type CSSProperties, type PointerEvent as ReactPointerEvent } from 'react';
import { unionRect, type MaskModel, type Rect, type StrokePoint } from '../canvas/mask-model';
import { useStore } from '../store';

/**
 * A canvas that paints strokes into a MaskModel with the brush settings (tool and size): pointer
 * events (mouse, pen pressure, touch) with coalesced points so fast strokes stay smooth, one undo
 * entry per stroke, the model kept at its own resolution whatever size the canvas is shown at.
 * The inpainting mask and ControlNet scribbles both draw through it.
 */
export function StrokeCanvas({
  model,
  paint,
  onChange,
  subscribe,
  testId,
  label,
  className,
  style,
  data,
}: {
  model: MaskModel;
  /** Draws the model's `rect` (null: all of it) on the canvas, sized to the model. */
  paint: (canvas: HTMLCanvasElement, rect: Rect | null) => void;
  /** After a stroke ends: the model changed. */
  onChange: () => void;
  /** Calls back when the model changes from elsewhere (undo, clear, upload), to redraw. */
  subscribe: (redraw: () => void) => () => void;
  testId: string;
  label: string;
  className: string;
  style?: CSSProperties;
  data?: Record<`data-${string}`, string | boolean>;
}) {
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const cursorRef = useRef<HTMLDivElement | null>(null);

  const redraw = useCallback(
    (rect: Rect | null = null) => {
      const canvas = canvasRef.current;
      if (!canvas) return;
      if (canvas.width !== model.width || canvas.height !== model.height) {
        canvas.width = model.width;
        canvas.height = model.height;
      }
      paint(canvas, rect);
    },
    [model, paint],
  );

  useEffect(() => {
    redraw();
    return subscribe(() => redraw());
  }, [redraw, subscribe, model.width, model.height]);

  const toImage = (e: PointerEvent | ReactPointerEvent): StrokePoint => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * model.width) / rect.width,
      y: ((e.clientY - rect.top) * model.height) / rect.height,
      // Pens report pressure; mice report 0.5 while pressed, which would halve the brush.
      pressure: e.pointerType === 'pen' ? e.pressure || 0.5 : 1,
    };
  };

  const moveCursor = (e: ReactPointerEvent) => {
    const cursor = cursorRef.current;
    const canvas = canvasRef.current;
    if (!cursor || !canvas) return;
    const rect = canvas.getBoundingClientRect();
    const { brushSize } = useStore.getState();
    const size = (2 * brushSize * rect.width) / model.width;
    cursor.style.width = cursor.style.height = `${size}px`;
    cursor.style.transform = `translate(${e.clientX - rect.left - size / 2}px, ${e.clientY - rect.top - size / 2}px)`;
    cursor.style.display = e.pointerType === 'touch' ? 'none' : 'block';
  };

  return (
    <div className="mask-layer">
      <canvas
        ref={canvasRef}
        data-testid={testId}
        {...data}
        className={className}
        aria-label={label}
        style={style}
        onPointerDown={(e) => {
          if (e.pointerType === 'mouse' && e.button !== 0) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          const { maskTool, brushSize } = useStore.getState();
          redraw(model.beginStroke(maskTool, brushSize, toImage(e)));
        }}
        onPointerMove={(e) => {
          moveCursor(e);
          if (!model.drawing) return;
          const native = e.nativeEvent;
          const points = native.getCoalescedEvents?.() ?? [];
          let dirty: Rect | null = null;
          for (const p of points.length > 0 ? points : [native])
            dirty = unionRect(dirty, model.extendStroke(toImage(p)));
          if (dirty) redraw(dirty);
        }}
        onPointerUp={() => {
          if (!model.drawing) return;
          model.endStroke();
          onChange();
        }}
        onPointerCancel={() => {
          model.endStroke();
          onChange();
        }}
        onPointerLeave={() => {
          if (cursorRef.current) cursorRef.current.style.display = 'none';
        }}
      />
      <div ref={cursorRef} className="brush-cursor" aria-hidden="true" />
    </div>
  );
}
