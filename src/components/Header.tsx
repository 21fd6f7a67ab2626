import { useStore, selectCapabilities, selectModel, selectBusy } from '../store';
import { MODE_LABELS } from '../core/modes';
import { formatBytes } from '../core/format-bytes';
import { catalog, findModel, whyNot } from '../models/catalog';
import type { ModelManifest } from '../models/manifest';
import { suggestedModel } from '../models/suggest';
import type { Backend, NetworkPrecision } from '../protocol/messages';
import { useActions } from './actions';

/** Name, size, whether it is cached, and its modes: what a person needs to pick a model. */
function optionLabel(m: ModelManifest, cached: boolean): string {
  const where = m.source.kind === 'app' ? 'built in' : cached ? 'cached' : 'download';
  const size = m.approxBytes ? formatBytes(m.approxBytes) : 'size unknown';
  const unverified = m.verified ? '' : ' · unverified';
  // Short enough to be read whole in the select, on a phone too; the modes are in the description.
  return `${m.name} · ${size} · ${where}${unverified}`;
}

/** What the selected model is and its licence, before anything is downloaded. */
function ModelAbout() {
  const modelId = useStore((s) => s.modelId);
  const custom = useStore((s) => s.customModels);
  const current = findModel(modelId, custom);
  if (!current) return null;
  return (
    <p className="model-about hint" data-testid="model-description">
      {current.description} Modes: {current.modes.map((x) => MODE_LABELS[x]).join(', ')}. Licence: {current.licence}.
    </p>
  );
}

export function Header() {
  const {
    choice: { chooseModel },
  } = useActions();
  const modelId = useStore((s) => s.modelId);
  const cachedIds = useStore((s) => s.cachedModels.map((r) => r.modelId).join('|'));
  // Re-read the catalog when the person's own models change.
  const custom = useStore((s) => s.customModels);
  const mode = useStore((s) => s.mode);
  const backend = useStore((s) => s.backend);
  const theme = useStore((s) => s.theme);
  const setSetting = useStore((s) => s.setSetting);
  const capabilities = useStore(selectCapabilities);
  const model = useStore(selectModel);
  const busy = useStore(selectBusy);
  const adapter = capabilities?.adapter;
  const suggestion = suggestedModel(adapter ?? null);

  return (
    <header className="app-header">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◐
        </span>
        <h1>Latent Studio</h1>
        <span className="tagline">Stable Diffusion in your browser</span>
      </div>
      <div className="header-controls">
        <label className="inline">
          <span>Model</span>
          <select data-testid="model" value={modelId} disabled={busy} onChange={(e) => chooseModel(e.target.value)}>
            {catalog(custom).map((m) => {
              const reason = whyNot(m, mode);
              const cached = cachedIds.split('|').includes(m.id);
              return (
                <option key={m.id} value={m.id} disabled={reason !== null} title={reason ?? m.description}>
                  {optionLabel(m, cached)}
                  {reason ? ' — not for this mode' : ''}
                </option>
              );
            })}
          </select>
        </label>
        <label className="inline">
          <span>Backend</span>
          <select
            data-testid="backend"
            value={backend}
            disabled={busy}
            onChange={(e) => setSetting('backend', e.target.value as Backend)}
          >
            <option value="webgpu">WebGPU (GPU)</option>
            <option value="wasm">WASM (CPU)</option>
          </select>
        </label>
        <button
          type="button"
          className="ghost"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setSetting('theme', theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </div>
      <ModelAbout />
      <div className="gpu-info" data-testid="gpu-info">
        {capabilities === null ? (
          'Checking your GPU…'
        ) : adapter ? (
          <>
            GPU: {adapter.vendor} · {adapter.architecture} · shader-f16 {adapter.shaderF16 ? 'yes' : 'no'} · max buffer{' '}
            {formatBytes(adapter.maxBufferSize)}
            {adapter.software ? (
              <span className="notice">
                {' '}
                — a software renderer, not a GPU: WASM (CPU) is faster here and is the default; WebGPU stays available.
              </span>
            ) : null}
          </>
        ) : (
          <span className="notice">
            No WebGPU here: {capabilities.webgpuUnavailableReason} Models run on the CPU (WASM).
          </span>
        )}
        {suggestion && suggestion.id !== modelId ? (
          <span className="notice" data-testid="model-suggestion">
            {' '}
            This GPU has shader-f16: {suggestion.name} makes a {suggestion.nativeSize}×{suggestion.nativeSize} image in
            1–4 steps.{' '}
            <button type="button" className="ghost" onClick={() => chooseModel(suggestion.id)}>
              Use it
            </button>
          </span>
        ) : null}
        {model ? (
          <span data-testid="precision" title="The float type each network computes in">
            {' '}
            · computes in {describePrecision(model.precision)}
          </span>
        ) : null}
        {model?.fallbackReason ? (
          <span className="notice" data-testid="backend-notice">
            {' '}
            {model.fallbackReason}
          </span>
        ) : null}
      </div>
    </header>
  );
}

/** "float16" when every network computes in one type, else each network's. */
function describePrecision(p: NetworkPrecision): string {
  if (p.textEncoder === p.unet && p.unet === p.vae) return p.unet;
  return `${p.textEncoder} (text encoder), ${p.unet} (UNet), ${p.vae} (VAE)`;
}
