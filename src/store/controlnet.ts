/**
 * The ControlNet slice: up to three ControlNet units, each with the ControlNet it names (typed, or
 * a picked file), what happened when it loaded, where its picture comes from, the preprocessor and
 * the weight and range it runs with. Pictures and scribbles live in canvas/control-images.
 */
import type { StateCreator } from 'zustand';
import type { ControlNetRecord } from '../core/generation-settings';
import type { ControlPreprocessor, LoadControlNetResult } from '../protocol/messages';

/** Where a unit's control picture comes from (a scribble is drawn on the page whatever this says). */
export type ControlImageSource = 'upload' | 'start';

export interface ControlUnit {
  key: number;
  /** What the person typed: a repo id or a folder URL. */
  input: string;
  /** The ControlNet in the worker (null: none yet, or it must be loaded again). */
  net: LoadControlNetResult | null;
  /** Said while loading: the download size and licence (or "reading the file"). */
  status: string | null;
  loading: boolean;
  error: string | null;
  source: ControlImageSource;
  /** The uploaded picture's name (its pixels are in canvas/control-images). */
  imageName: string | null;
  preprocessor: ControlPreprocessor;
  cannyLow: number;
  cannyHigh: number;
  /** controlnet_conditioning_scale, A1111's weight. */
  scale: number;
  start: number;
  end: number;
}

export interface ControlNetSlice {
  controlUnits: ControlUnit[];
  /** A1111's "ControlNet is more important" (diffusers' guess_mode), for every unit. */
  controlGuessMode: boolean;
  controlUnitAdded: () => void;
  controlUnitChanged: (key: number, patch: Partial<Omit<ControlUnit, 'key'>>) => void;
  controlUnitRemoved: (key: number) => void;
  controlGuessModeSet: (on: boolean) => void;
  /**
   * A picture's ControlNets put back: a unit whose loaded ControlNet has the recorded name keeps it
   * and takes the settings; the others become units naming it, to load (the picture is not kept).
   */
  controlUnitsRestored: (records: readonly ControlNetRecord[], guessMode: boolean) => void;
}

export const MAX_CONTROL_UNITS = 3;

let nextKey = 1;

export function newControlUnit(): ControlUnit {
  return {
    key: nextKey++,
    input: '',
    net: null,
    status: null,
    loading: false,
    error: null,
    source: 'upload',
    imageName: null,
    preprocessor: 'none',
    cannyLow: 100,
    cannyHigh: 200,
    scale: 1,
    start: 0,
    end: 1,
  };
}

export const createControlNetSlice: StateCreator<ControlNetSlice, [], [], ControlNetSlice> = (set) => ({
  controlUnits: [newControlUnit()],
  controlGuessMode: false,
  controlUnitAdded: () =>
    set((s) =>
      s.controlUnits.length >= MAX_CONTROL_UNITS ? {} : { controlUnits: [...s.controlUnits, newControlUnit()] },
    ),
  controlUnitChanged: (key, patch) =>
    set((s) => ({ controlUnits: s.controlUnits.map((u) => (u.key === key ? { ...u, ...patch } : u)) })),
  // The last unit is emptied rather than removed: the panel always has one to fill in.
  controlUnitRemoved: (key) =>
    set((s) => {
      const rest = s.controlUnits.filter((u) => u.key !== key);
      return { controlUnits: rest.length > 0 ? rest : [newControlUnit()] };
    }),
  controlGuessModeSet: (controlGuessMode) => set({ controlGuessMode }),
  controlUnitsRestored: (records, controlGuessMode) =>
    set((s) => ({
      controlGuessMode,
      controlUnits: records.slice(0, MAX_CONTROL_UNITS).map((r) => {
        // A1111 writes the model with its hash: "control_v11p_sd15_canny [d14c016b]".
        const name = r.model.replace(/\s*\[[0-9a-f]+\]$/i, '');
        const loaded = s.controlUnits.find((u) => u.net?.name === name);
        return {
          ...(loaded ?? { ...newControlUnit(), input: name }),
          preprocessor: r.module,
          scale: r.weight,
          start: r.start,
          end: r.end,
          ...(r.cannyLow !== undefined ? { cannyLow: r.cannyLow } : {}),
          ...(r.cannyHigh !== undefined ? { cannyHigh: r.cannyHigh } : {}),
        };
      }),
    })),
});

/** The units that take part in a run: a ControlNet that loaded (the actions load it again for a new worker), weight above 0. */
export const activeControlUnits = (units: readonly ControlUnit[]): ControlUnit[] =>
  units.filter((u) => u.net !== null && u.scale > 0);
