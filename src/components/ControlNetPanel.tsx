/**
 * ControlNet units (txt2img, img2img, inpaint): each names its ControlNet (catalog, repo id, folder
 * URL or A1111 file), takes a control picture (upload, the start image, or a scribble drawn here),
 * runs it through a preprocessor with a preview of what the ControlNet will see, and has a weight
 * and a range of steps. Units stay attached when the mode changes.
 */
import { useCallback, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { onScribbleChange, scribbleChanged, scribbleOf } from '../canvas/control-images';
import type { MaskModel, Rect } from '../canvas/mask-model';
import { surfaces } from '../canvas/surfaces';
import { formatBytes } from '../core/format-bytes';
import { CONTROLNET_CATALOG } from '../models/controlnet';
import type { ControlPreprocessor } from '../protocol/messages';
import { useStore } from '../store';
import { MAX_CONTROL_UNITS, type ControlUnit } from '../store/controlnet';
import { useActions } from './actions';
import { FileButton } from './FileButton';
import { StrokeCanvas } from './StrokeCanvas';

const PREPROCESSORS: readonly [ControlPreprocessor, string][] = [
  ['none', 'None (the picture as it is)'],
  ['canny', 'Canny edges'],
  ['depth', 'Depth'],
  ['scribble', 'Scribble (draw it here)'],
];

/** White strokes on black, as the ControlNet sees a scribble. */
function paintScribble(pad: MaskModel) {
  return (canvas: HTMLCanvasElement, rect: Rect | null) => {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const r = rect ?? { x: 0, y: 0, width: pad.width, height: pad.height };
    if (r.width <= 0 || r.height <= 0) return;
    const image = ctx.createImageData(r.width, r.height);
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const v = pad.data[(r.y + y) * pad.width + r.x + x]!;
        const o = (y * r.width + x) * 4;
        image.data[o] = image.data[o + 1] = image.data[o + 2] = v;
        image.data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, r.x, r.y);
  };
}

function ScribblePad({ unitKey, width, height }: { unitKey: number; width: number; height: number }) {
  const pad = scribbleOf(unitKey, width, height);
  const [, setVersion] = useState(0);
  const paint = useCallback((c: HTMLCanvasElement, r: Rect | null) => paintScribble(pad)(c, r), [pad]);
  const subscribe = useCallback(
    (redraw: () => void) =>
      onScribbleChange((key) => {
        if (key !== unitKey) return;
        redraw();
        setVersion(pad.version);
      }),
    [pad, unitKey],
  );
  const act = (action: () => unknown) => {
    action();
    scribbleChanged(unitKey);
  };
  return (
    <div className="scribble">
      <StrokeCanvas
        model={pad}
        paint={paint}
        onChange={() => scribbleChanged(unitKey)}
        subscribe={subscribe}
        testId="control-scribble"
        className="scribble-canvas"
        label="Scribble: draw the shapes the picture should follow"
      />
      <div className="row">
        <button type="button" data-testid="scribble-undo" disabled={!pad.canUndo} onClick={() => act(() => pad.undo())}>
          Undo
        </button>
        <button type="button" data-testid="scribble-clear" onClick={() => act(() => pad.clear())}>
          Clear
        </button>
      </div>
    </div>
  );
}

function Preview({ unitKey }: { unitKey: number }) {
  const attach = useCallback(
    (canvas: HTMLCanvasElement | null) => surfaces.attach(`control:${unitKey}`, canvas),
    [unitKey],
  );
  const [shown, setShown] = useState(surfaces.get(`control:${unitKey}`) !== null);
  useEffect(() => surfaces.subscribe(() => setShown(surfaces.get(`control:${unitKey}`) !== null)), [unitKey]);
  return (
    <div className="control-preview-box">
      <canvas ref={attach} data-testid="control-preview" data-shown={shown} className="control-preview" />
      {shown ? null : <div className="hint">The control picture shows here once the unit has one.</div>}
    </div>
  );
}

type UnitNumberField = 'scale' | 'start' | 'end' | 'cannyLow' | 'cannyHigh';

/** One number of a unit, labelled; an empty box is NaN so the run's check names what is missing. */
function UnitNumber(props: {
  unit: ControlUnit;
  field: UnitNumberField;
  testId: string;
  label: string;
  min: number;
  max: number;
  step?: number;
}) {
  const { unit, field, testId, label, min, max, step } = props;
  const change = useStore((s) => s.controlUnitChanged);
  const id = `${testId}-${unit.key}`;
  const value = unit[field];
  return (
    <label className="field" htmlFor={id}>
      <span>{label}</span>
      <input
        id={id}
        data-testid={testId}
        type="number"
        min={min}
        max={max}
        step={step}
        value={Number.isNaN(value) ? '' : value}
        onChange={(e) =>
          change(unit.key, { [field]: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) })
        }
      />
    </label>
  );
}

function Unit({ unit, index, count }: { unit: ControlUnit; index: number; count: number }) {
  const { controlnets } = useActions();
  const change = useStore((s) => s.controlUnitChanged);
  const { width, height, hasStart, startVersion, mode } = useStore(
    useShallow((s) => ({
      width: s.width,
      height: s.height,
      hasStart: s.initImage !== null,
      startVersion: s.initImage?.version ?? 0,
      mode: s.mode,
    })),
  );
  const [scribbleVersion, setScribbleVersion] = useState(0);
  useEffect(() => onScribbleChange((key) => key === unit.key && setScribbleVersion((v) => v + 1)), [unit.key]);
  const { key, preprocessor, cannyLow, cannyHigh, source, imageName } = unit;
  // The preview follows what the ControlNet will see, a moment after the last change.
  useEffect(() => {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width % 8 || height % 8) return;
    const timer = setTimeout(() => void controlnets.refreshPreview(key), 250);
    return () => clearTimeout(timer);
  }, [
    controlnets,
    key,
    preprocessor,
    cannyLow,
    cannyHigh,
    source,
    imageName,
    width,
    height,
    startVersion,
    scribbleVersion,
  ]);

  const id = (name: string) => `${name}-${unit.key}`;
  const canStart = mode === 'img2img' || mode === 'inpaint' || hasStart;
  return (
    <fieldset className="control-unit" data-testid="controlnet-unit" data-loaded={unit.net !== null}>
      <legend>ControlNet {count > 1 ? index + 1 : ''}</legend>
      <div className="row">
        <input
          id={id('controlnet-input')}
          data-testid="controlnet-input"
          type="text"
          list="controlnet-catalog"
          aria-label="ControlNet: repo id or folder URL"
          placeholder="lllyasviel/control_v11p_sd15_canny"
          value={unit.input}
          onChange={(e) => {
            change(unit.key, { input: e.target.value });
            controlnets.chooseCatalog(unit.key, e.target.value);
          }}
        />
        <button
          type="button"
          data-testid="controlnet-load"
          disabled={unit.loading}
          onClick={() => void controlnets.loadControlNet(unit.key)}
        >
          {unit.loading ? 'Loading…' : 'Load'}
        </button>
        <FileButton
          testId="controlnet-file"
          label="A1111 file…"
          accept=".safetensors"
          onFile={(file) => void controlnets.loadControlNetFile(unit.key, file)}
        />
      </div>
      {unit.status ? (
        <div className="hint" data-testid="controlnet-status">
          {unit.status}
        </div>
      ) : null}
      {unit.error ? (
        <div className="error" role="alert" data-testid="controlnet-error">
          {unit.error}
        </div>
      ) : null}
      <div className="row">
        <label className="field" htmlFor={id('control-preprocessor')}>
          <span>Preprocessor</span>
          <select
            id={id('control-preprocessor')}
            data-testid="control-preprocessor"
            value={unit.preprocessor}
            onChange={(e) => change(unit.key, { preprocessor: e.target.value as ControlPreprocessor })}
          >
            {PREPROCESSORS.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        {unit.preprocessor === 'canny' ? (
          <>
            <UnitNumber unit={unit} field="cannyLow" testId="canny-low" label="Low threshold" min={1} max={255} />
            <UnitNumber unit={unit} field="cannyHigh" testId="canny-high" label="High threshold" min={1} max={255} />
          </>
        ) : null}
      </div>
      {unit.preprocessor === 'scribble' ? (
        <ScribblePad unitKey={unit.key} width={width} height={height} />
      ) : (
        <div className="row">
          <FileButton
            testId="control-image-input"
            label={imageName ? `Picture: ${imageName}` : 'Control picture…'}
            onFile={(file) => void controlnets.setControlImage(unit.key, file)}
          />
          {canStart ? (
            <label className="inline">
              <input
                data-testid="control-use-start"
                type="checkbox"
                checked={unit.source === 'start'}
                onChange={(e) => change(unit.key, { source: e.target.checked ? 'start' : 'upload' })}
              />
              <span>Use the start image</span>
            </label>
          ) : null}
        </div>
      )}
      <Preview unitKey={unit.key} />
      <div className="row">
        <UnitNumber unit={unit} field="scale" testId="control-scale" label="Weight" min={0} max={2} step={0.05} />
        <UnitNumber unit={unit} field="start" testId="control-start" label="Start" min={0} max={1} step={0.05} />
        <UnitNumber unit={unit} field="end" testId="control-end" label="End" min={0} max={1} step={0.05} />
      </div>
      <button type="button" data-testid="controlnet-remove" onClick={() => void controlnets.removeControlNet(unit.key)}>
        Remove
      </button>
    </fieldset>
  );
}

export function ControlNetPanel() {
  const units = useStore(useShallow((s) => s.controlUnits));
  const guessMode = useStore((s) => s.controlGuessMode);
  const setGuess = useStore((s) => s.controlGuessModeSet);
  const add = useStore((s) => s.controlUnitAdded);
  return (
    <details
      className="controlnet-panel"
      data-testid="controlnet-panel"
      open={units.some((u) => u.net !== null) || undefined}
    >
      <summary className="panel-title">ControlNet</summary>
      <div className="hint">
        A ControlNet makes the picture follow the edges, depth or scribble of a control picture. It runs beside the
        model: a diffusers ControlNet by repo id or folder URL, or an A1111 .safetensors file, for the model&apos;s
        family.
      </div>
      <datalist id="controlnet-catalog">
        {CONTROLNET_CATALOG.map((c) => (
          <option key={c.repo} value={c.repo}>
            {`${c.name}, about ${formatBytes(c.approxBytes)}, ${c.licence}`}
          </option>
        ))}
      </datalist>
      {units.map((u, i) => (
        <Unit key={u.key} unit={u} index={i} count={units.length} />
      ))}
      <div className="row">
        <label className="inline">
          <input
            data-testid="control-guess-mode"
            type="checkbox"
            checked={guessMode}
            onChange={(e) => setGuess(e.target.checked)}
          />
          <span>ControlNet is more important (guess mode)</span>
        </label>
        {units.length < MAX_CONTROL_UNITS ? (
          <button type="button" data-testid="controlnet-add" onClick={add}>
            Add another ControlNet
          </button>
        ) : null}
      </div>
    </details>
  );
}
