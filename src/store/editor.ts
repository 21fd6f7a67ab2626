/** The editor slice: the image modes' inputs (start image, depth map, mask) as handles and numbers. */
import type { StateCreator } from 'zustand';
import type { InitImageInfo } from '../canvas/init-image';
import { jobAfterFix, type JobSlice } from './job';

export interface DepthInfo {
  width: number;
  height: number;
  source: 'estimated' | 'uploaded';
  /** The start image's version the map was estimated for (null: uploaded). */
  forImage: number | null;
}

export interface EditorSlice {
  /** The start image's name and size; its pixels live in canvas/init-image. */
  initImage: InitImageInfo | null;
  /** The depth map on hand for depth2img; its numbers live in canvas/depth-map. */
  depth: DepthInfo | null;
  /** True when the painted mask is in IndexedDB (it is saved shortly after the last stroke). */
  maskSaved: boolean;
  /** A problem with a file the person gave (image, mask, depth), shown beside its picker. */
  inputError: string | null;
  /** A new start image; a depth map estimated for another picture no longer applies. */
  initImageChanged: (info: InitImageInfo | null, depthStale: boolean) => void;
  depthChanged: (depth: DepthInfo | null) => void;
  maskSaveChanged: (saved: boolean) => void;
  inputFailed: (message: string | null) => void;
}

export const createEditorSlice: StateCreator<EditorSlice & Pick<JobSlice, 'job'>, [], [], EditorSlice> = (set) => ({
  initImage: null,
  depth: null,
  maskSaved: true,
  inputError: null,
  initImageChanged: (initImage, depthStale) =>
    set((s) => ({
      initImage,
      inputError: null,
      ...(depthStale ? { depth: null } : {}),
      // "Choose a start image first" is answered by choosing one.
      ...(initImage ? jobAfterFix(s.job, 'image', initImage) : {}),
    })),
  depthChanged: (depth) => set({ depth }),
  maskSaveChanged: (maskSaved) => set({ maskSaved }),
  inputFailed: (inputError) => set({ inputError }),
});
