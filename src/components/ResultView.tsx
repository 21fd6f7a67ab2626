import { useEffect, useRef, useState } from 'react';
import { registerResultCanvas, showOnCanvas } from '../canvas/result-surface';
import { previewAt } from '../canvas/previews';
import { ENCODER_LATENTS_LABEL } from '../core/pipeline/image-latents';
import { MODE_LABELS } from '../core/modes';
import { useStore, selectDownload, selectJob, selectResult } from '../store';
import type { DownloadProgress } from '../store/model';
import type { SafetyReport } from '../protocol/messages';
import { formatBytes } from '../core/format-bytes';
import { useActions } from './actions';
import { ErrorDetail } from './ErrorDetail';

function useElapsed(startedAt: number | null, finishedAt: number | null, live: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(performance.now()), 100);
    return () => clearInterval(timer);
  }, [live]);
  if (startedAt === null) return 0;
  return ((live ? now : (finishedAt ?? now)) - startedAt) / 1000;
}

function downloadText(d: DownloadProgress): string {
  const seconds = (performance.now() - d.startedAt) / 1000;
  const speed = seconds > 0.5 ? d.overallLoaded / seconds : 0;
  const left = speed > 0 && d.overallTotal ? (d.overallTotal - d.overallLoaded) / speed : null;
  const parts = [
    `Loading model: ${formatBytes(d.overallLoaded)}${d.overallTotal ? ` of ${formatBytes(d.overallTotal)}` : ''}`,
    speed > 0 ? `${formatBytes(speed)}/s` : null,
    left !== null && left > 1 ? `${left < 90 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`} left` : null,
    `(${d.file}${d.total ? ` ${Math.round((100 * d.loaded) / d.total)} %` : ''})`,
  ];
  return parts.filter(Boolean).join(' · ');
}

const PHASE_LABEL = {
  tokenize: 'Reading the prompt',
  depth: 'Estimating depth',
  encode: 'Encoding the prompt',
  denoise: 'Denoising',
  decode: 'Decoding the image',
};

export function StatusLine() {
  const job = useStore(selectJob);
  const download = useStore(selectDownload);
  const result = useStore(selectResult);
  const compare = useStore((s) => s.compare);
  const live = job.state === 'loading' || job.state === 'generating';
  const elapsed = useElapsed(job.startedAt, job.finishedAt, live);
  let text: string;
  switch (job.state) {
    case 'idle':
      text = 'Ready. Write a prompt and press Generate.';
      break;
    case 'loading':
      text = download ? downloadText(download) : 'Loading model…';
      break;
    case 'generating':
      text = `${job.phase ? PHASE_LABEL[job.phase] : 'Working'}…`;
      break;
    case 'done':
      // A compare run leaves the last single result in place: say what the grid took instead.
      text =
        compare && compare.run === job.run
          ? `Done: ${compare.cells.length} images in ${elapsed.toFixed(2)} s · seed ${compare.settings.seed}`
          : result?.run
            ? `Done in ${(result.run.totalMs / 1000).toFixed(2)} s on ${result.run.backend === 'webgpu' ? 'WebGPU' : 'WASM'} · seed ${result.settings.seed}`
            : 'Done.';
      break;
    case 'cancelled':
      text = 'Cancelled. Your settings are kept.';
      break;
    case 'error':
      text = 'Something went wrong (see below).';
      break;
  }
  const fraction =
    job.state === 'loading' && download?.overallTotal
      ? download.overallLoaded / download.overallTotal
      : job.totalSteps > 0
        ? job.step / job.totalSteps
        : 0;
  return (
    <div className="status-block">
      <div
        data-testid="status"
        data-state={job.state}
        data-run={job.run}
        className={`status status-${job.state}`}
        role="status"
        aria-live="polite"
      >
        {text}
      </div>
      <div
        data-testid="progress"
        className="progress"
        role="progressbar"
        aria-label="Denoising progress"
        aria-valuemin={0}
        aria-valuemax={job.totalSteps}
        aria-valuenow={job.step}
        data-step={job.step}
        data-total={job.totalSteps}
      >
        <div className="progress-track">
          <div className="progress-fill" style={{ width: `${Math.round(fraction * 100)}%` }} />
        </div>
        <span className="progress-text">
          {job.state === 'loading' ? 'Loading' : `Step ${job.step} / ${job.totalSteps}`} · {elapsed.toFixed(1)} s
        </span>
      </div>
      <div
        data-testid="download-progress"
        hidden
        data-loaded={download?.overallLoaded ?? 0}
        data-total={download?.overallTotal ?? 0}
        data-file={download?.file ?? ''}
      ></div>
    </div>
  );
}

export function ErrorBox() {
  const error = useStore((s) => s.job.error);
  if (!error) return null;
  return (
    <div className="error" data-testid="error" role="alert" data-name={error.name}>
      <strong>{error.name === 'ValidationError' ? 'Check your settings' : 'Generation failed'}</strong>
      <p>{error.message}</p>
      <ErrorDetail detail={error.detail} />
    </div>
  );
}

/** After a run with previews: a slider over the steps, the last position being the final image. */
function PreviewScrubber() {
  const previews = useStore((s) => s.previews);
  const live = useStore((s) => s.job.state === 'generating');
  if (previews.steps.length === 0) return null;
  const positions = previews.steps.length + (live ? 0 : 1);
  const index = previews.shown === null ? previews.steps.length : Math.max(0, previews.steps.indexOf(previews.shown));
  const label =
    previews.shown === null
      ? 'Final image'
      : `Step ${previews.shown} of ${previews.totalSteps}: the model's estimate of the finished image`;
  return (
    <div className="scrubber">
      <input
        data-testid="preview-scrubber"
        type="range"
        min={0}
        max={positions - 1}
        value={Math.min(index, positions - 1)}
        disabled={live}
        aria-label="Step"
        onChange={(e) => {
          const i = Number(e.target.value);
          const step = previews.steps[i] ?? null;
          showOnCanvas(step === null ? null : previewAt(step));
          useStore.getState().previewChosen(step);
        }}
      />
      <span data-testid="preview-label">{label}</span>
    </div>
  );
}

/** What a flagged picture leaves: which check flagged it, and where the checker is turned off. */
function SafetyFlagged({ report, required }: { report: SafetyReport; required: boolean }) {
  const concepts = report.badConcepts.map((i) => `concept ${i + 1}`).join(', ');
  const special = report.specialCare.length > 0 ? ` (after a special-care match, which makes it stricter)` : '';
  const whose =
    report.source === 'site'
      ? "Stable Diffusion's safety checker, which this site requires,"
      : "This model's safety checker";
  return (
    <div className="notice safety-flagged" data-testid="safety-flagged" role="status">
      {whose} flagged the picture ({concepts} of its {report.concepts}
      {special}), so it is not shown, kept in the history or downloadable.{' '}
      {required
        ? 'This site requires the checker.'
        : 'The checker can be turned off for this model in the settings (Safety checker).'}
    </div>
  );
}

export function ResultView() {
  const {
    gallery: { downloadResult },
  } = useActions();
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const result = useStore(selectResult);
  const required = useStore((s) => s.safetyRequired);
  const flagged = result?.safety?.flagged ? result.safety : null;
  useEffect(() => {
    registerResultCanvas(canvasRef.current);
    return () => registerResultCanvas(null);
  }, []);

  return (
    <section className="result" aria-label="Result">
      <StatusLine />
      <ErrorBox />
      {flagged ? <SafetyFlagged report={flagged} required={required} /> : null}
      <div className={`canvas-frame ${result && !flagged ? 'has-image' : ''}`} hidden={flagged !== null}>
        <canvas
          ref={canvasRef}
          data-testid="result-canvas"
          aria-label={result ? `Generated image for: ${result.settings.prompt}` : 'No image yet'}
        />
        {result ? null : <div className="placeholder">Your image appears here.</div>}
      </div>
      <PreviewScrubber />
      {result ? (
        <div className="result-meta">
          <span data-testid="result-mode" data-mode={result.settings.mode}>
            {MODE_LABELS[result.settings.mode]} · {result.settings.width}×{result.settings.height}
            {result.settings.hires ? ` → hires fix ×${result.settings.hires.scale}` : ''} · seed{' '}
            <code data-testid="result-seed">{result.settings.seed}</code>
          </span>
          {result.encoderLatents ? (
            <span data-testid="encoder-latents">Start latents: {ENCODER_LATENTS_LABEL[result.encoderLatents]}</span>
          ) : null}
          {result.run ? (
            <span data-testid="timings">
              text {Math.round(result.run.timings.encodeMs)} ms · denoise {Math.round(result.run.timings.denoiseMs)} ms
              · decode {Math.round(result.run.timings.decodeMs)} ms
            </span>
          ) : null}
          {result.truncated ? <span className="notice">Cut past CLIP's 77 tokens: “{result.truncated}”</span> : null}
          {result.safety && !result.safety.flagged ? (
            <span data-testid="safety-checked">
              {result.safety.source === 'site'
                ? "Checked by the site's safety checker"
                : 'Checked by the safety checker'}
            </span>
          ) : null}
          <button
            type="button"
            data-testid="download"
            disabled={flagged !== null}
            onClick={() => void downloadResult()}
          >
            Download PNG
          </button>
        </div>
      ) : null}
    </section>
  );
}
