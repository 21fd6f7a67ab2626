/** The store's slices and their named actions, each test on a fresh store of its own. */
import { beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createAppStore, selectSchedulerShown } from '../../../src/store';
import { schedulerNameForConfig } from '../../../src/core/schedulers';
import type { LoadModelResult } from '../../../src/protocol/messages';
import { DEFAULT_MODEL, findModel } from '../../../src/models/catalog';
import { settingsFromStore, resultRecord } from '../../../src/app/generation';
import { fakeModels } from '../../helpers/fake-models';
import { memoryStorage } from '../../helpers/memory-storage';

let storage: ReturnType<typeof memoryStorage>;
let store: ReturnType<typeof createAppStore>;
beforeEach(() => {
  storage = memoryStorage();
  store = createAppStore(() => storage);
});

const loaded = (modelId: string): LoadModelResult => ({
  modelId,
  backend: 'wasm',
  fallbackReason: null,
  adapter: null,
  defaultScheduler: 'pndm',
  safetyChecker: null,
  schedulerConfig: {},
  info: fakeModels().info,
  precision: { textEncoder: 'float32', unet: 'float32', vae: 'float32' },
  loadMs: 1,
  bytes: 2,
});

describe('the store', () => {
  it('starts as a new visitor sees it: the default model and its defaults, nothing loaded', () => {
    const s = store.getState();
    expect(s.modelId).toBe(DEFAULT_MODEL.id);
    expect([s.steps, s.width, s.height]).toEqual([
      DEFAULT_MODEL.defaults.steps,
      DEFAULT_MODEL.defaults.width,
      DEFAULT_MODEL.defaults.height,
    ]);
    expect(s.model).toBeNull();
    expect(s.job.state).toBe('idle');
    expect(s.result).toBeNull();
  });

  it('each test has its own store: what the last one changed is not here', () => {
    store.getState().setSetting('prompt', 'a change');
    expect(createAppStore(() => memoryStorage()).getState().prompt).not.toBe('a change');
  });

  it('model: a load clears the download; forgetting leaves the cache list alone', () => {
    const s = store.getState();
    s.downloadProgressed({ file: 'unet', loaded: 1, total: 2, overallLoaded: 1, overallTotal: 2, startedAt: 0 });
    s.cacheListed([{ modelId: 'm', name: 'M', files: [], bytes: 3, lastUsed: 0 }], null);
    s.modelLoaded(loaded('m'));
    expect(store.getState().download).toBeNull();
    expect(store.getState().model?.modelId).toBe('m');
    store.getState().modelForgotten();
    expect(store.getState().model).toBeNull();
    expect(store.getState().cachedModels).toHaveLength(1);
  });

  it('job: previews arrive in order, a new result shows the final image and counts up', () => {
    const s = store.getState();
    s.previewArrived(2, 4);
    s.previewArrived(4, 4);
    expect(store.getState().previews).toEqual({ steps: [2, 4], totalSteps: 4, shown: 4 });
    s.previewChosen(2);
    const settings = settingsFromStore(store.getState(), 'txt2img');
    const record = resultRecord(settings, {
      width: 64,
      height: 64,
      pixels: new ArrayBuffer(0),
      seed: '9',
      truncated: '',
      backend: 'wasm',
      timings: { encodeMs: 1, denoiseMs: 2, decodeMs: 3, totalMs: 7 },
    });
    s.resultShown(record);
    s.resultShown(record);
    const { result, previews } = store.getState();
    expect(result?.version).toBe(2);
    expect(result?.settings.seed).toBe('9');
    expect(result?.run).toEqual({ backend: 'wasm', totalMs: 7, timings: { encodeMs: 1, denoiseMs: 2, decodeMs: 3 } });
    expect(previews.shown).toBeNull();
    store.getState().previewsCleared();
    expect(store.getState().previews.steps).toEqual([]);
  });

  it('job: a compare grid marks its cells as they arrive, for the run that started it', () => {
    const s = store.getState();
    for (let i = 0; i < 5; i++) s.jobCounted();
    const cells = [1.1, 8, 12].map((g) => ({ guidanceScale: g, steps: 20, scheduler: 'pndm' as const }));
    s.compareStarted(settingsFromStore(store.getState(), 'txt2img'), cells);
    s.compareCellArrived(1);
    const compare = store.getState().compare;
    expect(compare?.run).toBe(5);
    expect(compare?.cells.map((c) => c.done)).toEqual([false, true, false]);
  });

  it('editor: a new start image drops a depth map estimated for the old one, and its input error', () => {
    const s = store.getState();
    s.depthChanged({ width: 8, height: 8, source: 'estimated', forImage: 1 });
    s.inputFailed('bad file');
    s.initImageChanged({ name: 'a.png', width: 64, height: 64, version: 2 }, true);
    expect(store.getState().depth).toBeNull();
    expect(store.getState().inputError).toBeNull();
    s.depthChanged({ width: 8, height: 8, source: 'uploaded', forImage: null });
    s.initImageChanged({ name: 'b.png', width: 64, height: 64, version: 3 }, false);
    expect(store.getState().depth?.source).toBe('uploaded');
  });

  it('settings: removing the selected custom model selects the fallback; a custom model is found by id', () => {
    const custom = { ...DEFAULT_MODEL, id: 'url:http://127.0.0.1/m/', name: 'Mine' };
    const s = store.getState();
    s.customModelAdded(custom);
    s.customModelAdded(custom);
    expect(store.getState().customModels).toHaveLength(1);
    expect(findModel(custom.id, store.getState().customModels)?.name).toBe('Mine');
    s.setSetting('modelId', custom.id);
    s.customModelRemoved(custom.id, DEFAULT_MODEL.id);
    expect(store.getState().modelId).toBe(DEFAULT_MODEL.id);
    expect(findModel(custom.id, store.getState().customModels)).toBeUndefined();
  });

  it('settings: a LoRA added twice is there once; strengths and removal by name', () => {
    const s = store.getState();
    s.loraAdded('ink');
    s.loraAdded('ink');
    s.loraScaled('ink', 0.5);
    expect(store.getState().loras).toEqual([{ name: 'ink', scale: 0.5 }]);
    s.loraRemoved('ink');
    expect(store.getState().loras).toEqual([]);
  });

  it('persists the settings and only the settings', () => {
    const s = store.getState();
    s.setSetting('prompt', 'kept');
    s.modelLoaded(loaded('m'));
    s.say('not kept');
    const saved = JSON.parse([...storage.saved.values()].at(-1)!) as { state: Record<string, unknown> };
    expect(saved.state['prompt']).toBe('kept');
    expect(saved.state).not.toHaveProperty('model');
    expect(saved.state).not.toHaveProperty('notice');
    // A second store over the same storage starts with what the first kept.
    expect(createAppStore(() => storage).getState().prompt).toBe('kept');
  });
});

describe('an error about one setting', () => {
  const refuse = (field: string, message: string) =>
    store.getState().jobRefused({ name: 'ValidationError', message, field });

  it('goes as soon as that setting passes its check, without a run', () => {
    refuse('width', 'Width must be a multiple of 8 (…); the nearest is 248.');
    store.getState().setSetting('width', 250);
    expect(store.getState().job).toMatchObject({ state: 'error', error: { field: 'width' } });
    // Another setting changing leaves it: its cause is still there.
    store.getState().setSetting('height', 256);
    expect(store.getState().job.state).toBe('error');
    store.getState().setSetting('width', 256);
    expect(store.getState().job).toMatchObject({ state: 'idle', error: null });
  });

  it('seed −1 passes; a missing start image is answered by choosing one', () => {
    refuse('seed', 'Seed must be a whole number …');
    store.getState().setSetting('seed', '-1');
    expect(store.getState().job.error).toBeNull();
    refuse('image', 'This mode starts from an image: choose one first.');
    store.getState().initImageChanged(null, false);
    expect(store.getState().job.error).not.toBeNull();
    store.getState().initImageChanged({ name: 'a.png', width: 64, height: 64, version: 1 }, false);
    expect(store.getState().job.error).toBeNull();
  });
});

describe('the size', () => {
  it('swaps width and height in one action', () => {
    store.getState().setSetting('width', 768);
    store.getState().setSetting('height', 512);
    store.getState().sizeSwapped();
    expect([store.getState().width, store.getState().height]).toEqual([512, 768]);
  });
});

describe('the scheduler the select shows', () => {
  it("is the selected model's own before any run, where its files are known, and null where not", () => {
    store.getState().setSetting('modelId', 'shapes-sd');
    expect(selectSchedulerShown(store.getState())).toBe('ddim');
    store.getState().setSetting('modelId', 'tiny-sd');
    expect(selectSchedulerShown(store.getState())).toBe('pndm');
    // A hub checkpoint's scheduler config is read when it loads.
    store.getState().setSetting('modelId', 'sd15');
    expect(selectSchedulerShown(store.getState())).toBeNull();
    store.getState().modelLoaded({ ...loaded('sd15'), defaultScheduler: 'euler' });
    expect(selectSchedulerShown(store.getState())).toBe('euler');
  });

  it("is the person's choice once made, and the model's own again after 'Model default'", () => {
    store.getState().setSetting('modelId', 'shapes-sd');
    store.getState().setSetting('scheduler', 'euler');
    expect(selectSchedulerShown(store.getState())).toBe('euler');
    store.getState().schedulerUnchosen();
    expect(selectSchedulerShown(store.getState())).toBe('ddim');
  });

  it("names the app's own models' schedulers as their files do", () => {
    for (const id of ['tiny-sd', 'tiny-sd-inpaint', 'tiny-sd-depth', 'shapes-sd', 'shapes-sd-inpaint']) {
      const manifest = findModel(id, [])!;
      const path = 'path' in manifest.scheduler ? manifest.scheduler.path : '';
      const config = JSON.parse(readFileSync(`public/models/${id}/${path}`, 'utf8')) as Record<string, unknown>;
      expect(manifest.defaultScheduler).toBe(schedulerNameForConfig(config));
    }
  });
});
