/**
 * The page's side of the worker's lifecycle, made by `createWorkerSession` from what it needs (the
 * client, the store, a way to ask the person, the page's own settings): what the machine offers,
 * the model loaded in the worker, and runs (job state, cancel, errors handled the same for every
 * mode). The mode actions run their requests through it. Nothing here builds a Worker or reads a
 * global, so Node tests drive it with an in-memory worker.
 */
import { findVae, planVae, vaeHosts, vaeMisfit } from '../models/vae';
import { isCancelled, serializeError, type SerializedError } from '../core/errors';
import type { SchedulerName } from '../core/schedulers/types';
import { RemoteError, type InferenceClient } from '../client/inference-client';
import { findModel } from '../models/catalog';
import { fetchListing, withListing } from '../models/hub-listing';
import type { ModelManifest } from '../models/manifest';
import { planLoad, type PlannedSafety } from '../models/plan-load';
import { plannedChecker, siteCheckerFiles, SITE_SAFETY_CHECKER } from '../models/safety-checker';
import type { LoadModelResult, Progress } from '../protocol/messages';
import type { AppStore } from '../store';

/** Where the pixels that arrive as progress go (the result canvas's previews, the compare grid). */
export interface ProgressPictures {
  preview(step: number, pixels: ArrayBuffer, width: number, height: number): void;
  cell(index: number, pixels: ArrayBuffer, width: number, height: number): void;
  /** A preview left on the canvas gives way to the last real result. */
  previewCleared(): void;
}

/** What the page itself says: its origin, its hub, and the settings its address carries. */
export interface PageContext {
  origin: string;
  hub(): string;
  /** `?stall=ms`: how long a download may go without data (null: the worker's default). */
  stallMs: number | null;
  /** `?threads=N` (the benchmark): WASM threads for the next model load. */
  wasmThreads: number | null;
  /** Asks the browser to keep downloaded models under storage pressure (page only; workers cannot ask). */
  persistStorage(): void;
  /** The site requires the safety checker (its page's setting, see README). */
  requireSafetyChecker: boolean;
}

export interface SessionDeps {
  client: InferenceClient;
  store: AppStore;
  /** Asks the person a yes/no question (window.confirm on the page). */
  confirm: (question: string) => boolean;
  page: PageContext;
  pictures: ProgressPictures;
  /** The worker is gone (crash, lost device): what it kept (LoRA files) must be sent again. */
  onWorkerLost: () => void;
  /** A load ended: the cache list may have changed. */
  onModelFilesChanged: () => void;
}

export type WorkerSession = ReturnType<typeof createWorkerSession>;

function toSerialized(error: unknown): SerializedError {
  const plain = serializeError(error);
  return error instanceof RemoteError && error.field !== undefined ? { ...plain, field: error.field } : plain;
}

export function createWorkerSession({
  client,
  store,
  confirm,
  page,
  pictures,
  onWorkerLost,
  onModelFilesChanged,
}: SessionDeps) {
  /** The run in progress, if any: its abort handle. */
  let running: AbortController | null = null;
  let loadingModel: Promise<LoadModelResult> | null = null;
  /** The loaded model was loaded with its safety checker off (so it may have one not loaded). */
  let loadedWithoutChecker = false;
  /** The VAE the loaded model decodes with (null: its own); another choice loads the model again. */
  let loadedVae: string | null = null;
  let initialized: Promise<void> | null = null;
  /** Catalog entries on the hub, with the hub's listing applied, once per visit. */
  const listedEntries = new Map<string, Promise<ModelManifest>>();

  /** The worker lost its sessions (and its LoRA files): the next run loads the model again. */
  const forgetModel = (): void => {
    onWorkerLost();
    store.getState().modelForgotten();
    loadingModel = null;
  };

  client.onCrash = (error) => {
    forgetModel();
    store.getState().jobFailed(serializeError(error));
  };

  function onProgress(progress: Progress): void {
    const s = store.getState();
    if (progress.kind === 'download') {
      s.downloadProgressed({
        file: progress.file,
        loaded: progress.loaded,
        total: progress.total,
        overallLoaded: progress.overall?.loaded ?? progress.loaded,
        overallTotal: progress.overall?.total ?? progress.total,
        startedAt: s.download?.startedAt ?? performance.now(),
      });
    } else if (progress.kind === 'pipeline') {
      s.jobProgressed(progress.phase, progress.step, progress.totalSteps);
    } else if (progress.kind === 'preview') {
      // Drawn as it arrives: the loop in the worker does not wait for the page.
      pictures.preview(progress.step, progress.pixels, progress.width, progress.height);
      s.previewArrived(progress.step, progress.totalSteps);
    } else if (progress.kind === 'cell') {
      // A cell the safety checker flagged came without its picture: there is nothing to draw.
      const flagged = progress.safety?.flagged === true;
      if (!flagged) pictures.cell(progress.index, progress.pixels, progress.width, progress.height);
      s.compareCellArrived(progress.index, flagged);
    }
  }

  /** Asks the worker what this machine offers and picks the backend; later actions wait for it. */
  function initialize(): Promise<void> {
    initialized ??= (async () => {
      try {
        const capabilities = await client.request('capabilities', {});
        store.getState().capabilitiesFound(capabilities);
        // Until the person picks one: WebGPU on a real GPU, WASM without one or on a software rasteriser.
        if (!store.getState().backendChosen) {
          store.getState().backendDetected(capabilities.webgpu && !capabilities.adapter?.software ? 'webgpu' : 'wasm');
        }
      } catch (error) {
        store.getState().jobFailed(toSerialized(error));
      }
    })();
    return initialized;
  }

  /**
   * The hub a model loads from: the page's, unless the model was added from another one and the
   * person, asked, keeps that (a link with ?hub= must not re-point a model silently).
   */
  function hubFor(entry: ModelManifest): string {
    const current = page.hub();
    const source = entry.source;
    if (source.kind !== 'hub' || !source.hub || source.hub === current) return current;
    const move = confirm(
      `${source.repo} was added from ${source.hub}, but this page's hub is now ${current} (from ?hub= in its address). Load it from ${current}?\n\nCancel keeps ${source.hub}.`,
    );
    if (!move) return source.hub;
    // Moved on purpose: the model now remembers the new hub, and is not asked about again.
    store.getState().customModelChanged({ ...entry, source: { ...source, hub: current } });
    return current;
  }

  /**
   * A hub model whose manifest has no file listing yet (a catalog entry) gets the hub's listing:
   * its weight files, sizes and SHA-256, so size and quota checks happen before the first byte.
   * Offline, or on a mirror without the API, the manifest's own candidates are tried as they are.
   * A listing that shows the repo cannot be loaded (no safetensors weights) fails the load.
   */
  function listed(entry: ModelManifest, hub: string): Promise<ModelManifest> {
    if (entry.source.kind !== 'hub' || entry.files) return Promise.resolve(entry);
    const { repo, revision } = entry.source;
    const key = `${hub}|${entry.id}`;
    let found = listedEntries.get(key);
    if (!found) {
      found = fetchListing(hub, repo, revision).then((listing) => (listing ? withListing(entry, listing) : entry));
      listedEntries.set(key, found);
      found.catch(() => listedEntries.delete(key));
    }
    return found;
  }

  /**
   * The scheduler a run uses, once its model is loaded: the person's choice, or else the model's
   * own (shown in the select too). A model loaded earlier may have left another model's default
   * set, such as PNDM, which the Shapes model refuses (zero-SNR betas).
   */
  function schedulerForRun(): SchedulerName {
    const s = store.getState();
    const own = s.model?.defaultScheduler;
    if (!s.schedulerChosen && own && own !== s.scheduler) s.schedulerDefaulted(own);
    return store.getState().scheduler;
  }

  /** Whether the selected model's safety checker runs: the site requires it, or the person left it on. */
  function safetyWanted(): boolean {
    const s = store.getState();
    return page.requireSafetyChecker || !s.safetyCheckerOff.includes(s.modelId);
  }

  /** Loads the selected model on the selected backend unless it is already loaded. */
  async function ensureModel(signal?: AbortSignal): Promise<LoadModelResult> {
    // A Generate pressed before detection finished must not load on a backend about to be replaced.
    await initialize();
    const { modelId, backend, model, customModels } = store.getState();
    const entry = findModel(modelId, customModels);
    if (!entry)
      throw new RemoteError({ name: 'ValidationError', message: `Unknown model "${modelId}".`, field: 'model' });
    const wantChecker = safetyWanted();
    // A model loaded while its checker was off is loaded again when it is turned on (its files are cached).
    const checkerMissing = wantChecker && !model?.safetyChecker && loadedWithoutChecker;
    // The chosen VAE, where it fits this model (vaeMisfit: the page says why it does not).
    const chosenVae = findVae(store.getState().vaeChoice, store.getState().customVaes);
    const vae = chosenVae && !vaeMisfit(chosenVae, entry) ? chosenVae : null;
    const sameVae = (vae?.id ?? null) === loadedVae;
    if (
      model &&
      model.modelId === modelId &&
      (model.backend === backend || model.fallbackReason) &&
      !checkerMissing &&
      sameVae
    )
      return model;
    if (loadingModel) return loadingModel;
    const s = store.getState();
    // A load outside a run (explore's tokens, a depth estimate) gives the job back as it was when it ends.
    const before = signal === undefined ? s.job : null;
    const settle = (): void => {
      if (before) store.getState().jobLoadSettled(before);
    };
    s.jobLoading();
    s.downloadProgressed(null);
    if (entry.source.kind !== 'app') page.persistStorage();
    const hub = hubFor(entry);
    loadingModel = listed(entry, hub)
      .then(async (resolved) => {
        const checker = plannedChecker(resolved, wantChecker, page.requireSafetyChecker);
        const safety: PlannedSafety =
          checker === 'site'
            ? {
                checker,
                files: siteCheckerFiles(
                  await fetchListing(hub, SITE_SAFETY_CHECKER.repo, SITE_SAFETY_CHECKER.revision),
                ),
              }
            : checker === 'model'
              ? { checker }
              : null;
        loadedWithoutChecker = !wantChecker;
        loadedVae = null;
        const plan = planLoad(resolved, hub, page.origin, safety);
        return client.request(
          'loadModel',
          {
            modelId,
            plan: {
              ...plan,
              ...(page.stallMs ? { stallMs: page.stallMs } : {}),
              ...(vae ? { vae: planVae(vae, page.hub()), hosts: [...(plan.hosts ?? []), ...vaeHosts(vae)] } : {}),
            },
            backend,
            ...(page.requireSafetyChecker ? { requireSafetyChecker: true } : {}),
            ...(entry.depthEstimator
              ? {
                  depthEstimator:
                    entry.depthEstimator.kind === 'hub'
                      ? { ...entry.depthEstimator, hub: page.hub() }
                      : entry.depthEstimator,
                }
              : {}),
            ...(page.wasmThreads ? { wasmThreads: page.wasmThreads } : {}),
          },
          { onProgress, ...(signal ? { signal } : {}) },
        );
      })
      .then((loaded) => {
        loadedVae = vae?.id ?? null;
        store.getState().modelLoaded(loaded);
        schedulerForRun(); // the select shows the model's own at once
        settle();
        return loaded;
      })
      .catch((error: unknown) => {
        // The worker releases the old model before loading a new one (two SD models rarely fit in one
        // GPU), so after a failed load nothing is loaded: the next run loads its model again.
        store.getState().modelForgotten();
        settle();
        throw error;
      })
      .finally(() => {
        loadingModel = null;
        // A download (finished, failed or cancelled) may have changed what the cache holds.
        onModelFilesChanged();
      });
    return loadingModel;
  }

  /** Marks a run that failed before anything ran: the last run's progress must not speak for it. */
  function failBeforeStart(error: unknown): void {
    store.getState().jobRefused(toSerialized(error));
  }

  /** Runs a job with the model loaded: job state, cancel and errors handled the same for every mode. */
  async function runJob(totalSteps: number, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    running = controller;
    try {
      await ensureModel(controller.signal);
      if (controller.signal.aborted) throw new RemoteError({ name: 'CancelledError', message: 'Cancelled.' });
      store.getState().jobStarted(totalSteps);
      await work(controller.signal);
      store.getState().jobDone();
    } catch (error) {
      if (error instanceof Error && error.name === 'DeviceLostError') {
        // ORT cannot move to a new device: a fresh worker makes a new device and sessions on the next run.
        client.reset(error);
        forgetModel();
      }
      if (isCancelled(error)) store.getState().jobCancelled();
      else store.getState().jobFailed(toSerialized(error));
    } finally {
      running = null;
      if (store.getState().job.state !== 'done') pictures.previewCleared();
    }
  }

  return {
    client,
    initialize,
    ensureModel,
    schedulerForRun,
    safetyWanted,
    failBeforeStart,
    runJob,
    onProgress,
    isRunning: (): boolean => running !== null,
    cancel: (): void => running?.abort(),
  };
}
