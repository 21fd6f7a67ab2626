/** The notice slice: one line about something the app did for the person (settings restored, …). */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export interface NoticeSlice {
  notice: string | null;
  say: (notice: string | null) => void;
}

export const createNoticeSlice: StateCreator<AppState, [], [], NoticeSlice> = (set) => ({
  notice: null,
  say: (notice) => set({ notice }),
});
