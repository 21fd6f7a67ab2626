/**
 * ControlNet units: loading each unit's ControlNet beside the model (its download size and licence
 * said first), its control picture (uploaded, the start image, or a scribble) and the preview of
 * what the ControlNet will see, and the settings a run sends. A new worker has none of the
 * ControlNets: they are loaded into it again, from their plans, before the next run.
 */
import { serializeError, ValidationError } from '../core/errors';
import { formatBytes } from '../core/format-bytes';
import { controlPicturePixels, dropControlPictures, scribblePixels, setControlPicture } from '../canvas/control-images';
import { renderInitImage } from '../canvas/init-image';
import { pictureOf, surfaces } from '../canvas/surfaces';
import type { RgbaImage } from '../core/image/rgba';
import type { ControlNetRecord } from '../core/generation-settings';
import {
  CONTROLNET_CATALOG,
  controlNetSource,
  planBytes,
  planControlNet,
  planControlNetFile,
} from '../models/controlnet';
import { fetchListing } from '../models/hub-listing';
import type { ControlNetPlan } from '../protocol/load-plan';
import type { ControlSetting, DepthEstimatorSource, WireImage } from '../protocol/messages';
import type { AppStore } from '../store';
import { activeControlUnits, type ControlUnit } from '../store/controlnet';
import type { PageContext, WorkerSession } from './worker-session';

/** The depth preprocessor's estimator for models without one: DPT-Hybrid (MiDaS), as diffusers' depth ControlNet examples use. */
const CONTROL_DEPTH_MODEL = 'Xenova/dpt-hybrid-midas';

export type ControlNetActions = ReturnType<typeof createControlNetActions>;

export function createControlNetActions({
  store,
  session,
  page,
  onFilesChanged,
}: {
  store: AppStore;
  session: WorkerSession;
  page: PageContext;
  /** A ControlNet downloaded (or failed to): the cache list may have changed. */
  onFilesChanged: () => void;
}) {
  /** Each unit's plan, by unit key: how to load its ControlNet again (a picked file included). */
  const plans = new Map<number, ControlNetPlan>();
  /**
   * Plan ids the current worker holds, each with the model and backend it was built beside (a
   * ControlNet computes on its model's backend and compute type: another model loads it again).
   * A new worker holds none.
   */
  const sent = new Map<string, string>();
  const besideModel = (): string => {
    const m = store.getState().model;
    return m ? `${m.modelId}|${m.backend}` : '';
  };

  const unit = (key: number): ControlUnit | undefined => store.getState().controlUnits.find((u) => u.key === key);
  const change = (key: number, patch: Partial<Omit<ControlUnit, 'key'>>) =>
    store.getState().controlUnitChanged(key, patch);

  function forgetSent(): void {
    sent.clear();
  }

  const depthEstimator = (): DepthEstimatorSource => ({
    kind: 'hub',
    modelId: CONTROL_DEPTH_MODEL,
    revision: 'main',
    hub: page.hub(),
  });

  /** Loads a plan into the worker, with the model it runs beside; its units say it is ready, and where. */
  async function send(plan: ControlNetPlan): Promise<void> {
    await session.ensureModel();
    const result = await session.client
      .request('loadControlNet', { plan }, { onProgress: session.onProgress })
      .finally(onFilesChanged);
    sent.set(plan.id, besideModel());
    const where = store.getState().model?.backend === 'webgpu' ? 'WebGPU' : 'WASM';
    const status = `${result.name}: a ControlNet for ${result.base}, ready on ${where}.`;
    for (const [key, p] of plans) if (p.id === plan.id) change(key, { net: result, status });
  }

  async function load(key: number, makePlan: () => Promise<ControlNetPlan>): Promise<void> {
    change(key, { loading: true, error: null, status: 'Finding the ControlNet…' });
    try {
      const plan = await makePlan();
      const bytes = planBytes(plan);
      const catalog = CONTROLNET_CATALOG.find((c) => plan.id.startsWith(`controlnet:${c.repo}@`));
      const size = bytes !== null ? formatBytes(bytes) : catalog ? `about ${formatBytes(catalog.approxBytes)}` : null;
      change(key, {
        status: [
          plan.source.format === 'single-file' ? `Reading ${plan.source.fileName}` : `Loading ${plan.name}`,
          size ? `(${size})` : '',
          catalog ? `— licence: ${catalog.licence}` : '',
        ]
          .filter(Boolean)
          .join(' '),
      });
      const previous = plans.get(key);
      plans.set(key, plan);
      await send(plan);
      if (previous && previous.id !== plan.id && ![...plans.values()].some((p) => p.id === previous.id)) {
        sent.delete(previous.id);
        await session.client.request('removeControlNet', { id: previous.id }).catch(() => undefined);
      }
      change(key, { loading: false });
    } catch (error) {
      plans.delete(key);
      change(key, { loading: false, status: null, net: null, error: serializeError(error).message });
    }
  }

  /** The ControlNet typed in the unit (a catalog repo, any repo id, or a folder URL). */
  function loadControlNet(key: number): Promise<void> {
    const text = unit(key)?.input.trim() ?? '';
    return load(key, async () => {
      if (!text) throw new ValidationError('Enter a ControlNet repo id or folder URL, or pick a file.', 'controlnet');
      const { source } = controlNetSource(text);
      const hub = page.hub();
      const listing = source.kind === 'hub' ? await fetchListing(hub, source.repo, source.revision) : null;
      return planControlNet(text, hub, listing);
    });
  }

  function loadControlNetFile(key: number, file: File): Promise<void> {
    change(key, { input: file.name });
    return load(key, () => Promise.resolve(planControlNetFile(file)));
  }

  /** Chooses a catalog ControlNet: its repo typed in, its preprocessor set. */
  function chooseCatalog(key: number, repo: string): void {
    const entry = CONTROLNET_CATALOG.find((c) => c.repo === repo);
    if (!entry) return;
    change(key, { input: entry.repo, preprocessor: entry.preprocessor });
  }

  async function removeControlNet(key: number): Promise<void> {
    const plan = plans.get(key);
    plans.delete(key);
    dropControlPictures(key);
    surfaces.set(`control:${key}`, null);
    store.getState().controlUnitRemoved(key);
    if (plan && ![...plans.values()].some((p) => p.id === plan.id) && sent.delete(plan.id)) {
      await session.client.request('removeControlNet', { id: plan.id }).catch(() => undefined);
    }
  }

  async function setControlImage(key: number, file: File): Promise<void> {
    try {
      const { name } = await setControlPicture(key, file);
      change(key, { imageName: name, source: 'upload', error: null });
    } catch (error) {
      change(key, { error: serializeError(error).message });
    }
  }

  /** The unit's picture before preprocessing: its scribble, the start image, or the upload. */
  function sourcePicture(u: ControlUnit, width: number, height: number): RgbaImage | null {
    if (u.preprocessor === 'scribble') return scribblePixels(u.key);
    if (u.source === 'start') return renderInitImage(width, height, store.getState().resizeMode);
    return controlPicturePixels(u.key);
  }

  const wire = (image: RgbaImage): WireImage => ({
    width: image.width,
    height: image.height,
    pixels: image.pixels.slice().buffer,
  });

  const preprocessOf = (u: ControlUnit) => ({
    preprocessor: u.preprocessor,
    cannyLow: u.cannyLow,
    cannyHigh: u.cannyHigh,
    ...(u.preprocessor === 'depth' ? { depthEstimator: depthEstimator() } : {}),
  });

  /** The control picture the ControlNet will see, drawn on the unit's preview (nothing to show: cleared). */
  async function refreshPreview(key: number): Promise<void> {
    const u = unit(key);
    if (!u) return;
    const { width, height } = store.getState();
    const picture = sourcePicture(u, width, height);
    if (!picture) {
      surfaces.set(`control:${key}`, null);
      return;
    }
    try {
      if (u.preprocessor === 'depth') await session.ensureModel();
      const out = await session.client.request('controlPreview', {
        image: wire(picture),
        width,
        height,
        ...preprocessOf(u),
      });
      surfaces.set(`control:${key}`, pictureOf(out.pixels, out.width, out.height));
      if (unit(key)?.error) change(key, { error: null });
    } catch (error) {
      change(key, { error: serializeError(error).message });
    }
  }

  /**
   * The ControlNets a run sends: each active unit's ControlNet loaded in this worker (again, for a
   * new one), with its picture. A unit without a picture is refused, naming it.
   */
  async function controlForRun(
    width: number,
    height: number,
  ): Promise<{ control: ControlSetting[]; records: ControlNetRecord[] }> {
    const units = activeControlUnits(store.getState().controlUnits);
    const control: ControlSetting[] = [];
    const records: ControlNetRecord[] = [];
    for (const [i, u] of units.entries()) {
      const plan = plans.get(u.key);
      if (!plan) continue;
      const picture = sourcePicture(u, width, height);
      if (!picture) {
        throw new ValidationError(
          u.preprocessor === 'scribble'
            ? `ControlNet ${i + 1} (${u.net?.name ?? plan.name}) has an empty scribble: draw on its pad.`
            : u.source === 'start'
              ? `ControlNet ${i + 1} uses the start image, and there is none: choose one.`
              : `ControlNet ${i + 1} (${u.net?.name ?? plan.name}) has no control picture: upload one, use the start image, or draw a scribble.`,
          'control-image-input',
        );
      }
      if (sent.get(plan.id) !== besideModel()) await send(plan);
      control.push({
        controlnet: plan.id,
        image: wire(picture),
        scale: u.scale,
        start: u.start,
        end: u.end,
        ...preprocessOf(u),
      });
      records.push({
        module: u.preprocessor,
        model: u.net?.name ?? plan.name,
        weight: u.scale,
        start: u.start,
        end: u.end,
        ...(u.preprocessor === 'canny' ? { cannyLow: u.cannyLow, cannyHigh: u.cannyHigh } : {}),
      });
    }
    return { control, records };
  }

  return {
    forgetSent,
    loadControlNet,
    loadControlNetFile,
    chooseCatalog,
    removeControlNet,
    setControlImage,
    refreshPreview,
    controlForRun,
  };
}
