import { APP_MODES, MODE_LABELS, type AppMode } from '../core/modes';
import { selectBusy, useStore } from '../store';
import { useActions } from './actions';

/** The pipeline to run; a mode the current model cannot run switches to one that can. */
export function ModeTabs() {
  const {
    choice: { setMode },
  } = useActions();
  const mode = useStore((s) => s.mode);
  const busy = useStore(selectBusy);
  const notice = useStore((s) => s.modelNotice);
  return (
    <nav className="mode-bar" aria-label="Mode">
      <div role="tablist" data-testid="mode" data-mode={mode} className="mode-tabs">
        {APP_MODES.map((m: AppMode) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            data-testid={`mode-${m}`}
            className={mode === m ? 'tab active' : 'tab'}
            disabled={busy}
            onClick={() => setMode(m)}
          >
            {MODE_LABELS[m]}
          </button>
        ))}
      </div>
      {notice ? (
        <span className="notice" data-testid="model-notice">
          {notice}
        </span>
      ) : null}
    </nav>
  );
}
