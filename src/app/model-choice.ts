/** Choosing a model and a mode: each model's defaults, and a model that can run the chosen mode. */
import type { AppMode } from '../core/modes';
import { findModel, modelForMode, whyNot } from '../models/catalog';
import { useStore } from '../store';

/**
 * The person picks a model: its own defaults (SD-Turbo: 1 step, no guidance) replace steps,
 * guidance and size, and the notice says so, since a turbo model at 20 steps and CFG 7.5 makes
 * worse pictures slower.
 */
export function chooseModel(id: string, { announce = true }: { announce?: boolean } = {}): void {
  const store = useStore.getState();
  const entry = findModel(id, store.customModels);
  if (!entry || store.modelId === id) return;
  const previous = findModel(store.modelId, store.customModels);
  store.setSetting('modelId', id);
  const d = entry.defaults;
  // Between models with the same defaults (the tiny family), the person's own settings stay.
  const p = previous?.defaults;
  if (p && p.steps === d.steps && p.guidanceScale === d.guidanceScale && p.width === d.width && p.height === d.height)
    return;
  const changed =
    store.steps !== d.steps ||
    store.guidanceScale !== d.guidanceScale ||
    store.width !== d.width ||
    store.height !== d.height;
  if (!changed) return;
  store.defaultsApplied(d);
  if (!announce) return;
  store.say(
    `${entry.name}: its defaults are ${d.steps} step${d.steps === 1 ? '' : 's'}, guidance ${d.guidanceScale}, ${d.width}×${d.height}.`,
  );
}

/** Switches mode, and the model too when the current one cannot run the new mode (saying so). */
export function setMode(mode: AppMode): void {
  const store = useStore.getState();
  if (store.mode === mode) return;
  const other = modelForMode(store.modelId, mode, store.customModels);
  const current = findModel(store.modelId, store.customModels);
  store.modeChosen(
    mode,
    other?.id ?? null,
    other && current ? `Switched to ${other.name}: ${whyNot(current, mode)}` : null,
  );
}
