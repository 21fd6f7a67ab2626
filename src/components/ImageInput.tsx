import { useEffect, useRef, useState } from 'react';
import { registerDepthCanvas } from '../canvas/depth-map';
import { drawInitImage, onInitImageChange, type ResizeMode } from '../canvas/init-image';
import type { Mode } from '../core/modes';
import { selectBusy, useStore } from '../store';
import { FileButton } from './FileButton';
import { MaskCanvas, MaskToolbar } from './MaskEditor';
import { StrengthSetting } from './StrengthSetting';
import { useActions } from './actions';

/** The start image drawn at the output size, as the pipeline will see it. */
function Preview({ width, height, resizeMode }: { width: number; height: number; resizeMode: ResizeMode }) {
  const ref = useRef<HTMLCanvasElement | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => onInitImageChange(() => setVersion((v) => v + 1)), []);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (ctx && !drawInitImage(ctx, width, height, resizeMode)) ctx.clearRect(0, 0, width, height);
  }, [width, height, resizeMode, version]);
  return <canvas ref={ref} data-testid="init-image-preview" className="init-preview" aria-label="Start image" />;
}

function DepthPanel() {
  const {
    images: { clearDepthMap, estimateDepthNow, uploadDepth },
  } = useActions();
  const ref = useRef<HTMLCanvasElement | null>(null);
  const depth = useStore((s) => s.depth);
  const busy = useStore(selectBusy);
  useEffect(() => {
    registerDepthCanvas(ref.current);
    return () => registerDepthCanvas(null);
  }, []);
  return (
    <div className="depth-panel">
      <div className="panel-title">Depth map</div>
      <div className={`depth-frame ${depth ? 'has-image' : ''}`}>
        <canvas ref={ref} data-testid="depth-map" aria-label="Depth map" data-source={depth?.source ?? 'none'} />
        {depth ? null : <div className="placeholder">Estimated from the picture when you generate, or upload one.</div>}
      </div>
      <div className="hint">
        {depth
          ? `${depth.source === 'uploaded' ? 'Uploaded' : 'Estimated'} · ${depth.width}×${depth.height} · brighter = nearer`
          : 'No depth map yet.'}
      </div>
      <div className="button-row">
        <button type="button" data-testid="estimate-depth" disabled={busy} onClick={() => void estimateDepthNow()}>
          Estimate depth
        </button>
        <FileButton testId="depth-input" label="Upload depth…" onFile={(file) => void uploadDepth(file)} />
        <button type="button" data-testid="depth-clear" disabled={!depth} onClick={clearDepthMap}>
          Clear
        </button>
      </div>
    </div>
  );
}

/**
 * Start image for the image modes: file picker, drag and drop, paste, or the last result; crop or
 * fit to the output size; the mask editor over it in inpaint; the depth map in depth2img.
 */
export function ImageInput({ mode }: { mode: Exclude<Mode, 'txt2img'> }) {
  const {
    images: { chooseInitImage, matchImageAspect, startFromLastResult },
  } = useActions();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const resizeMode = useStore((s) => s.resizeMode);
  const info = useStore((s) => s.initImage);
  const error = useStore((s) => s.inputError);
  const hasResult = useStore((s) => s.result !== null);
  const setSetting = useStore((s) => s.setSetting);
  const [dragging, setDragging] = useState(false);
  const validSize = Number.isInteger(width) && Number.isInteger(height) && width >= 8 && height >= 8;

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const file = Array.from(e.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/'));
      if (!file) return;
      e.preventDefault();
      void chooseInitImage(file);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [chooseInitImage]);

  return (
    <section
      className={`image-input ${dragging ? 'dragging' : ''}`}
      aria-label="Start image"
      data-testid="image-input"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        // Here a dropped picture is the start image, not settings to restore.
        e.stopPropagation();
        setDragging(false);
        const file = e.dataTransfer.files[0];
        if (file) void chooseInitImage(file);
      }}
    >
      <div className="panel-title">Start image</div>
      <div className="button-row">
        <FileButton
          testId="init-image-input"
          label="Choose image…"
          className="primary-outline"
          onFile={(file) => void chooseInitImage(file)}
        />
        <button type="button" data-testid="use-result" disabled={!hasResult} onClick={() => void startFromLastResult()}>
          Use last result
        </button>
        <label className="inline">
          <span>To size</span>
          <select
            data-testid="resize-mode"
            value={resizeMode}
            onChange={(e) => setSetting('resizeMode', e.target.value as ResizeMode)}
          >
            <option value="crop">Crop to fill</option>
            <option value="fit">Fit inside</option>
          </select>
        </label>
        <button type="button" data-testid="use-image-aspect" disabled={!info} onClick={matchImageAspect}>
          Match its shape
        </button>
      </div>
      {error ? (
        <div className="error compact" role="alert" data-testid="image-error">
          {error}
        </div>
      ) : null}
      <div className="hint" data-testid="init-image-info">
        {info
          ? `${info.name} · ${info.width}×${info.height} → ${width}×${height} (${resizeMode === 'crop' ? 'cropped' : 'fitted'})`
          : 'Choose, drop or paste a PNG, JPEG or WebP picture.'}
      </div>
      {mode === 'inpaint' ? <MaskToolbar /> : null}
      <div className="stage" style={{ aspectRatio: validSize ? `${width} / ${height}` : undefined }}>
        {validSize ? <Preview width={width} height={height} resizeMode={resizeMode} /> : null}
        {mode === 'inpaint' && validSize ? <MaskCanvas width={width} height={height} /> : null}
        {info ? null : <div className="placeholder">Drop a picture here</div>}
      </div>
      <StrengthSetting mode={mode} />
      {mode === 'depth2img' ? <DepthPanel /> : null}
    </section>
  );
}
