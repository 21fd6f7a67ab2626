/**
 * The app's actions, made once from what they need: the inference client, the store, a way to ask
 * the person and the page's own settings. main.tsx makes them for the page; tests make them with
 * an in-memory worker and a fresh store. Components reach them through components/actions.ts.
 */
import type { InferenceClient } from '../client/inference-client';
import { showOnCanvas } from '../canvas/result-surface';
import { addPreview } from '../canvas/previews';
import { setCell } from '../canvas/compare-cells';
import { findModel } from '../models/catalog';
import type { AppStore } from '../store';
import { createCompareActions } from './compare-actions';
import { createGenerateActions } from './controller';
import { createExploreActions } from './explore-actions';
import { createGalleryActions } from './gallery-actions';
import { createImageActions } from './image-actions';
import { createLoraActions } from './lora-actions';
import { createControlNetActions } from './controlnet-actions';
import { createModelActions } from './model-actions';
import { createModelChoice } from './model-choice';
import { createVaeActions } from './vae-actions';
import { createWorkerSession, type PageContext, type ProgressPictures } from './worker-session';

export interface AppDeps {
  client: InferenceClient;
  store: AppStore;
  confirm: (question: string) => boolean;
  page: PageContext;
  /** Where previews and compare cells are drawn (the canvases; tests pass their own). */
  pictures?: ProgressPictures;
}

/** The canvases the page draws progress pictures on. */
const canvasPictures: ProgressPictures = {
  preview: (step, pixels, width, height) => showOnCanvas(addPreview(step, pixels, width, height)),
  cell: (index, pixels, width, height) => setCell(index, pixels, width, height),
  previewCleared: () => showOnCanvas(null),
};

export type AppActions = ReturnType<typeof createActions>;

export function createActions({ client, store, confirm, page, pictures = canvasPictures }: AppDeps) {
  const loras = createLoraActions({ store, client });
  const models = createModelActions({ store, page, loras });
  const session = createWorkerSession({
    client,
    store,
    confirm,
    page,
    pictures,
    onWorkerLost: () => {
      loras.forgetSent();
      controlnets.forgetSent();
    },
    onModelFilesChanged: () => void models.refreshModelCache(),
  });
  const gallery = createGalleryActions({ store });
  const images = createImageActions({ store, session });
  const compare = createCompareActions({ store, session, loras, gallery });
  const choice = createModelChoice({ store });
  const explore = createExploreActions({ store, session, loras });
  const controlnets = createControlNetActions({
    store,
    session,
    page,
    onFilesChanged: () => void models.refreshModelCache(),
  });
  const run = createGenerateActions({ store, session, loras, gallery, images, compare, models, controlnets });
  const vaes = createVaeActions({ store, say: (text) => store.getState().say(text) });

  /**
   * The page opens: `linkedModel` (`?model=<id>` in its address) selects that catalog model with its
   * defaults, then the worker is asked what this machine offers.
   */
  function start(linkedModel: string | null): Promise<void> {
    if (page.requireSafetyChecker) store.getState().safetyRequiredBySite();
    if (linkedModel !== null) {
      if (findModel(linkedModel, store.getState().customModels)) choice.chooseModel(linkedModel, { announce: false });
      else store.getState().say(`This link asks for a model "${linkedModel}" that this app does not have.`);
    }
    return session.initialize();
  }

  return { session, run, loras, models, gallery, images, compare, choice, explore, controlnets, vaes, start };
}
