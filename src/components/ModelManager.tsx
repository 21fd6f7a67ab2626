import { useEffect, useState } from 'react';
import { catalog, findModel } from '../models/catalog';
import { selectBusy, useStore } from '../store';
import { formatBytes } from '../core/format-bytes';
import { useActions } from './actions';
import { findVae, vaeChoices, vaeMisfit } from '../models/vae';

/** Why a model was not added, beside the control that was used (repo field or file picker: one at a time). */
function AddError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div className="error compact" role="alert" data-testid="custom-model-error">
      {message}
    </div>
  );
}

function CustomModel() {
  const {
    models: { addCustomModel, addLocalFolder, removeCustomModel },
  } = useActions();
  const [text, setText] = useState('');
  const error = useStore((s) => (s.customModelError?.from === 'repo' ? s.customModelError.message : null));
  const custom = useStore((s) => s.customModels);
  const busy = useStore(selectBusy);
  const adding = useStore((s) => s.addingModel);
  return (
    <div className="custom-model">
      <h3>Add a model</h3>
      <p className="hint">
        A Hugging Face repo id (owner/name, optionally @revision) or a URL of a diffusers folder (model_index.json with
        safetensors networks, or an ONNX export). Files download when you first generate.
      </p>
      <form
        className="with-button"
        onSubmit={(e) => {
          e.preventDefault();
          void addCustomModel(text);
        }}
      >
        <input
          data-testid="custom-model-input"
          type="text"
          placeholder="owner/name or https://…"
          value={text}
          aria-label="Repo id or URL"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" data-testid="load-model" disabled={busy || adding || text.trim() === ''}>
          {adding ? 'Adding…' : 'Add and select'}
        </button>
      </form>
      <label className="file-button">
        Pick a model folder…
        <input
          data-testid="local-model-input"
          type="file"
          // Chromium's folder picker; the files are read in place, nothing is uploaded or copied.
          {...{ webkitdirectory: '' }}
          multiple
          onChange={(e) => {
            if (e.target.files && e.target.files.length > 0) void addLocalFolder(e.target.files);
            e.target.value = '';
          }}
        />
      </label>
      <AddError message={error} />
      {custom.length > 0 ? (
        <ul className="plain-list">
          {custom.map((m) => (
            <li key={m.id}>
              {m.name} <span className="hint">({m.kind}, unverified)</span>{' '}
              <button type="button" className="ghost" onClick={() => removeCustomModel(m.id)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function CacheManager() {
  const {
    models: { clearModelCache, deleteCachedModel, refreshModelCache },
  } = useActions();
  const records = useStore((s) => s.cachedModels);
  const storage = useStore((s) => s.storage);
  const custom = useStore((s) => s.customModels);
  useEffect(() => {
    void refreshModelCache();
  }, [refreshModelCache]);
  const total = records.reduce((s, r) => s + r.bytes, 0);
  return (
    <div className="model-cache" data-testid="model-cache" data-count={records.length}>
      <h3>Cached models</h3>
      <p className="hint" data-testid="storage-usage">
        {formatBytes(total)} of models
        {storage ? ` · this site uses ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} allowed` : ''}
      </p>
      {records.length === 0 ? (
        <p className="hint">No downloaded models yet. The built-in tiny models need none.</p>
      ) : null}
      <ul className="plain-list">
        {records.map((r) => (
          <li key={r.modelId} data-testid="model-cache-item" data-model={r.modelId}>
            <strong>{findModel(r.modelId, custom)?.name ?? r.name}</strong> · {formatBytes(r.bytes)} · {r.files.length}{' '}
            files · last used {new Date(r.lastUsed).toLocaleString()}{' '}
            <button type="button" data-testid="model-cache-delete" onClick={() => void deleteCachedModel(r.modelId)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {records.length > 0 ? (
        <button type="button" data-testid="model-cache-clear" onClick={() => void clearModelCache()}>
          Delete all cached models
        </button>
      ) : null}
    </div>
  );
}

/** An original single-file checkpoint from disk, and what the file itself does not say. */
function CheckpointFile() {
  const {
    models: { addCheckpointFile },
  } = useActions();
  const custom = useStore((s) => s.customModels);
  const choice = useStore((s) => s.checkpointChoice);
  const busy = useStore(selectBusy);
  const change = useStore((s) => s.checkpointChoiceChanged);
  const error = useStore((s) => (s.customModelError?.from === 'file' ? s.customModelError.message : null));
  // Diffusers checkpoints (config.json per network) can lend their configs, as diffusers' `config=`.
  const withConfigs = catalog(custom).filter((m) => m.components.format === 'safetensors');
  return (
    <div className="checkpoint-file">
      <h3>Open a checkpoint file</h3>
      <p className="hint">
        One .safetensors file of Stable Diffusion 1.x, 2.x or XL, as A1111 and ComfyUI keep them (or drop it on the
        page). It is read in place, never uploaded or copied, so after a reload pick it again.
      </p>
      <label>
        Prediction type{' '}
        <select
          data-testid="checkpoint-prediction"
          value={choice.prediction}
          onChange={(e) => change({ prediction: e.target.value === 'v_prediction' ? 'v_prediction' : 'epsilon' })}
        >
          <option value="epsilon">epsilon (SD 1.x, SD 2 base, inpainting, depth)</option>
          <option value="v_prediction">v-prediction (SD 2.x 768-v models)</option>
        </select>
      </label>{' '}
      <label>
        Configs from{' '}
        <select
          data-testid="checkpoint-configs"
          value={choice.configsFrom ?? ''}
          onChange={(e) => change({ configsFrom: e.target.value || null })}
        >
          <option value="">Stable Diffusion&apos;s own (for full-size SD 1.x/2.x/XL files)</option>
          {withConfigs.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </label>{' '}
      <label className="file-button">
        Pick a checkpoint file…
        <input
          data-testid="checkpoint-input"
          type="file"
          accept=".safetensors,.ckpt,.pt,.pth,.bin"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void addCheckpointFile(file);
            e.target.value = '';
          }}
        />
      </label>
      <AddError message={error} />
    </div>
  );
}

/**
 * The VAE models decode with (A1111's "SD VAE"): each model's own, the catalog's, or one added by
 * repo id, folder URL or file. A VAE for the other family is not used, and the panel says so.
 */
function VaeChoice() {
  const {
    vaes: { chooseVae, addVae, addVaeFile },
  } = useActions();
  const [text, setText] = useState('');
  const choice = useStore((s) => s.vaeChoice);
  const custom = useStore((s) => s.customVaes);
  const error = useStore((s) => s.vaeError);
  const busy = useStore(selectBusy);
  const model = useStore((s) => findModel(s.modelId, s.customModels));
  const chosen = findVae(choice, custom);
  const misfit = chosen && model ? vaeMisfit(chosen, model) : null;
  return (
    <div className="vae-choice">
      <h3>VAE</h3>
      <p className="hint">
        What turns latents into pictures. SDXL&apos;s fp16-fix VAE decodes in float16 where SDXL&apos;s own must use
        float32. A VAE folder (config.json and its safetensors) by repo id or URL, or a VAE file; it is used by models
        of its family.
      </p>
      <select
        data-testid="vae-select"
        aria-label="VAE"
        value={choice ?? ''}
        disabled={busy}
        onChange={(e) => chooseVae(e.target.value || null)}
      >
        <option value="">The model&apos;s own VAE</option>
        {vaeChoices(custom).map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
            {v.family ? ` · for ${v.family === 'sdxl' ? 'SDXL' : 'SD 1.x/2.x'}` : ''}
            {v.approxBytes ? ` · ${formatBytes(v.approxBytes)}` : ''}
          </option>
        ))}
      </select>
      {chosen && (
        <p className="hint" data-testid="vae-note">
          {misfit ?? `Licence: ${chosen.licence}.`}
        </p>
      )}
      <form
        className="with-button"
        onSubmit={(e) => {
          e.preventDefault();
          if (addVae(text)) setText('');
        }}
      >
        <input
          data-testid="vae-input"
          type="text"
          placeholder="owner/name or https://… (a VAE folder)"
          value={text}
          aria-label="VAE repo id or URL"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" data-testid="vae-add" disabled={busy || text.trim() === ''}>
          Add VAE
        </button>
      </form>
      <label className="file-button">
        Pick a VAE file…
        <input
          data-testid="vae-file"
          type="file"
          accept=".safetensors"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) addVaeFile(file);
            e.target.value = '';
          }}
        />
      </label>
      {error && (
        <div className="error compact" role="alert" data-testid="vae-error">
          {error}
        </div>
      )}
    </div>
  );
}

/** Adding models and managing their storage. */
export function ModelManager() {
  return (
    <details className="models-panel" data-testid="models-panel">
      <summary>Models and storage</summary>
      <div className="models-body">
        <CustomModel />
        <CheckpointFile />
        <VaeChoice />
        <CacheManager />
      </div>
    </details>
  );
}
