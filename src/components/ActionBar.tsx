/**
 * Generate, Cancel and why the last Generate made nothing. Its own element after the start image,
 * so that on a phone it comes after the mask editor; sticky at the bottom of the window, so that
 * Generate is always in view while the settings scroll.
 */
import { useEffect, useRef } from 'react';
import { findModel } from '../models/catalog';
import { selectBusy, useStore } from '../store';
import { useActions } from './actions';
import { ErrorDetail } from './ErrorDetail';
import { CONTROLS_FORM } from './PromptForm';

/**
 * Why the last Generate did not make a picture, beside the button and scrolled into view: that is
 * where the eye is after pressing it (the result area's box may be off screen). It goes when the
 * setting at fault is fixed (see jobAfterFix) or the next run starts.
 */
function GenerateMessage() {
  const error = useStore((s) => (s.job.state === 'error' ? s.job.error : null));
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  if (!error) return null;
  return (
    <div ref={ref} className="generate-error" data-testid="generate-error" data-field={error.field ?? ''}>
      <p>{error.message}</p>
      <ErrorDetail detail={error.detail} />
      <BackToModel />
    </div>
  );
}

/** After the selected model failed to load (offline, a host down): one click back to the last one that worked. */
function BackToModel() {
  const last = useStore((s) => {
    const failedToLoad = s.model?.modelId !== s.modelId;
    const id = s.lastWorkingModelId;
    return failedToLoad && id && id !== s.modelId ? (findModel(id, s.customModels) ?? null) : null;
  });
  const choose = useStore((s) => s.modelChosenAfterFailure);
  if (!last) return null;
  return (
    <button type="button" className="ghost" data-testid="back-to-model" onClick={() => choose(last.id)}>
      Back to {last.name}
    </button>
  );
}

export function ActionBar() {
  const {
    run: { cancel },
  } = useActions();
  const busy = useStore(selectBusy);
  // A model being added (Load pressed) is what Generate will run: it waits for it.
  const adding = useStore((s) => s.addingModel);
  return (
    <div className="action-bar">
      <div className="actions">
        <button
          type="submit"
          form={CONTROLS_FORM}
          className="primary"
          data-testid="generate"
          disabled={busy || adding}
          title={adding ? 'Waiting for the model being added' : 'Generate (Ctrl+Enter)'}
        >
          {adding ? 'Adding the model…' : 'Generate'} <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
        </button>
        <button type="button" data-testid="cancel" disabled={!busy} onClick={cancel}>
          Cancel
        </button>
      </div>
      <GenerateMessage />
    </div>
  );
}
