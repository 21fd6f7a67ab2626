/** LoRAs: add a file, set each one's strength, remove it. */
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store';
import { FileButton } from './FileButton';
import { useActions } from './actions';
import { LORA_MAX, LORA_MIN } from '../app/lora-actions';

export function LoraPanel() {
  const {
    loras: { addEmbeddingFile, addLoraFile, removeEmbedding, removeLora, setEmbeddingTrigger, setLoraScale },
  } = useActions();
  const loras = useStore(useShallow((s) => s.loras));
  const error = useStore((s) => s.loraError);
  const embeddings = useStore(useShallow((s) => s.embeddings));
  return (
    <div className="lora-panel" data-testid="lora-panel" data-count={loras.length}>
      <div className="panel-title">LoRA</div>
      {loras.length === 0 ? (
        <div className="hint">
          A LoRA (.safetensors, kohya or diffusers layout) restyles the model; add one or drop it on the page.
        </div>
      ) : (
        <ul className="lora-list">
          {loras.map((l) => (
            <li key={l.name} data-testid="lora-item" data-name={l.name}>
              <label className="lora-name" htmlFor={`lora-${l.name}`}>
                {l.name} <span className="lora-value">{l.scale.toFixed(2)}</span>
              </label>
              <input
                id={`lora-${l.name}`}
                data-testid="lora-strength"
                type="range"
                min={LORA_MIN}
                max={LORA_MAX}
                step={0.05}
                value={l.scale}
                aria-label={`Strength of ${l.name}`}
                onChange={(e) => setLoraScale(l.name, Number(e.target.value))}
              />
              <button type="button" data-testid="lora-remove" onClick={() => void removeLora(l.name)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <FileButton
        testId="lora-input"
        label="Add LoRA…"
        accept=".safetensors"
        onFile={(file) => void addLoraFile(file)}
      />
      <div className="panel-title">Embeddings</div>
      {embeddings.length > 0 ? (
        <ul className="lora-list">
          {embeddings.map((e) => (
            <li key={e.name} data-testid="embedding-item" data-name={e.name}>
              <label className="lora-name" htmlFor={`embedding-${e.name}`}>
                {e.name}: write this word in a prompt
              </label>
              <input
                id={`embedding-${e.name}`}
                data-testid="embedding-trigger"
                type="text"
                value={e.trigger}
                onChange={(ev) => setEmbeddingTrigger(e.name, ev.target.value)}
              />
              <button type="button" data-testid="embedding-remove" onClick={() => void removeEmbedding(e.name)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <div className="hint">A textual-inversion embedding (.safetensors) adds a word the text encoder knows.</div>
      )}
      <FileButton
        testId="embedding-input"
        label="Add embedding…"
        accept=".safetensors"
        onFile={(file) => void addEmbeddingFile(file)}
      />
      {error ? (
        <div className="error compact" role="alert" data-testid="lora-error">
          {error}
        </div>
      ) : null}
    </div>
  );
}
