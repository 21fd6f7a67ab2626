/**
 * Actions the UI calls: load the chosen model in the worker, generate, cancel. They read and
 * write the store and send requests through the one client; React only renders the state.
 */
import { isCancelled, serializeError, type SerializedError } from '../core/errors';
import { randomSeed } from '../core/random';
import { validateGenerate } from '../core/validate';
import { InferenceClient, RemoteError } from '../client/inference-client';
import { showResult } from '../canvas/result-surface';
import { findModel, modelForMode, whyNot } from '../models/catalog';
import type { GenerateParams, LoadModelResult, Progress } from '../protocol/messages';
import { buildImageInputs, showDepthResult } from './image-actions';
import { useStore } from '../store';

export const client = new InferenceClient(
  () =>
    new Worker(new URL('../../workers/inference.worker.ts', import.meta.url), { type: 'module', name: 'inference' }),
);

let running: AbortController | null = null;
let loadingModel: Promise<LoadModelResult> | null = null;

client.onCrash = (error) => {
  // The worker lost its sessions; the next generation reloads the model.
  useStore.getState().setSession({ model: null });
  loadingModel = null;
  useStore.getState().patchJob({ state: 'error', error: serializeError(error), finishedAt: performance.now() });
};

function toSerialized(error: unknown): SerializedError {
  if (error instanceof RemoteError && error.field !== undefined)
    return { name: error.name, message: error.message, field: error.field };
  return serializeError(error);
}

function onProgress(progress: Progress): void {
  const store = useStore.getState();
  if (progress.kind === 'download') {
    store.setSession({ download: { file: progress.file, loaded: progress.loaded, total: progress.total } });
  } else if (progress.kind === 'pipeline') {
    store.patchJob({
      state: 'generating',
      phase: progress.phase,
      step: progress.step,
      totalSteps: progress.totalSteps,
    });
  }
}

let initialized: Promise<void> | null = null;

/** Asks the worker what this machine offers and picks the backend; later actions wait for it. */
export function initialize(): Promise<void> {
  initialized ??= detect();
  return initialized;
}

async function detect(): Promise<void> {
  try {
    const capabilities = await client.request('capabilities', {});
    useStore.getState().setSession({ capabilities });
    // Until the person picks one: WebGPU on a real GPU, WASM without one or on a software rasteriser.
    if (!useStore.getState().backendChosen) {
      useStore.setState({ backend: capabilities.webgpu && !capabilities.adapter?.software ? 'webgpu' : 'wasm' });
    }
  } catch (error) {
    useStore.getState().patchJob({ state: 'error', error: toSerialized(error) });
  }
}

/** Loads the selected model on the selected backend unless it is already loaded. */
export async function ensureModel(signal?: AbortSignal): Promise<LoadModelResult> {
  // A Generate pressed before detection finished must not load on a backend about to be replaced.
  await initialize();
  const { modelId, backend, model } = useStore.getState();
  const entry = findModel(modelId);
  if (!entry)
    throw new RemoteError({ name: 'ValidationError', message: `Unknown model "${modelId}".`, field: 'model' });
  if (model && model.modelId === modelId && (model.backend === backend || model.fallbackReason)) return model;
  if (loadingModel) return loadingModel;
  const store = useStore.getState();
  store.patchJob({ state: 'loading', phase: null, step: 0, totalSteps: 0, error: null, startedAt: performance.now() });
  loadingModel = client
    .request(
      'loadModel',
      {
        modelId,
        baseUrl: entry.baseUrl,
        backend,
        ...(entry.depthEstimator ? { depthEstimator: entry.depthEstimator } : {}),
      },
      { onProgress, ...(signal ? { signal } : {}) },
    )
    .then((loaded) => {
      const s = useStore.getState();
      s.setSession({ model: loaded, download: null });
      if (!s.schedulerChosen && loaded.defaultScheduler) useStore.setState({ scheduler: loaded.defaultScheduler });
      return loaded;
    })
    .finally(() => {
      loadingModel = null;
    });
  return loadingModel;
}

export async function generate(): Promise<void> {
  if (running) return;
  const store = useStore.getState();
  store.patchJob({ run: store.job.run + 1 });
  const mode = store.mode;
  let settings: GenerateParams;
  try {
    settings = {
      mode,
      prompt: store.prompt,
      negativePrompt: store.negativePrompt,
      guidanceScale: store.guidanceScale,
      steps: store.steps,
      seed: store.seed,
      width: store.width,
      height: store.height,
      scheduler: store.scheduler,
    };
    // Check the numbers first, so a bad size is reported before the image is drawn at it.
    validateGenerate({ ...settings, mode: 'txt2img' });
    Object.assign(settings, buildImageInputs(mode, settings.width, settings.height));
    validateGenerate({ ...settings });
  } catch (error) {
    // Nothing ran: clear the last run's progress so the bar does not speak for this one.
    const now = performance.now();
    store.patchJob({
      state: 'error',
      error: toSerialized(error),
      step: 0,
      totalSteps: 0,
      startedAt: now,
      finishedAt: now,
    });
    return;
  }
  const controller = new AbortController();
  running = controller;
  try {
    await ensureModel(controller.signal);
    if (controller.signal.aborted) throw new RemoteError({ name: 'CancelledError', message: 'Cancelled.' });
    const startedAt = performance.now();
    useStore.getState().patchJob({
      state: 'generating',
      phase: 'encode',
      step: 0,
      totalSteps: settings.steps,
      startedAt,
      finishedAt: null,
      error: null,
    });
    const result = await client.request('generate', settings, { signal: controller.signal, onProgress });
    showResult(result.pixels, result.width, result.height);
    if (result.depth) showDepthResult(result.depth);
    const previous = useStore.getState().result;
    useStore.getState().setSession({
      result: {
        version: (previous?.version ?? 0) + 1,
        width: result.width,
        height: result.height,
        seed: result.seed,
        prompt: settings.prompt,
        mode,
        encoderLatents: result.encoderLatents ?? null,
        backend: result.backend,
        truncated: result.truncated,
        totalMs: result.timings.totalMs,
        timings: result.timings,
      },
    });
    useStore.getState().patchJob({ state: 'done', finishedAt: performance.now() });
  } catch (error) {
    if (isCancelled(error))
      useStore.getState().patchJob({ state: 'cancelled', error: null, finishedAt: performance.now() });
    else useStore.getState().patchJob({ state: 'error', error: toSerialized(error), finishedAt: performance.now() });
  } finally {
    running = null;
  }
}

/** Switches mode, and the model too when the current one cannot run the new mode (saying so). */
export function setMode(mode: GenerateParams['mode'] & string): void {
  const store = useStore.getState();
  if (store.mode === mode) return;
  const other = modelForMode(store.modelId, mode);
  const current = findModel(store.modelId);
  useStore.setState({
    mode,
    ...(other ? { modelId: other.id } : {}),
    modelNotice: other && current ? `Switched to ${other.name}: ${whyNot(current, mode)}` : null,
  });
}

export function cancel(): void {
  running?.abort();
}

export function newSeed(): void {
  useStore.getState().setSetting('seed', randomSeed().toString());
}
