/**
 * Generate: the settings become a request, the worker runs it, the picture is kept in the gallery
 * and shown. Compare, image inputs and explore have their own action modules; the client and the
 * job lifecycle are the worker session's.
 */
import { pipelineMode } from '../core/modes';
import { randomSeed } from '../core/math/random';
import { parseLoraTags, withLoraTags, type LoraTag } from '../core/prompt/lora-tags';
import { validateBatchCount, validateGenerate } from '../core/validate';
import { checkKarras } from '../core/schedulers';
import { clearPreviews } from '../canvas/previews';
import { clearResult, showImage } from '../canvas/result-surface';
import type { GenerateParams } from '../protocol/messages';
import type { AppStore } from '../store';
import type { CompareActions } from './compare-actions';
import type { GalleryActions } from './gallery-actions';
import { batchSeeds, requestOf, resultRecord, seedForRun, settingsFromStore } from './generation';
import type { ImageActions } from './image-actions';
import type { LoraActions } from './lora-actions';
import type { ModelActions } from './model-actions';
import type { WorkerSession } from './worker-session';
import type { ControlNetActions } from './controlnet-actions';
import type { ControlNetRecord } from '../core/generation-settings';

export type GenerateActions = ReturnType<typeof createGenerateActions>;

export function createGenerateActions(deps: {
  store: AppStore;
  session: WorkerSession;
  loras: LoraActions;
  gallery: GalleryActions;
  images: ImageActions;
  compare: CompareActions;
  models: ModelActions;
  controlnets: ControlNetActions;
}) {
  const { store, session, loras, gallery, images, compare, models, controlnets } = deps;

  async function generate(): Promise<void> {
    if (session.isRunning()) return;
    // A model being added (Load, then Generate at once) is the one the person means to run.
    await models.pendingAdd();
    if (session.isRunning()) return;
    const s = store.getState();
    s.jobCounted();
    if (s.mode === 'compare') return compare.runCompare();
    const mode = pipelineMode(s.mode);
    const settings = { ...settingsFromStore(s, mode), seed: seedForRun(s.seed) };
    let request: GenerateParams;
    let tags: LoraTag[] = [];
    let seeds: string[];
    try {
      // <lora:name:w> tags set strengths and leave the text the tokenizer sees.
      let prompt: string;
      ({ prompt, tags } = parseLoraTags(settings.prompt));
      request = { ...requestOf(settings), prompt };
      // Check the numbers first, so a bad size is reported before the image is drawn at it.
      validateGenerate({ ...request, mode: 'txt2img' });
      Object.assign(request, images.buildImageInputs(mode, request.width, request.height));
      validateGenerate({ ...request });
      checkKarras(request.scheduler, request.karras ?? false);
      // Explore shows one run's pipeline: a batch is for the picture modes.
      seeds = batchSeeds(request.seed, s.mode === 'explore' ? 1 : validateBatchCount(s.batchCount));
      // Explore always shows the steps; elsewhere previews are the person's choice.
      if (s.livePreview || s.mode === 'explore') {
        request.preview = { every: Math.max(1, Math.round(s.previewEvery)), kind: s.previewKind };
      }
    } catch (error) {
      session.failBeforeStart(error);
      return;
    }
    clearPreviews();
    s.previewsCleared();
    await session.runJob(request.steps, async (signal) => {
      request.scheduler = session.schedulerForRun();
      request.loras = await loras.lorasForRun(tags);
      request.embeddings = await loras.embeddingsForRun();
      request.safetyChecker = session.safetyWanted();
      // ControlNets guide the picture modes (explore shows the plain pipeline).
      let controlRecords: ControlNetRecord[] = [];
      if (s.mode === 'txt2img' || s.mode === 'img2img' || s.mode === 'inpaint') {
        const { control, records } = await controlnets.controlForRun(request.width, request.height);
        if (control.length > 0) {
          request.control = control;
          request.guessMode = store.getState().controlGuessMode;
          controlRecords = records;
        }
      }
      const controlled =
        controlRecords.length > 0
          ? { controlnets: controlRecords, ...(request.guessMode ? { guessMode: true } : {}) }
          : {};
      for (const [i, seed] of seeds.entries()) {
        if (seeds.length > 1) store.getState().say(`Picture ${i + 1} of ${seeds.length} (seed ${seed})…`);
        const result = await session.client.request(
          'generate',
          { ...request, seed },
          { signal, onProgress: session.onProgress },
        );
        // The PNG parameters record the LoRAs as A1111 writes them: tags in the prompt.
        const record = resultRecord(
          { ...settings, ...controlled, scheduler: request.scheduler, prompt: withLoraTags(s.prompt, request.loras) },
          result,
        );
        if (result.safety?.flagged) {
          // Not drawn, not kept, not downloadable: the result area says why instead. Its previews
          // (estimates of the same picture) go too.
          clearResult();
          clearPreviews();
          store.getState().previewsCleared();
          store.getState().resultShown(record);
          continue;
        }
        const image = new ImageData(new Uint8ClampedArray(result.pixels), result.width, result.height);
        // In the gallery before it is shown, so a crash or reload right after cannot lose it.
        await gallery.saveToGallery(image, record.settings);
        showImage(image);
        if (result.depth) {
          images.showDepthResult(result.depth, request.depth ? (s.depth?.source ?? 'uploaded') : 'estimated');
        }
        store.getState().resultShown(record);
      }
      if (seeds.length > 1)
        store.getState().say(`Made ${seeds.length} pictures, seeds ${seeds[0]} to ${seeds.at(-1)}.`);
    });
  }

  function newSeed(): void {
    store.getState().setSetting('seed', randomSeed().toString());
  }

  return { generate, newSeed, cancel: session.cancel };
}
