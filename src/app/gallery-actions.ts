/** The gallery: save every result, list, reuse, delete, download, and restore settings from a PNG. */
import { serializeError } from '../core/errors';
import type { GenerationSettings } from '../core/generation-settings';
import { parseParameters, type ParsedParameters } from '../core/formats/parameters-text';
import { readPngText } from '../core/formats/png-text';
import { parseLoraTags } from '../core/prompt/lora-tags';
import { downloadBlob, fileName, pngWithParameters } from '../canvas/png-export';
import { currentResult, showImage } from '../canvas/result-surface';
import { findModel } from '../models/catalog';
import { addEntry, deleteEntry, entryPng, listEntries, type GalleryEntry } from '../storage/gallery-db';
import type { AppStore } from '../store';
import type { ResultRecord } from '../store/job';
import { shownRecord } from './generation';

export type GalleryActions = ReturnType<typeof createGalleryActions>;

export function createGalleryActions({ store }: { store: AppStore }) {
  function say(notice: string): void {
    store.getState().say(notice);
  }

  /**
   * Other tabs of the app are told when the gallery changes, and reload it (IndexedDB has no change
   * events of its own): a new image in one tab shows in the others without a reload.
   */
  const galleryChannel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('latent-studio-gallery');
  galleryChannel?.addEventListener('message', () => void loadGallery());
  const announce = (): void => galleryChannel?.postMessage('changed');

  async function loadGallery(): Promise<void> {
    try {
      store.getState().galleryListed(await listEntries());
    } catch (error) {
      say(`The gallery could not be read: ${serializeError(error).message}`);
    }
  }

  /** Saves before the result is shown; a storage failure is said, never allowed to lose the image. */
  async function saveToGallery(image: ImageData, params: GenerationSettings): Promise<void> {
    try {
      const png = await pngWithParameters(image, params);
      const entry = await addEntry({ createdAt: Date.now(), params, width: image.width, height: image.height, png });
      store.getState().galleryAdded(entry);
      announce();
    } catch (error) {
      say(`This image is not in the gallery (${serializeError(error).message}); download it to keep it.`);
    }
  }

  async function downloadResult(): Promise<void> {
    const image = currentResult();
    const params = store.getState().result?.settings;
    if (!image || !params) return;
    downloadBlob(await pngWithParameters(image, params), fileName(params));
  }

  async function downloadEntry(entry: GalleryEntry): Promise<void> {
    const png = await entryPng(entry.id);
    if (png) downloadBlob(png, fileName(entry.params));
  }

  async function removeEntry(entry: GalleryEntry): Promise<void> {
    await deleteEntry(entry.id);
    store.getState().galleryRemoved(entry.id);
    announce();
  }

  /** Puts settings back as they were for an image; what the image does not say stays as it is. */
  function applyParameters(p: ParsedParameters, source: string): void {
    const s = store.getState();
    s.setSetting('prompt', p.prompt);
    s.setSetting('negativePrompt', p.negativePrompt);
    if (p.seed !== undefined) s.setSetting('seed', p.seed);
    if (p.steps !== undefined) s.setSetting('steps', p.steps);
    if (p.guidanceScale !== undefined) s.setSetting('guidanceScale', p.guidanceScale);
    if (p.scheduler !== undefined) s.setSetting('scheduler', p.scheduler);
    // A picture's record says Karras only when it was on: a scheduler named without it runs without.
    if (p.scheduler !== undefined) s.setSetting('karras', p.karras ?? false);
    // What a picture's text does not name was at its tool's default: A1111's syntax, clip skip 1, no hires fix.
    s.setSetting('promptSyntax', p.promptSyntax ?? 'a1111');
    s.setSetting('clipSkip', p.clipSkip ?? 1);
    if ((p.mode ?? 'txt2img') === 'txt2img') s.setSetting('hiresFix', p.hires !== undefined);
    if (p.hires) {
      s.setSetting('hiresScale', p.hires.scale);
      s.setSetting('hiresSteps', p.hires.steps);
      s.setSetting('hiresDenoise', p.hires.denoise);
      s.setSetting('hiresUpscaler', p.hires.upscaler);
    }
    if (p.width !== undefined) s.setSetting('width', p.width);
    if (p.height !== undefined) s.setSetting('height', p.height);
    const known = p.model !== undefined && findModel(p.model, s.customModels) !== undefined;
    if (known) s.setSetting('modelId', p.model!);
    if (p.mode && p.strength !== undefined && p.mode !== 'txt2img') {
      s.setStrength(p.mode, p.strength);
    }
    const unknownModel = p.model && !known ? ` (its model "${p.model}" is not in this app's catalog)` : '';
    // Its <lora:…> tags apply when those LoRAs are added here; say which are not.
    let missing: string[] = [];
    try {
      const added = new Set(store.getState().loras.map((l) => l.name));
      missing = parseLoraTags(p.prompt)
        .tags.filter((t) => !added.has(t.name))
        .map((t) => t.name);
    } catch {
      // A malformed tag is reported when the prompt runs.
    }
    const missingLoras =
      missing.length > 0
        ? `; add the LoRA file${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} to use ${missing.length > 1 ? 'them' : 'it'}`
        : '';
    if (p.controlnets) s.controlUnitsRestored(p.controlnets, p.guessMode ?? false);
    const toLoad = store.getState().controlUnits.filter((u) => p.controlnets && !u.net);
    const controlNets =
      toLoad.length > 0
        ? `; its ControlNet settings are in the ControlNet panel: load ${toLoad.map((u) => `"${u.input}"`).join(', ')} and give ${toLoad.length > 1 ? 'each' : 'it'} a control picture`
        : p.controlnets
          ? '; give its ControlNet a control picture'
          : '';
    const skipped = p.notRestored?.length ? ` Not restored: ${p.notRestored.join('; ')}.` : '';
    say(`Settings restored from ${source}${unknownModel}${missingLoras}${controlNets}.${skipped}`);
  }

  function reuseSettings(entry: GalleryEntry): void {
    applyParameters(entry.params, 'the gallery');
  }

  function reuseSeed(entry: GalleryEntry): void {
    store.getState().setSetting('seed', entry.params.seed);
    say(`Seed ${entry.params.seed} from the gallery.`);
  }

  /** Shows a picture made earlier (a gallery entry, a compare cell) as the result, with its settings. */
  function showAsResult(image: ImageData, settings: GenerationSettings): ResultRecord {
    showImage(image);
    const s = store.getState();
    const record = shownRecord(settings);
    s.previewsCleared();
    s.resultShown(record);
    return record;
  }

  /** Shows a gallery image as the current result. */
  async function openEntry(entry: GalleryEntry): Promise<void> {
    const png = await entryPng(entry.id);
    if (!png) return;
    const bitmap = await createImageBitmap(png);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    showAsResult(ctx.getImageData(0, 0, canvas.width, canvas.height), entry.params);
  }

  /** A dropped PNG with generation parameters (ours or another SD tool's) restores its settings. */
  async function restoreFromFile(file: File): Promise<boolean> {
    let text: string | undefined;
    try {
      text = readPngText(new Uint8Array(await file.arrayBuffer())).get('parameters');
    } catch (error) {
      say(`"${file.name}" could not be read: ${serializeError(error).message}`);
      return false;
    }
    const parsed = text ? parseParameters(text) : null;
    if (!parsed) {
      say(`"${file.name}" has no generation parameters to restore.`);
      return false;
    }
    applyParameters(parsed, `"${file.name}"`);
    return true;
  }

  return {
    loadGallery,
    saveToGallery,
    downloadResult,
    downloadEntry,
    removeEntry,
    applyParameters,
    reuseSettings,
    reuseSeed,
    showAsResult,
    openEntry,
    restoreFromFile,
  };
}
