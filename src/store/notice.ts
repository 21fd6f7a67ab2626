/** The notice slice: one line about something the app did for the person (settings restored, …). */
import type { StateCreator } from 'zustand';

export interface NoticeSlice {
  notice: string | null;
  say: (notice: string | null) => void;
}

export const createNoticeSlice: StateCreator<NoticeSlice, [], [], NoticeSlice> = (set) => ({
  notice: null,
  say: (notice) => set({ notice }),
});
