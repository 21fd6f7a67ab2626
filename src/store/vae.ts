/**
 * The VAE slice: which VAE models of its family decode with (A1111's "SD VAE"; null: each model's
 * own), the VAEs the person added, and why the last one could not be added.
 */
import type { StateCreator } from 'zustand';
import type { VaeEntry } from '../models/vae';

export interface VaeSlice {
  vaeChoice: string | null;
  customVaes: VaeEntry[];
  vaeError: string | null;
  vaeChosen: (id: string | null) => void;
  /** Adds (or replaces, by id) a VAE and chooses it. */
  vaeAdded: (vae: VaeEntry) => void;
  vaeFailed: (message: string | null) => void;
}

export const createVaeSlice: StateCreator<VaeSlice, [], [], VaeSlice> = (set) => ({
  vaeChoice: null,
  customVaes: [],
  vaeError: null,
  vaeChosen: (id) => set({ vaeChoice: id, vaeError: null }),
  vaeAdded: (vae) =>
    set((s) => ({
      customVaes: [...s.customVaes.filter((v) => v.id !== vae.id), vae],
      vaeChoice: vae.id,
      vaeError: null,
    })),
  vaeFailed: (message) => set({ vaeError: message }),
});
