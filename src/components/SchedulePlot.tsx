import { useMemo } from 'react';
import { scheduleCurves } from '../core/pipeline/explore';
import { schedulerLabel } from '../core/schedulers';
import { useStore } from '../store';

const W = 520;
const H = 260;
const M = { left: 44, right: 12, top: 14, bottom: 40 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const SERIES = [
  { key: 'alphasCumprod', label: 'ᾱ (alphas_cumprod)', color: '#7c9cff' },
  { key: 'sqrtAlphasCumprod', label: '√ᾱ (signal)', color: '#6fdc9a' },
  { key: 'sqrtOneMinusAlphasCumprod', label: '√(1−ᾱ) (noise)', color: '#ff9f6e' },
] as const;

/** The loaded model's noise schedule over its train steps, with the chosen scheduler's timesteps marked. */
export function SchedulePlot() {
  const config = useStore((s) => s.model?.schedulerConfig ?? null);
  const scheduler = useStore((s) => s.scheduler);
  const steps = useStore((s) => s.steps);
  const curves = useMemo(() => {
    if (!config || !Number.isInteger(steps) || steps < 1 || steps > 1000) return null;
    try {
      return scheduleCurves(config, scheduler, steps);
    } catch {
      return null;
    }
  }, [config, scheduler, steps]);
  if (!curves) return <p className="hint">Load a model (Generate once) to see its noise schedule.</p>;
  const n = curves.alphasCumprod.length;
  const x = (t: number) => M.left + (t / (n - 1)) * PW;
  const y = (v: number) => M.top + (1 - v) * PH;
  const path = (values: Float32Array) =>
    Array.from(values, (v, t) => `${t === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const xTicks = [0, 250, 500, 750, n - 1];
  const yTicks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <figure className="plot">
      <svg
        data-testid="schedule-plot"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Noise schedule over ${n} train steps with ${curves.timesteps.length} ${schedulerLabel(scheduler)} timesteps marked`}
        data-timesteps={curves.timesteps.join(',')}
      >
        <rect x={M.left} y={M.top} width={PW} height={PH} className="plot-bg" />
        {yTicks.map((v) => (
          <g key={`y${v}`}>
            <line x1={M.left} x2={M.left + PW} y1={y(v)} y2={y(v)} className="grid" />
            <text x={M.left - 6} y={y(v)} textAnchor="end" dominantBaseline="middle" className="tick">
              {v}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <g key={`x${t}`}>
            <line x1={x(t)} x2={x(t)} y1={M.top + PH} y2={M.top + PH + 4} className="axis" />
            <text x={x(t)} y={M.top + PH + 16} textAnchor="middle" className="tick">
              {t}
            </text>
          </g>
        ))}
        {curves.timesteps.map((t, i) => (
          <line key={`t${i}`} x1={x(t)} x2={x(t)} y1={M.top} y2={M.top + PH} className="timestep" />
        ))}
        {SERIES.map((s) => (
          <path key={s.key} d={path(curves[s.key])} stroke={s.color} className="curve" />
        ))}
        <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + PH} className="axis" />
        <line x1={M.left} x2={M.left + PW} y1={M.top + PH} y2={M.top + PH} className="axis" />
        <text x={M.left + PW / 2} y={H - 4} textAnchor="middle" className="axis-label">
          train timestep t
        </text>
      </svg>
      <figcaption className="legend">
        {SERIES.map((s) => (
          <span key={s.key}>
            <i style={{ background: s.color }} /> {s.label}
          </span>
        ))}
        <span>
          <i className="timestep-key" /> {curves.timesteps.length} timesteps of {schedulerLabel(scheduler)} at {steps}{' '}
          steps
        </span>
      </figcaption>
    </figure>
  );
}
