/**
 * Actions on the image inputs: the start image (file, drop, paste, last result), the mask
 * (upload) and the depth map (estimate, upload). Pixels stay in the canvas modules; the store
 * learns names, sizes and errors.
 */
import { ValidationError, serializeError } from '../core/errors';
import type { Mode } from '../core/modes';
import { clearDepth, depthForRequest, depthFromImageData, setDepth } from '../canvas/depth-map';
import {
  decodeImageFile,
  initImageInfo,
  loadInitImage,
  loadInitImageFromPixels,
  onInitImageChange,
  placement,
  renderInitImage,
} from '../canvas/init-image';
import { mask, maskChanged, maskForRequest, onMaskChange } from '../canvas/mask';
import { pngWithParameters } from '../canvas/png-export';
import { loadSessionItem, saveSessionItem, type SavedMask } from '../storage/session-db';
import { currentResult } from '../canvas/result-surface';
import type { DepthResult, GenerateParams } from '../protocol/messages';
import type { AppStore } from '../store';
import type { WorkerSession } from './worker-session';

export type ImageActions = ReturnType<typeof createImageActions>;

export function createImageActions({ store, session }: { store: AppStore; session: WorkerSession }) {
  function reportInputError(error: unknown): void {
    store.getState().inputFailed(serializeError(error).message);
  }

  onInitImageChange((info) => {
    const st = store.getState();
    // An estimated depth map belongs to the picture it came from; an uploaded one stays.
    const stale = st.depth?.source === 'estimated';
    if (stale) clearDepth();
    st.initImageChanged(info, stale);
  });

  /** Kept in IndexedDB so a reload does not lose the picture (or the mask painted on it). */
  function saveInitImage(blob: Blob, name: string): void {
    void saveSessionItem('initImage', { blob, name }).catch(() => undefined);
  }

  async function chooseInitImage(file: File): Promise<void> {
    try {
      await loadInitImage(file);
      saveInitImage(file, file.name || 'pasted image');
    } catch (error) {
      reportInputError(error);
    }
  }

  let maskSaveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Saves the mask 300 ms after the last stroke; `maskSaved` says when what is painted is kept. */
  onMaskChange(() => {
    clearTimeout(maskSaveTimer);
    store.getState().maskSaveChanged(false);
    maskSaveTimer = setTimeout(() => {
      const saved: SavedMask = { width: mask.width, height: mask.height, data: mask.data.slice() };
      saveSessionItem('mask', saved).then(
        () => store.getState().maskSaveChanged(true),
        () => undefined,
      );
    }, 300);
  });

  /** Puts back the start image and the mask from the last visit. */
  async function restoreImageSession(): Promise<void> {
    try {
      const saved = await loadSessionItem<{ blob: Blob; name: string }>('initImage');
      if (saved) await loadInitImage(new File([saved.blob], saved.name, { type: saved.blob.type || 'image/png' }));
      const savedMask = await loadSessionItem<SavedMask>('mask');
      if (savedMask) {
        mask.restore(savedMask.data, savedMask.width, savedMask.height);
        maskChanged();
      }
    } catch {
      // Nothing saved, or storage unavailable: start empty.
    }
  }

  async function startFromLastResult(): Promise<void> {
    const result = currentResult();
    if (!result) {
      reportInputError(new ValidationError('There is no result yet to start from.', 'image'));
      return;
    }
    const name = `result (seed ${store.getState().result?.settings.seed ?? '?'})`;
    await loadInitImageFromPixels(result, name);
    saveInitImage(await pngWithParameters(result, null), name);
  }

  /** Sets width and height to the picture's aspect ratio, keeping the longer side, in multiples of 8. */
  function matchImageAspect(): void {
    const info = initImageInfo();
    if (!info) return;
    const { width, height, setSetting } = store.getState();
    const longest = Math.max(width, height, 64);
    const scale = longest / Math.max(info.width, info.height);
    setSetting('width', Math.max(64, Math.round((info.width * scale) / 8) * 8));
    setSetting('height', Math.max(64, Math.round((info.height * scale) / 8) * 8));
  }

  /** Draws a picture file into a width×height frame with the start image's crop or fit. */
  async function fileToFrame(file: File, width: number, height: number): Promise<ImageData> {
    const bitmap = await decodeImageFile(file);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const p = placement(bitmap.width, bitmap.height, width, height, store.getState().resizeMode);
    ctx.drawImage(bitmap, p.x, p.y, p.w, p.h);
    bitmap.close();
    return ctx.getImageData(0, 0, width, height);
  }

  /** A mask picture: bright (≥ 50 %) = repaint, placed like the start image, at the output size. */
  async function uploadMask(file: File): Promise<void> {
    try {
      const { width, height } = store.getState();
      const frame = await fileToFrame(file, width, height);
      const bytes = new Uint8Array(width * height);
      for (let i = 0; i < bytes.length; i++) {
        const d = frame.data;
        const luma = 0.299 * d[i * 4]! + 0.587 * d[i * 4 + 1]! + 0.114 * d[i * 4 + 2]!;
        bytes[i] = (luma * d[i * 4 + 3]!) / 255 >= 128 ? 255 : 0;
      }
      mask.resize(width, height);
      mask.load(bytes, width, height);
      maskChanged();
      store.getState().inputFailed(null);
    } catch (error) {
      reportInputError(error);
    }
  }

  async function uploadDepth(file: File): Promise<void> {
    try {
      const bitmap = await decodeImageFile(file);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(bitmap, 0, 0);
      const { values, pixels } = depthFromImageData(ctx.getImageData(0, 0, bitmap.width, bitmap.height));
      setDepth(values, pixels, bitmap.width, bitmap.height);
      store.getState().depthChanged({ width: bitmap.width, height: bitmap.height, source: 'uploaded', forImage: null });
      store.getState().inputFailed(null);
      bitmap.close();
    } catch (error) {
      reportInputError(error);
    }
  }

  function clearDepthMap(): void {
    clearDepth();
    store.getState().depthChanged(null);
  }

  /** Shows a depth map from the worker; `source` says whether the estimator made it or the person gave it. */
  function showDepthResult(depth: DepthResult, source: 'estimated' | 'uploaded'): void {
    setDepth(new Float32Array(depth.data), new Uint8ClampedArray(depth.pixels), depth.width, depth.height);
    store.getState().depthChanged({
      width: depth.width,
      height: depth.height,
      source,
      forImage: initImageInfo()?.version ?? null,
    });
  }

  /** Runs the loaded depth model's estimator on the start image now, to see the map before generating. */
  async function estimateDepthNow(): Promise<void> {
    const { width, height, resizeMode } = store.getState();
    const image = renderInitImage(width, height, resizeMode);
    if (!image) {
      reportInputError(new ValidationError('Choose a start image first.', 'image'));
      return;
    }
    try {
      await session.ensureModel();
      const depth = await session.client.request('estimateDepth', {
        image: { width, height, pixels: image.pixels.buffer as ArrayBuffer },
      });
      showDepthResult(depth, 'estimated');
      store.getState().inputFailed(null);
    } catch (error) {
      reportInputError(error);
    }
  }

  /** The image-mode parts of a generate request, read from the canvases at the output size. */
  function buildImageInputs(mode: Mode, width: number, height: number): Partial<GenerateParams> {
    if (mode === 'txt2img') return {};
    const st = store.getState();
    const image = renderInitImage(width, height, st.resizeMode);
    if (!image) {
      throw new ValidationError(
        'This mode starts from an image: choose a file, drop or paste one, or use the last result.',
        'image',
      );
    }
    const inputs: Partial<GenerateParams> = {
      image: { width, height, pixels: image.pixels.buffer as ArrayBuffer },
    };
    if (mode === 'inpaint') {
      mask.resize(width, height);
      if (mask.isEmpty) {
        throw new ValidationError('Paint the part to repaint (white) on the picture first, or upload a mask.', 'mask');
      }
      inputs.mask = maskForRequest();
      inputs.pasteBack = st.pasteBack;
    }
    if (mode === 'depth2img') {
      const depth = depthForRequest();
      if (depth) inputs.depth = depth;
    }
    return inputs;
  }

  return {
    chooseInitImage,
    restoreImageSession,
    startFromLastResult,
    matchImageAspect,
    uploadMask,
    uploadDepth,
    clearDepthMap,
    showDepthResult,
    estimateDepthNow,
    buildImageInputs,
  };
}
