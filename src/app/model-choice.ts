/** Choosing a model and a mode: each model's defaults, and a model that can run the chosen mode. */
import type { AppMode } from '../core/modes';
import { findModel, modelForMode, whyNot } from '../models/catalog';
import type { AppStore } from '../store';

export type ModelChoice = ReturnType<typeof createModelChoice>;

export function createModelChoice({ store }: { store: AppStore }) {
  /**
   * The person picks a model: its own defaults (SD-Turbo: 1 step, no guidance) replace steps,
   * guidance and size, and the notice says so, since a turbo model at 20 steps and CFG 7.5 makes
   * worse pictures slower.
   */
  function chooseModel(id: string, { announce = true }: { announce?: boolean } = {}): void {
    const st = store.getState();
    const entry = findModel(id, st.customModels);
    if (!entry || st.modelId === id) return;
    const previous = findModel(st.modelId, st.customModels);
    st.setSetting('modelId', id);
    const d = entry.defaults;
    // Between models with the same defaults (the tiny family), the person's own settings stay.
    const p = previous?.defaults;
    if (p && p.steps === d.steps && p.guidanceScale === d.guidanceScale && p.width === d.width && p.height === d.height)
      return;
    const changed =
      st.steps !== d.steps || st.guidanceScale !== d.guidanceScale || st.width !== d.width || st.height !== d.height;
    if (!changed) return;
    st.defaultsApplied(d);
    if (!announce) return;
    st.say(
      `${entry.name}: its defaults are ${d.steps} step${d.steps === 1 ? '' : 's'}, guidance ${d.guidanceScale}, ${d.width}×${d.height}.`,
    );
  }

  /** Switches mode, and the model too when the current one cannot run the new mode (saying so). */
  function setMode(mode: AppMode): void {
    const st = store.getState();
    if (st.mode === mode) return;
    const other = modelForMode(st.modelId, mode, st.customModels);
    const current = findModel(st.modelId, st.customModels);
    st.modeChosen(
      mode,
      other?.id ?? null,
      other && current ? `Switched to ${other.name}: ${whyNot(current, mode)}` : null,
    );
  }

  return { chooseModel, setMode };
}
