import { useEffect, useRef } from 'react';
import { registerCellCanvas } from '../canvas/compare-cells';
import { useStore } from '../store';
import { ErrorBox, StatusLine } from './ResultView';
import { useActions } from './actions';
import { cellLabel } from '../app/compare-actions';

function Cell({ index }: { index: number }) {
  const {
    compare: { openCell },
  } = useActions();
  const ref = useRef<HTMLCanvasElement | null>(null);
  const cell = useStore((s) => s.compare?.cells[index]);
  useEffect(() => {
    registerCellCanvas(index, ref.current);
    return () => registerCellCanvas(index, null);
  }, [index]);
  if (!cell) return null;
  const label = cellLabel(cell);
  return (
    <figure
      className={`compare-cell ${cell.done ? 'done' : 'pending'}`}
      data-testid="compare-cell"
      data-index={index}
      data-guidance={cell.guidanceScale}
      data-steps={cell.steps}
      data-scheduler={cell.scheduler}
      data-done={cell.done}
      data-flagged={cell.flagged === true}
    >
      <figcaption>{label}</figcaption>
      <canvas ref={ref} aria-label={label} hidden={cell.flagged === true} />
      {cell.done ? null : <div className="placeholder">waiting…</div>}
      {cell.flagged ? (
        <div className="placeholder notice" data-testid="cell-flagged">
          Flagged by the safety checker: not shown or kept.
        </div>
      ) : null}
      <button
        type="button"
        data-testid="compare-open"
        disabled={!cell.done || cell.flagged === true}
        onClick={() => openCell(index)}
      >
        Open as result
      </button>
    </figure>
  );
}

/** The compare results: one labelled cell per setting, filled in as each finishes. */
export function CompareGrid() {
  const {
    compare: { exportGrid },
  } = useActions();
  const compare = useStore((s) => s.compare);
  const allDone = compare?.cells.every((c) => c.done) ?? false;
  const columns = compare ? new Set(compare.cells.map((c) => c.guidanceScale)).size : 1;
  return (
    <section className="result" aria-label="Comparison">
      <StatusLine />
      <ErrorBox />
      {compare ? (
        <>
          <div className="hint">
            “{compare.settings.prompt}” · seed {compare.settings.seed} · same starting noise in every cell
          </div>
          <div
            className="compare-grid"
            data-testid="compare-grid"
            style={{ gridTemplateColumns: `repeat(${columns}, 1fr)` }}
          >
            {compare.cells.map((_, i) => (
              <Cell key={`${compare.run}-${i}`} index={i} />
            ))}
          </div>
          <button type="button" data-testid="compare-export" disabled={!allDone} onClick={() => void exportGrid()}>
            Download grid as PNG
          </button>
        </>
      ) : (
        <div className="placeholder">Press Generate to make one image per setting.</div>
      )}
    </section>
  );
}
