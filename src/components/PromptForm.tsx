import { useEffect, useRef } from 'react';
import { LoraPanel } from './LoraPanel';
import { karrasLabels, schedulerLabel } from '../core/schedulers';
import { SCHEDULER_NAMES, type SchedulerName } from '../core/schedulers/types';
import { useShallow } from 'zustand/react/shallow';
import { useStore, selectBusy } from '../store';
import { Field } from './Field';
import { NumberSetting } from './NumberSetting';
import { useActions } from './actions';

const SIZES = [256, 320, 384, 448, 512, 576, 640, 768];

function CompareSettings() {
  const scales = useStore((s) => s.compareScales);
  const axis = useStore((s) => s.compareAxis);
  const values = useStore((s) => s.compareAxisValues);
  const setSetting = useStore((s) => s.setSetting);
  const errorField = useStore((s) => s.job.error?.field);
  return (
    <>
      <Field
        label="Guidance scales to compare"
        htmlFor="compare-scales"
        hint="One image per scale, same prompt and seed."
      >
        <input
          id="compare-scales"
          data-testid="compare-scales"
          type="text"
          value={scales}
          aria-invalid={errorField === 'compareScales' || undefined}
          onChange={(e) => setSetting('compareScales', e.target.value)}
        />
      </Field>
      <div className="row">
        <Field label="Second axis" htmlFor="compare-axis">
          <select
            id="compare-axis"
            data-testid="compare-axis"
            value={axis}
            onChange={(e) => setSetting('compareAxis', e.target.value as 'none' | 'steps' | 'scheduler')}
          >
            <option value="none">none</option>
            <option value="steps">steps</option>
            <option value="scheduler">scheduler</option>
          </select>
        </Field>
        {axis === 'none' ? (
          <NumberSetting setting="steps" id="steps" label="Steps" min={1} max={1000} />
        ) : (
          <Field label={axis === 'steps' ? 'Steps values' : 'Schedulers'} htmlFor="compare-axis-values">
            <input
              id="compare-axis-values"
              data-testid="compare-axis-values"
              type="text"
              placeholder={axis === 'steps' ? '10, 20' : 'pndm, euler'}
              value={values}
              aria-invalid={errorField === 'compareAxisValues' || undefined}
              onChange={(e) => setSetting('compareAxisValues', e.target.value)}
            />
          </Field>
        )}
      </div>
    </>
  );
}

/**
 * Why the last Generate did not make a picture, beside the button and scrolled into view: that is
 * where the eye is after pressing it (the result area's box may be off screen). It goes when the
 * setting at fault is fixed (see jobAfterFix) or the next run starts.
 */
function GenerateMessage() {
  const error = useStore((s) => (s.job.state === 'error' ? s.job.error : null));
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);
  if (!error) return null;
  return (
    <p ref={ref} className="generate-error" data-testid="generate-error" data-field={error.field ?? ''}>
      {error.message}
    </p>
  );
}

/** A1111's "… Karras" samplers: diffusers' use_karras_sigmas, for the schedulers that read it. */
function KarrasToggle() {
  const karras = useStore((s) => s.karras);
  const setSetting = useStore((s) => s.setSetting);
  const invalid = useStore((s) => s.job.error?.field === 'karras');
  return (
    <label className="inline" title={`Karras sigmas (${karrasLabels()})`}>
      <input
        data-testid="karras"
        type="checkbox"
        checked={karras}
        aria-invalid={invalid || undefined}
        onChange={(e) => setSetting('karras', e.target.checked)}
      />
      <span>Karras sigmas ({karrasLabels()})</span>
    </label>
  );
}

function LivePreviewToggle() {
  const live = useStore((s) => s.livePreview);
  const kind = useStore((s) => s.previewKind);
  const setSetting = useStore((s) => s.setSetting);
  return (
    <div className="row live-preview">
      <label className="inline">
        <input
          data-testid="live-preview"
          type="checkbox"
          checked={live}
          onChange={(e) => setSetting('livePreview', e.target.checked)}
        />
        <span>Live preview</span>
      </label>
      {live ? (
        <select
          aria-label="Preview kind"
          data-testid="live-preview-kind"
          value={kind}
          onChange={(e) => setSetting('previewKind', e.target.value as 'vae' | 'fast')}
        >
          <option value="vae">VAE decode</option>
          <option value="fast">fast projection</option>
        </select>
      ) : null}
    </div>
  );
}

export function PromptForm() {
  const {
    run: { cancel, generate, newSeed },
  } = useActions();
  const s = useStore(
    useShallow((st) => ({
      prompt: st.prompt,
      negativePrompt: st.negativePrompt,
      seed: st.seed,
      scheduler: st.scheduler,
      schedulerChosen: st.schedulerChosen,
      setSetting: st.setSetting,
      sizeSwapped: st.sizeSwapped,
    })),
  );
  const busy = useStore(selectBusy);
  // A model being added (Load pressed) is what Generate will run: it waits for it.
  const adding = useStore((s) => s.addingModel);
  const mode = useStore((st) => st.mode);
  const errorField = useStore((st) => st.job.error?.field);
  // An LCM UNet takes guidance as an embedding: its pipeline has no unconditional half to steer.
  const guidanceEmbedded = useStore((st) => (st.model?.info.guidanceEmbedDim ?? null) !== null);
  const invalid = (field: string) => (errorField === field ? true : undefined);

  return (
    <form
      className="controls"
      // Our own checks explain what is wrong and offer the nearest valid value; the browser's bubbles do not.
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void generate();
      }}
    >
      <Field label="Prompt" htmlFor="prompt">
        <textarea
          id="prompt"
          data-testid="prompt"
          rows={3}
          value={s.prompt}
          aria-invalid={invalid('prompt')}
          placeholder="What should the image show?"
          onChange={(e) => s.setSetting('prompt', e.target.value)}
        />
      </Field>
      <Field
        label="Negative prompt"
        htmlFor="negative-prompt"
        hint={
          guidanceEmbedded
            ? 'This model (LCM) has guidance built in and ignores the negative prompt, as diffusers does.'
            : 'What to steer away from (empty is fine).'
        }
      >
        <textarea
          id="negative-prompt"
          data-testid="negative-prompt"
          rows={2}
          value={s.negativePrompt}
          onChange={(e) => s.setSetting('negativePrompt', e.target.value)}
        />
      </Field>
      <LoraPanel />
      {mode === 'compare' ? (
        <CompareSettings />
      ) : (
        <div className="row">
          <NumberSetting
            setting="guidanceScale"
            id="guidance-scale"
            label="Guidance (CFG)"
            hint="1 or less turns guidance off."
            min={0}
            max={100}
            step={0.1}
          />
          <NumberSetting setting="steps" id="steps" label="Steps" min={1} max={1000} />
        </div>
      )}
      <Field
        label="Seed"
        htmlFor="seed"
        hint="The same seed and settings give the same image; -1 picks a new one each time."
      >
        <div className="with-button">
          <input
            id="seed"
            data-testid="seed"
            type="text"
            inputMode="numeric"
            autoComplete="off"
            value={s.seed}
            aria-invalid={invalid('seed')}
            onChange={(e) => s.setSetting('seed', e.target.value)}
          />
          <button type="button" className="ghost" data-testid="seed-random" onClick={newSeed} title="New random seed">
            New seed
          </button>
        </div>
      </Field>
      <div className="row">
        <NumberSetting setting="width" id="width" label="Width" min={64} max={2048} step={8} list="sizes" />
        <button
          type="button"
          className="ghost swap-size"
          data-testid="swap-size"
          title="Swap width and height"
          aria-label="Swap width and height"
          onClick={s.sizeSwapped}
        >
          ⇄
        </button>
        <NumberSetting setting="height" id="height" label="Height" min={64} max={2048} step={8} list="sizes" />
        <datalist id="sizes">
          {SIZES.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      </div>
      <Field label="Scheduler" htmlFor="scheduler" hint={s.schedulerChosen ? undefined : "The model's own default."}>
        <select
          id="scheduler"
          data-testid="scheduler"
          aria-invalid={invalid('scheduler')}
          value={s.scheduler}
          onChange={(e) => s.setSetting('scheduler', e.target.value as SchedulerName)}
        >
          {SCHEDULER_NAMES.map((name) => (
            <option key={name} value={name}>
              {schedulerLabel(name)}
            </option>
          ))}
        </select>
      </Field>
      <KarrasToggle />
      {mode === 'compare' || mode === 'explore' ? null : (
        <NumberSetting
          setting="batchCount"
          id="batch-count"
          label="Batch count"
          hint="Pictures per Generate, one after another: seed, seed + 1, …"
          min={1}
          max={16}
        />
      )}
      {mode === 'compare' || mode === 'explore' ? null : <LivePreviewToggle />}
      <div className="actions">
        <button
          type="submit"
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
    </form>
  );
}
