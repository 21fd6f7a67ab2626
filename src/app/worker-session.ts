/**
 * The page's one inference client and the lifecycle around it: what the machine offers, the model
 * loaded in the worker, and runs (job state, cancel, errors handled the same for every mode).
 * The mode actions (controller, compare, image, explore) run their requests through here.
 */
import { isCancelled, serializeError, type SerializedError } from '../core/errors';
import { InferenceClient, RemoteError } from '../client/inference-client';
import { showOnCanvas } from '../canvas/result-surface';
import { addPreview } from '../canvas/previews';
import { setCell } from '../canvas/compare-cells';
import { findModel } from '../models/catalog';
import type { ModelManifest } from '../models/manifest';
import { planLoad } from '../models/plan-load';
import { fetchListing, withListing } from '../models/hub-listing';
import { hubUrl, stallTimeout } from '../models/hub';
import type { LoadModelResult, Progress } from '../protocol/messages';
import type { SchedulerName } from '../core/schedulers/types';
import { chooseModel } from './model-choice';
import { refreshModelCache } from './model-actions';
import { forgetSentLoras } from './lora-actions';
import { useStore } from '../store';

export const pageQuery = new URLSearchParams(self.location.search);
const benchThreads = Number(pageQuery.get('threads')) || null;

const silenceMs = Number(pageQuery.get('workerTimeout')) || undefined;
export const client = new InferenceClient(
  () =>
    new Worker(new URL('../worker/inference.worker.ts', import.meta.url), { type: 'module', name: 'inference' }),
  silenceMs && silenceMs >= 500 ? silenceMs : undefined,
);

/** The run in progress, if any: its abort handle. */
let running: AbortController | null = null;
export const isRunning = (): boolean => running !== null;
let loadingModel: Promise<LoadModelResult> | null = null;

client.onCrash = (error) => {
  // The worker lost its sessions (and its LoRA files); the next generation reloads the model.
  forgetSentLoras();
  useStore.getState().modelForgotten();
  loadingModel = null;
  useStore.getState().patchJob({ state: 'error', error: serializeError(error), finishedAt: performance.now() });
};

function toSerialized(error: unknown): SerializedError {
  if (error instanceof RemoteError && error.field !== undefined)
    return { name: error.name, message: error.message, field: error.field };
  return serializeError(error);
}

export function onProgress(progress: Progress): void {
  const store = useStore.getState();
  if (progress.kind === 'download') {
    const previous = store.download;
    store.downloadProgressed({
      file: progress.file,
      loaded: progress.loaded,
      total: progress.total,
      overallLoaded: progress.overall?.loaded ?? progress.loaded,
      overallTotal: progress.overall?.total ?? progress.total,
      startedAt: previous?.startedAt ?? performance.now(),
    });
  } else if (progress.kind === 'pipeline') {
    store.patchJob({
      state: 'generating',
      phase: progress.phase,
      step: progress.step,
      totalSteps: progress.totalSteps,
    });
  } else if (progress.kind === 'preview') {
    // Drawn as it arrives: the loop in the worker does not wait for the page.
    showOnCanvas(addPreview(progress.step, progress.pixels, progress.width, progress.height));
    store.previewArrived(progress.step, progress.totalSteps);
  } else if (progress.kind === 'cell') {
    setCell(progress.index, progress.pixels, progress.width, progress.height);
    store.compareCellArrived(progress.index);
  }
}

let initialized: Promise<void> | null = null;

/** Asks the worker what this machine offers and picks the backend; later actions wait for it. */
export function initialize(): Promise<void> {
  if (!initialized) openLinkedModel();
  initialized ??= detect();
  return initialized;
}

/**
 * `?model=<id>` in the address opens the page on that catalog model, with its defaults. The
 * parameter is then taken out of the address, so a reload keeps what the person picks afterwards.
 */
function openLinkedModel(): void {
  const id = pageQuery.get('model');
  if (id === null) return;
  const clean = new URL(self.location.href);
  clean.searchParams.delete('model');
  history.replaceState(history.state, '', clean.href);
  if (!findModel(id, useStore.getState().customModels)) {
    useStore.getState().say(`This link asks for a model "${id}" that this app does not have.`);
    return;
  }
  chooseModel(id, { announce: false });
}

async function detect(): Promise<void> {
  try {
    const capabilities = await client.request('capabilities', {});
    useStore.getState().capabilitiesFound(capabilities);
    // Until the person picks one: WebGPU on a real GPU, WASM without one or on a software rasteriser.
    if (!useStore.getState().backendChosen) {
      useStore.getState().backendDetected(capabilities.webgpu && !capabilities.adapter?.software ? 'webgpu' : 'wasm');
    }
  } catch (error) {
    useStore.getState().patchJob({ state: 'error', error: toSerialized(error) });
  }
}

/**
 * The hub a model loads from: the page's, unless the model was added from another one and the
 * person, asked, keeps that (a link with ?hub= must not re-point a model silently).
 */
function hubFor(entry: ModelManifest): string {
  const current = hubUrl();
  const source = entry.source;
  if (source.kind !== 'hub' || !source.hub || source.hub === current) return current;
  const move = window.confirm(
    `${source.repo} was added from ${source.hub}, but this page's hub is now ${current} (from ?hub= in its address). Load it from ${current}?\n\nCancel keeps ${source.hub}.`,
  );
  if (!move) return source.hub;
  // Moved on purpose: the model now remembers the new hub, and is not asked about again.
  useStore.getState().customModelChanged({ ...entry, source: { ...source, hub: current } });
  return current;
}

/** Catalog entries on the hub, with the hub's listing applied, once per visit. */
const listedEntries = new Map<string, Promise<ModelManifest>>();

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

/** Loads the selected model on the selected backend unless it is already loaded. */
export async function ensureModel(signal?: AbortSignal): Promise<LoadModelResult> {
  // A Generate pressed before detection finished must not load on a backend about to be replaced.
  await initialize();
  const { modelId, backend, model, customModels } = useStore.getState();
  const entry = findModel(modelId, customModels);
  if (!entry)
    throw new RemoteError({ name: 'ValidationError', message: `Unknown model "${modelId}".`, field: 'model' });
  if (model && model.modelId === modelId && (model.backend === backend || model.fallbackReason)) return model;
  if (loadingModel) return loadingModel;
  const store = useStore.getState();
  // A load outside a run (explore's tokens, a depth estimate) gives the job back as it was when it
  // ends: nothing else would move it on from "loading", and Generate would stay disabled.
  const before = signal === undefined ? store.job : null;
  const settle = (): void => {
    const { job, patchJob } = useStore.getState();
    if (before && job.state === 'loading' && job.run === before.run) patchJob(before);
  };
  store.patchJob({ state: 'loading', phase: null, step: 0, totalSteps: 0, error: null, startedAt: performance.now() });
  store.downloadProgressed(null);
  // Ask the browser to keep downloaded models under storage pressure (page only; workers cannot ask).
  if (entry.source.kind !== 'app') void navigator.storage?.persist?.().catch(() => false);
  const hub = hubFor(entry);
  loadingModel = listed(entry, hub)
    .then((resolved) =>
      client.request(
        'loadModel',
        {
          modelId,
          plan: {
            ...planLoad(resolved, hub, self.location.origin),
            ...(stallTimeout() ? { stallMs: stallTimeout()! } : {}),
          },
          backend,
          ...(entry.depthEstimator
            ? {
                depthEstimator:
                  entry.depthEstimator.kind === 'hub'
                    ? { ...entry.depthEstimator, hub: hubUrl() }
                    : entry.depthEstimator,
              }
            : {}),
          ...(benchThreads ? { wasmThreads: benchThreads } : {}),
        },
        { onProgress, ...(signal ? { signal } : {}) },
      ),
    )
    .then((loaded) => {
      const s = useStore.getState();
      s.modelLoaded(loaded);
      void refreshModelCache();
      schedulerForRun(); // the select shows the model's own at once
      settle();
      return loaded;
    })
    .catch((error: unknown) => {
      // The worker releases the old model before loading a new one (two SD models rarely fit in one
      // GPU), so after a failed load nothing is loaded: the next run loads its model again.
      useStore.getState().modelForgotten();
      settle();
      throw error;
    })
    .finally(() => {
      loadingModel = null;
      // A failed or cancelled download may have left files behind in the cache list: show what is there.
      void refreshModelCache();
    });
  return loadingModel;
}

/** Marks a run that failed before anything ran: the last run's progress must not speak for it. */
/**
 * The scheduler a run uses, once its model is loaded: the person's choice, or else the model's own
 * (shown in the select too). A model loaded earlier may have left another model's default set, such
 * as PNDM, which the Shapes model refuses (zero-SNR betas).
 */
export function schedulerForRun(): SchedulerName {
  const s = useStore.getState();
  const own = s.model?.defaultScheduler;
  if (!s.schedulerChosen && own && own !== s.scheduler) s.schedulerDefaulted(own);
  return useStore.getState().scheduler;
}

export function failBeforeStart(error: unknown): void {
  const now = performance.now();
  useStore.getState().patchJob({
    state: 'error',
    error: toSerialized(error),
    step: 0,
    totalSteps: 0,
    startedAt: now,
    finishedAt: now,
  });
}

/** Runs a job with the model loaded: job state, cancel and errors handled the same for every mode. */
export async function runJob(totalSteps: number, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  running = controller;
  try {
    await ensureModel(controller.signal);
    if (controller.signal.aborted) throw new RemoteError({ name: 'CancelledError', message: 'Cancelled.' });
    useStore.getState().patchJob({
      state: 'generating',
      phase: 'encode',
      step: 0,
      totalSteps,
      startedAt: performance.now(),
      finishedAt: null,
      error: null,
    });
    await work(controller.signal);
    useStore.getState().patchJob({ state: 'done', finishedAt: performance.now() });
  } catch (error) {
    if (error instanceof Error && error.name === 'DeviceLostError') {
      // ORT cannot move to a new device: a fresh worker makes a new device and sessions on the next run.
      client.reset(error);
      forgetSentLoras();
      loadingModel = null;
      useStore.getState().modelForgotten();
    }
    if (isCancelled(error))
      useStore.getState().patchJob({ state: 'cancelled', error: null, finishedAt: performance.now() });
    else useStore.getState().patchJob({ state: 'error', error: toSerialized(error), finishedAt: performance.now() });
  } finally {
    running = null;
    // A preview left on the canvas by a failed or cancelled run gives way to the last real result.
    if (useStore.getState().job.state !== 'done') showOnCanvas(null);
  }
}

export function cancel(): void {
  running?.abort();
}
