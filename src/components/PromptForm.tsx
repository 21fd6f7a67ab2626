import { LoraPanel } from './LoraPanel';
import { ControlNetPanel } from './ControlNetPanel';
import { isSchedulerName, karrasLabels, schedulerLabel } from '../core/schedulers';
import { SCHEDULER_NAMES } from '../core/schedulers/types';
import { useShallow } from 'zustand/react/shallow';
import { useStore, selectSchedulerShown } from '../store';
import { Field } from './Field';
import { NumberSetting } from './NumberSetting';
import { findModel } from '../models/catalog';
import { ASPECT_RATIOS, aspectSize } from '../app/aspect';
import { isPromptSyntax } from '../core/prompt/syntax';
import { isHiresUpscaler } from '../core/generation-settings';
import { hiresSize } from '../core/validate';
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
 * The scheduler: the person's choice, or the selected model's own, named as soon as it is known
 * (before loading for the app's own models, once loaded for the others). "Model default" goes back
 * to the model's own.
 */
function SchedulerSelect({ invalid }: { invalid: true | undefined }) {
  const shown = useStore(selectSchedulerShown);
  const chosen = useStore((s) => s.schedulerChosen);
  const setSetting = useStore((s) => s.setSetting);
  const unchoose = useStore((s) => s.schedulerUnchosen);
  const own = chosen ? null : shown;
  return (
    <Field label="Scheduler" htmlFor="scheduler" hint={chosen ? undefined : "The model's own default."}>
      <select
        id="scheduler"
        data-testid="scheduler"
        aria-invalid={invalid}
        value={shown ?? ''}
        onChange={(e) => {
          const value = e.target.value;
          if (isSchedulerName(value)) setSetting('scheduler', value);
          else unchoose();
        }}
      >
        {shown === null ? <option value="">Model default (named once it loads)</option> : null}
        {shown !== null && chosen ? <option value="">Model default</option> : null}
        {SCHEDULER_NAMES.map((name) => (
          <option key={name} value={name}>
            {schedulerLabel(name)}
            {name === own ? ' (model default)' : ''}
          </option>
        ))}
      </select>
    </Field>
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

/** Sizes of common aspect ratios at the selected model's native size, in the current orientation. */
function AspectPresets() {
  const native = useStore((s) => findModel(s.modelId, s.customModels)?.nativeSize ?? 512);
  const portrait = useStore((s) => s.height > s.width);
  const setSetting = useStore((s) => s.setSetting);
  return (
    <div className="aspect-presets" data-testid="aspect-presets" role="group" aria-label="Aspect ratio">
      <span className="hint">Aspect</span>
      {ASPECT_RATIOS.map((ratio) => {
        const size = aspectSize(native, ratio);
        const [width, height] = portrait ? [size.height, size.width] : [size.width, size.height];
        const label = portrait ? `${ratio[1]}:${ratio[0]}` : `${ratio[0]}:${ratio[1]}`;
        return (
          <button
            key={label}
            type="button"
            className="ghost"
            title={`${width}×${height}`}
            onClick={() => {
              setSetting('width', width);
              setSetting('height', height);
            }}
          >
            {label}
          </button>
        );
      })}
    </div>
  );
}

/**
 * The model's safety checker, on by default where the model ships one; off by choice per model
 * (remembered), shown on and locked where the site requires it.
 */
function SafetyCheckerSetting() {
  const modelId = useStore((s) => s.modelId);
  const required = useStore((s) => s.safetyRequired);
  const off = useStore((s) => s.safetyCheckerOff.includes(s.modelId));
  const has = useStore(
    (s) =>
      findModel(s.modelId, s.customModels)?.safetyChecker !== undefined ||
      (s.model?.modelId === s.modelId && s.model.safetyChecker !== null),
  );
  const toggle = useStore((s) => s.safetyCheckerToggled);
  if (!has && !required && !off) return null;
  return (
    <label
      className="inline"
      title={required ? 'This site requires the safety checker for every model.' : 'For this model; remembered.'}
    >
      <input
        data-testid="safety-checker"
        type="checkbox"
        checked={required || !off}
        disabled={required}
        onChange={(e) => toggle(modelId, e.target.checked)}
      />
      <span>Safety checker{required ? ' (required by this site)' : ' for this model'}</span>
    </label>
  );
}

/** How the prompt is read (A1111's weights, BREAK and long prompts, or plain text) and clip skip. */
function PromptSyntaxSettings() {
  const syntax = useStore((s) => s.promptSyntax);
  const setSetting = useStore((s) => s.setSetting);
  return (
    <div className="row">
      <Field
        label="Prompt syntax"
        htmlFor="prompt-syntax"
        hint={
          syntax === 'a1111'
            ? '(word:1.3), [word], BREAK; long prompts in 75-token chunks.'
            : 'Literal text, cut at 77 tokens (diffusers).'
        }
      >
        <select
          id="prompt-syntax"
          data-testid="prompt-syntax"
          value={syntax}
          onChange={(e) => setSetting('promptSyntax', isPromptSyntax(e.target.value) ? e.target.value : 'a1111')}
        >
          <option value="a1111">A1111</option>
          <option value="plain">plain</option>
        </select>
      </Field>
      <NumberSetting
        setting="clipSkip"
        id="clip-skip"
        label="Clip skip"
        hint="1 is the last layer; 2 the one before."
        min={1}
        max={12}
      />
    </div>
  );
}

/** A1111's hires fix (txt2img): the picture made at the set size, upscaled, then refined by img2img. */
function HiresFixSettings() {
  const on = useStore((s) => s.hiresFix);
  const upscaler = useStore((s) => s.hiresUpscaler);
  const size = useStore(useShallow((s) => ({ width: s.width, height: s.height, scale: s.hiresScale })));
  const setSetting = useStore((s) => s.setSetting);
  const target = Number.isFinite(size.scale) ? hiresSize(size, size.scale) : null;
  return (
    <fieldset className="hires">
      <label className="inline">
        <input
          data-testid="hires-fix"
          type="checkbox"
          checked={on}
          onChange={(e) => setSetting('hiresFix', e.target.checked)}
        />
        <span>
          Hires fix
          {on && target ? ` → ${target.width}×${target.height}` : ''}
        </span>
      </label>
      {on ? (
        <>
          <div className="row">
            <Field label="Upscaler" htmlFor="hires-upscaler">
              <select
                id="hires-upscaler"
                data-testid="hires-upscaler"
                value={upscaler}
                onChange={(e) =>
                  setSetting('hiresUpscaler', isHiresUpscaler(e.target.value) ? e.target.value : 'latent')
                }
              >
                <option value="latent">Latent</option>
                <option value="lanczos">Lanczos</option>
              </select>
            </Field>
            <NumberSetting setting="hiresScale" id="hires-scale" label="Upscale by" min={1} max={4} step={0.05} />
          </div>
          <div className="row">
            <NumberSetting
              setting="hiresSteps"
              id="hires-steps"
              label="Hires steps"
              hint="0: as many as the first pass."
              min={0}
              max={150}
            />
            <NumberSetting
              setting="hiresDenoise"
              id="hires-denoise"
              label="Denoising strength"
              min={0}
              max={1}
              step={0.05}
            />
          </div>
        </>
      ) : null}
    </fieldset>
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

/** The form's id: the action bar's Generate submits it from outside (see ActionBar). */
export const CONTROLS_FORM = 'controls';

export function PromptForm() {
  const {
    run: { generate, newSeed },
  } = useActions();
  const s = useStore(
    useShallow((st) => ({
      prompt: st.prompt,
      negativePrompt: st.negativePrompt,
      seed: st.seed,
      setSetting: st.setSetting,
      sizeSwapped: st.sizeSwapped,
    })),
  );
  const mode = useStore((st) => st.mode);
  const errorField = useStore((st) => st.job.error?.field);
  // An LCM UNet takes guidance as an embedding: its pipeline has no unconditional half to steer.
  const guidanceEmbedded = useStore((st) => (st.model?.info.guidanceEmbedDim ?? null) !== null);
  const invalid = (field: string) => (errorField === field ? true : undefined);

  return (
    <form
      id={CONTROLS_FORM}
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
      {mode === 'txt2img' || mode === 'img2img' || mode === 'inpaint' ? <ControlNetPanel /> : null}
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
      <AspectPresets />
      <SchedulerSelect invalid={invalid('scheduler')} />
      <KarrasToggle />
      <SafetyCheckerSetting />
      <PromptSyntaxSettings />
      {mode === 'txt2img' ? <HiresFixSettings /> : null}
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
    </form>
  );
}
