/**
 * The page's action layer in Node: the worker session and the actions made by createActions, over
 * the real client and the real handler in memory (fake models), with a fresh store per test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActions, type AppActions } from '../../../src/app/actions';
import { InferenceClient } from '../../../src/client/inference-client';
import type { LoadModelParams } from '../../../src/protocol/messages';
import { createAppStore, type AppStore } from '../../../src/store';
import { DeviceLostError, ModelError } from '../../../src/core/errors';
import type { LoadedModel } from '../../../src/worker/loaded-model';
import { fakeLoadedModel } from '../../helpers/fake-models';
import { handlerWorker } from '../../helpers/in-memory-worker';
import { memoryStorage } from '../../helpers/memory-storage';

/** What a page needs that Node lacks for a run's picture: ImageData, as the canvas modules make it. */
class TestImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

interface Harness {
  store: AppStore;
  actions: AppActions;
  /** The load requests the worker got, in order. */
  loads: LoadModelParams[];
  asked: string[];
  workers: () => number;
}

/** A page in memory: `load` is what the worker does for a loadModel request. */
function page(load: (params: LoadModelParams) => Promise<LoadedModel> = async (p) => loaded(p)): Harness {
  const store = createAppStore(memoryStorage);
  const loads: LoadModelParams[] = [];
  const asked: string[] = [];
  let made = 0;
  const client = InferenceClient.create(() => {
    made++;
    return handlerWorker((params) => (loads.push(params), load(params))) as unknown as Worker;
  });
  const actions = createActions({
    client,
    store,
    confirm: (question) => (asked.push(question), false),
    page: {
      origin: 'http://127.0.0.1:4173',
      hub: () => 'http://127.0.0.1:4173/mock-hub',
      stallMs: null,
      wasmThreads: null,
      persistStorage: () => undefined,
      requireSafetyChecker: false,
    },
    pictures: { preview: () => undefined, cell: () => undefined, previewCleared: () => undefined },
  });
  return { store, actions, loads, asked, workers: () => made };
}

/** The fake model as loaded for the model the request names (so the session sees it as loaded). */
function loaded(params: LoadModelParams): LoadedModel {
  const model = fakeLoadedModel();
  return { ...model, result: { ...model.result, modelId: params.modelId } };
}

const small = (h: Harness) => {
  const s = h.store.getState();
  s.setSetting('modelId', 'tiny-sd');
  s.setSetting('width', 64);
  s.setSetting('height', 64);
  s.setSetting('steps', 3);
  s.setSetting('backend', 'wasm');
  // The fake UNet's prediction grows with the prompt's length: a short one keeps the picture in range.
  s.setSetting('prompt', 'a cat');
};

beforeEach(() => {
  vi.stubGlobal('ImageData', TestImageData);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the worker session', () => {
  it('a run loads the model, then reports started and done through the named job actions', async () => {
    const h = page();
    small(h);
    const states: string[] = [];
    h.store.subscribe((s, before) => {
      if (s.job.state !== before.job.state) states.push(s.job.state);
    });
    await h.actions.run.generate();
    expect(h.store.getState().job.error).toBeNull();
    expect(states).toEqual(['loading', 'generating', 'done']);
    const { job, model, result } = h.store.getState();
    expect(job).toMatchObject({ run: 1, step: 3, totalSteps: 3, error: null });
    expect(model?.modelId).toBe('tiny-sd');
    expect(result?.settings).toMatchObject({ width: 64, height: 64, steps: 3, model: 'tiny-sd' });
    // The model stays loaded: a second run loads nothing.
    await h.actions.run.generate();
    expect(h.loads).toHaveLength(1);
    expect(h.store.getState().job.run).toBe(2);
  });

  it("until the person picks one, a run uses the loaded model's own scheduler, and the select shows it", async () => {
    const h = page();
    small(h);
    h.store.getState().schedulerDefaulted('ddim');
    await h.actions.run.generate();
    expect(h.store.getState().scheduler).toBe('pndm');
    expect(h.store.getState().result?.settings.scheduler).toBe('pndm');
    h.store.getState().setSetting('scheduler', 'euler');
    await h.actions.run.generate();
    expect(h.store.getState().result?.settings.scheduler).toBe('euler');
  });

  it('seed −1 runs with a new seed each time, shown with the result, and the field stays −1', async () => {
    const h = page();
    small(h);
    h.store.getState().setSetting('seed', '-1');
    await h.actions.run.generate();
    const first = h.store.getState().result?.settings.seed;
    expect(first).toMatch(/^\d+$/);
    await h.actions.run.generate();
    expect(h.store.getState().result?.settings.seed).toMatch(/^\d+$/);
    expect(h.store.getState().result?.settings.seed).not.toBe(first);
    expect(h.store.getState().seed).toBe('-1');
  });

  it('a batch count of 3 makes three pictures with seeds seed, seed + 1, seed + 2', async () => {
    const h = page();
    small(h);
    h.store.getState().setSetting('seed', '7');
    h.store.getState().setSetting('batchCount', 3);
    const seeds: string[] = [];
    h.store.subscribe((s, before) => {
      if (s.result && s.result !== before.result) seeds.push(s.result.settings.seed);
    });
    await h.actions.run.generate();
    expect(h.store.getState().job.error).toBeNull();
    expect(seeds).toEqual(['7', '8', '9']);
    expect(h.store.getState().notice).toMatch(/Made 3 pictures, seeds 7 to 9/);
    h.store.getState().setSetting('batchCount', 17);
    await h.actions.run.generate();
    expect(h.store.getState().job.error).toMatchObject({ field: 'batchCount' });
    expect(h.store.getState().job.error?.message).toMatch(/Batch count must be a whole number from 1 to 16/);
  });

  it('Karras runs with the schedulers that have it and is refused by name with one that has not', async () => {
    const h = page();
    small(h);
    h.store.getState().setSetting('karras', true);
    h.store.getState().setSetting('scheduler', 'pndm');
    await h.actions.run.generate();
    expect(h.store.getState().job.error).toMatchObject({ field: 'karras' });
    expect(h.store.getState().job.error?.message).toMatch(
      /^PNDM has no Karras sigmas\. Karras works with LMS, Euler, DPM\+\+ 2M/,
    );
    expect(h.loads).toEqual([]);
    h.store.getState().setSetting('scheduler', 'dpmpp-2m');
    await h.actions.run.generate();
    expect(h.store.getState().job.error).toBeNull();
    expect(h.store.getState().result?.settings).toMatchObject({ scheduler: 'dpmpp-2m', karras: true });
  });

  it('a bad setting is refused before anything runs, and nothing is loaded', async () => {
    const h = page();
    small(h);
    h.store.getState().setSetting('width', 100);
    await h.actions.run.generate();
    expect(h.store.getState().job).toMatchObject({ state: 'error', step: 0, totalSteps: 0 });
    expect(h.store.getState().job.error?.message).toMatch(/Width must be a multiple of 8/);
    expect(h.loads).toEqual([]);
  });

  it('cancel stops the run between steps and the job says cancelled', async () => {
    const h = page();
    small(h);
    h.store.getState().setSetting('steps', 500);
    const unsubscribe = h.store.subscribe((s) => {
      if (s.job.step >= 3) h.actions.run.cancel();
    });
    await h.actions.run.generate();
    unsubscribe();
    expect(h.store.getState().job.state).toBe('cancelled');
    expect(h.store.getState().job.step).toBeLessThan(10);
    h.store.getState().setSetting('steps', 2);
    await h.actions.run.generate();
    expect(h.store.getState().job.state).toBe('done');
  });

  it('a failed load leaves no model: the job says why, and the next run loads again', async () => {
    let fail = true;
    const h = page(async (p) => {
      if (fail) throw new ModelError('unet/model.onnx was not found on the server (404).');
      return loaded(p);
    });
    small(h);
    await h.actions.run.generate();
    expect(h.store.getState().job.error?.message).toBe('unet/model.onnx was not found on the server (404).');
    expect(h.store.getState().model).toBeNull();
    fail = false;
    await h.actions.run.generate();
    expect(h.store.getState().job.state).toBe('done');
    expect(h.loads).toHaveLength(2);
  });

  it('a lost GPU device starts a fresh worker, which loads the model again on the next run', async () => {
    let lose = true;
    const h = page(async (p) => {
      const model = loaded(p);
      if (!lose) return model;
      lose = false;
      return {
        ...model,
        models: {
          ...model.models,
          unet: () => Promise.reject(new DeviceLostError('The GPU device was lost (test).')),
        },
      };
    });
    small(h);
    await h.actions.run.generate();
    expect(h.store.getState().job.error?.name).toBe('DeviceLostError');
    expect(h.store.getState().model).toBeNull();
    await h.actions.run.generate();
    expect(h.store.getState().job.state).toBe('done');
    expect(h.workers()).toBe(2);
    expect(h.loads).toHaveLength(2);
  });

  it('Load then Generate at once runs the model being added, not the one before it', async () => {
    const h = page();
    small(h);
    let answer: (r: Response) => void = () => undefined;
    vi.stubGlobal(
      'fetch',
      vi.fn(
        (url: string) =>
          new Promise<Response>((resolve) => {
            answer = resolve;
            expect(url).toBe('http://127.0.0.1:4199/sd/model_index.json');
          }),
      ),
    );
    const adding = h.actions.models.addCustomModel('http://127.0.0.1:4199/sd/');
    expect(h.store.getState().addingModel).toBe(true);
    const run = h.actions.run.generate();
    // The index arrives after Generate was pressed (a slow server).
    await new Promise((r) => setTimeout(r, 20));
    expect(h.loads).toEqual([]);
    answer(
      new Response(
        JSON.stringify({
          _class_name: 'StableDiffusionPipeline',
          text_encoder: ['transformers', 'CLIPTextModel'],
          unet: ['diffusers', 'UNet2DConditionModel'],
          vae_decoder: ['diffusers', 'AutoencoderKL'],
        }),
      ),
    );
    // No HEAD probe answers: the folder is read by its index alone.
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))),
    );
    expect(await adding).toBe(true);
    await run;
    expect(h.store.getState().addingModel).toBe(false);
    expect(h.loads.map((l) => l.modelId)).toEqual(['url:http://127.0.0.1:4199/sd/']);
    expect(h.store.getState().result?.settings.model).toBe('url:http://127.0.0.1:4199/sd/');
  });

  it('a model added from another hub asks before loading it from the page’s hub, and keeps its own when told to', async () => {
    const h = page();
    small(h);
    const fromA = {
      ...(await import('../../../src/models/catalog')).TINY_MODEL,
      id: 'hub:fixtures/sd1@main',
      source: { kind: 'hub' as const, repo: 'fixtures/sd1', revision: 'main', hub: 'http://127.0.0.1:4173/hub-a' },
      files: {},
    };
    h.store.getState().customModelAdded(fromA);
    h.store.getState().setSetting('modelId', fromA.id);
    await h.actions.run.generate();
    expect(h.asked).toHaveLength(1);
    expect(h.asked[0]).toContain('fixtures/sd1 was added from http://127.0.0.1:4173/hub-a');
    // Told no: its files come from the hub it was added from.
    const scheduler = h.loads[0]?.plan.scheduler;
    expect(scheduler && 'url' in scheduler ? scheduler.url : '').toMatch(
      /^http:\/\/127\.0\.0\.1:4173\/hub-a\/fixtures\/sd1\//,
    );
  });
});
