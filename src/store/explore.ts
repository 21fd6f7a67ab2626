/** The explore slice: the pipeline made visible (tokens, the VAE round trip's numbers). */
import type { StateCreator } from 'zustand';
import type { TokenView } from '../protocol/messages';

export interface RoundTripInfo {
  width: number;
  height: number;
  channels: number;
  latentWidth: number;
  latentHeight: number;
  meanAbsError: number;
  psnr: number;
  source: string;
}

export interface ExploreSlice {
  /** The prompt as the loaded model's tokenizer sees it. */
  tokens: (TokenView & { text: string }) | null;
  /** The last VAE round trip's numbers (pixels in canvas/round-trip). */
  roundTrip: RoundTripInfo | null;
  tokensShown: (tokens: (TokenView & { text: string }) | null) => void;
  roundTripShown: (roundTrip: RoundTripInfo | null) => void;
}

export const createExploreSlice: StateCreator<ExploreSlice, [], [], ExploreSlice> = (set) => ({
  tokens: null,
  roundTrip: null,
  tokensShown: (tokens) => set({ tokens }),
  roundTripShown: (roundTrip) => set({ roundTrip }),
});
