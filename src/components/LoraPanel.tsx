/** LoRAs: add a file, set each one's strength, remove it. */
import { useShallow } from 'zustand/react/shallow';
import { addLoraFile, LORA_MAX, LORA_MIN, removeLora, setLoraScale } from '../app/lora-actions';
import { useStore } from '../store';
import { FileButton } from './FileButton';

export function LoraPanel() {
  const loras = useStore(useShallow((s) => s.loras));
  const error = useStore((s) => s.loraError);
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
      {error ? (
        <div className="error compact" role="alert" data-testid="lora-error">
          {error}
        </div>
      ) : null}
    </div>
  );
}
