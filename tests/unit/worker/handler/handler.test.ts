import { describe, expect, it } from 'vitest';
import type {
  BenchGraphParams,
  BenchGraphResult,
  BenchParams,
  BenchResult,
} from '../../../../src/protocol/dev-messages';
import { DEV_REQUESTS, type DevRequestRows } from '../../../../src/protocol/dev-requests';
import { REQUESTS } from '../../../../src/protocol/requests';
import type { FromWorker } from '../../../../src/protocol/wire';
import { createHandler } from '../../../../src/worker/handler/handler';
import type { LoadedModel } from '../../../../src/worker/loaded-model';
import { fakeLoadedModel, fakeModels, NO_GPU } from '../../../helpers/fake-models';

function harness(info: Parameters<typeof fakeModels>[0] = {}, extra: Partial<LoadedModel> = {}) {
  const messages: { message: FromWorker; transfer: ArrayBuffer[] }[] = [];
  const estimated: number[] = [];
  const benched: BenchParams[] = [];
  const graphs: BenchGraphParams[] = [];
  const loaded = fakeLoadedModel(info, extra);
  const handle = createHandler<DevRequestRows>(
    {
      post: (message, transfer) => messages.push({ message, transfer }),
      capabilities: async () => NO_GPU,
      loadModel: async () => loaded,
      estimateDepth: async (image) => (
        estimated.push(image.width),
        {
          width: image.width,
          height: image.height,
          data: Float32Array.from({ length: image.width * image.height }, (_, i) => i % image.width),
        }
      ),
    },
    // The benchmark's kinds as the dev worker has them, with runners that record what they got.
    (slot) => ({
      rows: DEV_REQUESTS,
      runners: {
        bench: async (params) => (slot.require(), benched.push(params), {} as BenchResult),
        benchGraph: async (params) => (slot.require(), graphs.push(params), {} as BenchGraphResult),
        testHook: async () => ({ done: false }),
      },
    }),
  );
  /** Any message, well-formed (ToWorker) or not. */
  const send = (message: unknown) => handle(message);
  const until = async (id: number) => {
    for (let i = 0; i < 500; i++) {
      const done = messages.find((m) => m.message.id === id && m.message.type !== 'progress');
      if (done) return done;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`no reply to ${id}`);
  };
  return { messages, send, until, estimated, benched, graphs };
}

/** The message of an error reply ('' for any other reply). */
const errorText = (message: FromWorker): string => (message.type === 'error' ? message.error.message : '');

const generate = {
  prompt: 'a cat',
  negativePrompt: '',
  guidanceScale: 7.5,
  steps: 3,
  seed: '7',
  width: 64,
  height: 64,
  scheduler: 'pndm',
} as const;

const file = (path: string) => ({ url: `http://127.0.0.1/m/${path}`, path });
const load = {
  modelId: 'fake',
  backend: 'wasm',
  plan: {
    modelId: 'fake',
    name: 'Fake',
    cache: false,
    components: {
      format: 'onnx',
      textEncoder: file('text_encoder/model.onnx'),
      unet: file('unet/model.onnx'),
      vaeDecoder: file('vae_decoder/model.onnx'),
    },
    scheduler: file('scheduler/scheduler_config.json'),
    tokenizerConfig: file('tokenizer/tokenizer_config.json'),
    specialTokensMap: file('tokenizer/special_tokens_map.json'),
    dtype: 'fp32',
  },
};

describe('worker protocol', () => {
  it('round-trips load and generate with progress and a transferred pixel buffer', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({ type: 'request', id: 2, kind: 'generate', params: generate });
    expect((await h.until(1)).message).toMatchObject({
      type: 'result',
      kind: 'loadModel',
      result: { modelId: 'fake' },
    });
    const reply = await h.until(2);
    expect(reply.message.type).toBe('result');
    if (reply.message.type !== 'result' || reply.message.kind !== 'generate') throw new Error('not a generate result');
    expect(reply.message.result.width).toBe(64);
    expect(reply.message.result.pixels.byteLength).toBe(64 * 64 * 4);
    expect(reply.transfer).toEqual([reply.message.result.pixels]);
    const steps = h.messages.filter((m) => m.message.id === 2 && m.message.type === 'progress');
    expect(steps.length).toBeGreaterThanOrEqual(generate.steps + 1);
  });

  it('answers a bad request with a named error, never a throw', async () => {
    const h = harness();
    h.send({ type: 'request', id: 3, kind: 'generate', params: { ...generate, width: 100 } });
    expect((await h.until(3)).message).toMatchObject({
      type: 'error',
      error: { name: 'ValidationError', field: 'width' },
    });
    h.send({ type: 'request', id: 4, kind: 'generate', params: generate });
    expect((await h.until(4)).message).toMatchObject({ type: 'error', error: { message: 'No model is loaded yet.' } });
    h.send('nonsense');
    h.send({ type: 'request', id: 5, kind: 'explode', params: {} });
    expect(h.messages.some((m) => m.message.id === -1 && m.message.type === 'error')).toBe(true);
    expect((await h.until(5)).message).toMatchObject({ type: 'error', error: { name: 'ValidationError' } });
  });

  it('cancels a running generation between steps', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({ type: 'request', id: 2, kind: 'generate', params: { ...generate, steps: 200 } });
    for (let i = 0; i < 500 && !h.messages.some((m) => m.message.id === 2 && m.message.type === 'progress'); i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    h.send({ type: 'cancel', id: 2 });
    expect((await h.until(2)).message).toMatchObject({ type: 'error', error: { name: 'CancelledError' } });
  });
});

function wireImage(width = 64, height = 64) {
  const pixels = new Uint8ClampedArray(width * height * 4).map((_, i) => (i * 7) % 256);
  return { width, height, pixels: pixels.buffer };
}

describe('image modes through the protocol', () => {
  it('runs img2img and inpaint from transferred buffers', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({
      type: 'request',
      id: 2,
      kind: 'generate',
      params: { ...generate, mode: 'img2img', strength: 0.7, image: wireImage() },
    });
    const mask = new Uint8Array(64 * 64).fill(255, 0, 64 * 32);
    h.send({
      type: 'request',
      id: 3,
      kind: 'generate',
      params: {
        ...generate,
        mode: 'inpaint',
        image: wireImage(),
        mask: { width: 64, height: 64, pixels: mask.buffer },
      },
    });
    for (const id of [2, 3]) {
      const reply = (await h.until(id)).message;
      expect(reply).toMatchObject({
        type: 'result',
        kind: 'generate',
        result: { width: 64, encoderLatents: 'export-sampled' },
      });
    }
  });

  it('estimates depth when depth2img has none, and returns the map it used', async () => {
    const h = harness({ unetInChannels: 5 });
    h.send({
      type: 'request',
      id: 1,
      kind: 'loadModel',
      params: {
        ...load,
        depthEstimator: { kind: 'transformers', modelId: 'tiny-depth', baseUrl: '/models/tiny-depth' },
      },
    });
    h.send({
      type: 'request',
      id: 2,
      kind: 'generate',
      params: { ...generate, mode: 'depth2img', image: wireImage() },
    });
    const reply = await h.until(2);
    if (reply.message.type !== 'result' || reply.message.kind !== 'generate') throw new Error('no result');
    const depth = reply.message.result.depth!;
    expect(depth.width).toBe(64);
    expect(new Float32Array(depth.data)[5]).toBe(5);
    expect(reply.transfer).toHaveLength(3);
    expect(h.estimated).toEqual([64]);
    h.send({ type: 'request', id: 3, kind: 'estimateDepth', params: { image: wireImage(64, 64) } });
    expect((await h.until(3)).message).toMatchObject({ type: 'result', kind: 'estimateDepth', result: { width: 64 } });
  });

  it('explains what is missing: an image, a depth estimator, the right UNet', async () => {
    const h = harness({ unetInChannels: 5 });
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({ type: 'request', id: 2, kind: 'generate', params: { ...generate, mode: 'depth2img' } });
    expect((await h.until(2)).message).toMatchObject({ type: 'error', error: { field: 'image' } });
    h.send({
      type: 'request',
      id: 3,
      kind: 'generate',
      params: { ...generate, mode: 'depth2img', image: wireImage() },
    });
    expect(errorText((await h.until(3)).message)).toMatch(/no depth estimator/);
    h.send({ type: 'request', id: 4, kind: 'generate', params: { ...generate, mode: 'img2img', image: wireImage() } });
    expect(errorText((await h.until(4)).message)).toMatch(/depth model/);
    h.send({
      type: 'request',
      id: 5,
      kind: 'generate',
      params: { ...generate, mode: 'img2img', image: wireImage(32, 32) },
    });
    expect(errorText((await h.until(5)).message)).toMatch(/32×32/);
  });
});

describe('compare, tokens and previews through the protocol', () => {
  it('sends each compare cell as transferred progress, then a summary', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    const cells = [1.1, 8, 12].map((g) => ({ guidanceScale: g, steps: 2, scheduler: 'ddim' }));
    h.send({ type: 'request', id: 2, kind: 'compare', params: { ...generate, cells } });
    expect((await h.until(2)).message).toMatchObject({ type: 'result', result: { cells: 3 } });
    const cellMessages = h.messages.filter((m) => m.message.type === 'progress' && m.message.progress.kind === 'cell');
    expect(
      cellMessages.map((m) =>
        m.message.type === 'progress' && m.message.progress.kind === 'cell' ? m.message.progress.index : -1,
      ),
    ).toEqual([0, 1, 2]);
    expect(cellMessages.every((m) => m.transfer.length === 1 && m.transfer[0]!.byteLength === 64 * 64 * 4)).toBe(true);
    h.send({
      type: 'request',
      id: 3,
      kind: 'compare',
      params: { ...generate, cells: [{ guidanceScale: 'x', steps: 2, scheduler: 'ddim' }] },
    });
    expect((await h.until(3)).message).toMatchObject({ type: 'error', error: { field: 'guidanceScale' } });
  });

  it('previews every k steps when asked, and never otherwise', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({
      type: 'request',
      id: 2,
      kind: 'generate',
      params: { ...generate, scheduler: 'ddim', steps: 6, preview: { every: 2, kind: 'fast' } },
    });
    h.send({ type: 'request', id: 3, kind: 'generate', params: { ...generate, scheduler: 'ddim', steps: 6 } });
    await h.until(3);
    const previews = (id: number) =>
      h.messages.filter(
        (m) => m.message.id === id && m.message.type === 'progress' && m.message.progress.kind === 'preview',
      );
    expect(
      previews(2).map((m) =>
        m.message.type === 'progress' && m.message.progress.kind === 'preview' ? m.message.progress.step : 0,
      ),
    ).toEqual([2, 4, 6]);
    expect(previews(3)).toHaveLength(0);
    h.send({ type: 'request', id: 4, kind: 'generate', params: { ...generate, preview: { every: 0, kind: 'fast' } } });
    expect((await h.until(4)).message).toMatchObject({ type: 'error', error: { field: 'preview' } });
  });

  it('tokenizes with the loaded model', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({ type: 'request', id: 2, kind: 'tokenize', params: { text: 'abc' } });
    const reply = (await h.until(2)).message;
    if (reply.type !== 'result' || reply.kind !== 'tokenize') throw new Error('no tokens');
    const [chunk, ...more] = reply.result.chunks;
    expect(more).toEqual([]);
    expect(chunk!.ids.slice(0, 3)).toEqual([49406, 3, 49407]);
    expect(chunk!.ids).toHaveLength(77);
    expect(chunk!.weights.every((w) => w === 1)).toBe(true);
  });
});

describe('benchmark requests', () => {
  it('pass the loop choice and repeats on, and time graphs from this origin only', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    await h.until(1);
    const size = { width: 64, height: 64, steps: 2, runs: 1 };
    h.send({
      type: 'request',
      id: 2,
      kind: 'bench',
      params: { ...size, resident: false, graphUrl: '/bench/g.onnx', repeats: 5 },
    });
    expect((await h.until(2)).message.type).toBe('result');
    expect(h.benched).toEqual([{ ...size, resident: false, repeats: 5, graphUrl: '/bench/g.onnx' }]);
    h.send({ type: 'request', id: 3, kind: 'bench', params: { ...size, graphUrl: 'https://example.com/g.onnx' } });
    const refused = (await h.until(3)).message;
    expect(refused.type === 'error' && refused.error.message).toBe('graphUrl must be a path on this origin.');
    expect(h.benched).toHaveLength(1);
  });

  it('time one graph with its external data, from this origin only', async () => {
    const h = harness();
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    await h.until(1);
    const graph = {
      url: '/b/unet.onnx',
      external: { path: 'w', url: '/b/w.safetensors' },
      dims: { batch: 2 },
      repeats: 3,
    };
    h.send({ type: 'request', id: 2, kind: 'benchGraph', params: graph });
    expect((await h.until(2)).message.type).toBe('result');
    expect(h.graphs).toEqual([graph]);
    h.send({
      type: 'request',
      id: 3,
      kind: 'benchGraph',
      params: { ...graph, external: { path: 'w', url: 'http://x/w' } },
    });
    const refused = (await h.until(3)).message;
    expect(refused.type === 'error' && refused.error.message).toBe(
      'external must be {path, url} with a path on this origin.',
    );
    h.send({ type: 'request', id: 4, kind: 'benchGraph', params: { ...graph, dims: { batch: -1 } } });
    const badDims = (await h.until(4)).message;
    expect(badDims.type === 'error' && badDims.error.message).toBe('dims must map names to whole numbers.');
    expect(h.graphs).toHaveLength(1);
  });
});

describe('LoRAs in the worker', () => {
  it('a LoRA build that fails falls back to the plain model and forgets the last build (its sessions may be gone)', async () => {
    let builds = 0;
    const h = harness(
      {},
      {
        withAdditions: async () => {
          builds++;
          if (builds === 2) throw new Error('session creation failed');
          return fakeModels({}, true);
        },
      },
    );
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    await h.until(1);
    const { encodeSafetensors } = await import('../../../../src/core/formats/safetensors');
    const file = encodeSafetensors([
      { name: 'lora_unet_x.lora_down.weight', dtype: 'F32', shape: [1], data: new Uint8Array(4) },
    ]);
    h.send({ type: 'request', id: 2, kind: 'addLora', params: { name: 'style', bytes: file.buffer } });
    expect((await h.until(2)).message.type).toBe('result');
    const run = async (id: number, scale: number) => {
      h.send({ type: 'request', id, kind: 'generate', params: { ...generate, loras: [{ name: 'style', scale }] } });
      return (await h.until(id)).message;
    };
    expect((await run(3, 0.8)).type).toBe('result');
    const failed = await run(4, 0.3);
    expect(failed.type === 'error' && failed.error.message).toBe('session creation failed');
    // Back to 0.8: built again, not taken from the build before the failure.
    expect((await run(5, 0.8)).type).toBe('result');
    expect(builds).toBe(3);
    h.send({
      type: 'request',
      id: 6,
      kind: 'generate',
      params: { ...generate, loras: [{ name: 'missing', scale: 1 }] },
    });
    const missing = (await h.until(6)).message;
    expect(missing.type === 'error' && missing.error.message).toBe(
      'The LoRA "missing" is not loaded: add its file again.',
    );
  });
});

describe('errors crossing the boundary', () => {
  it('keep their names whatever a minifier does to class names', async () => {
    const { CancelledError, ValidationError, serializeError } = await import('../../../../src/core/errors');
    // What a minifier does: the classes' own names become one letter.
    const renamed = [CancelledError, ValidationError].map(
      (c) => [c, Object.getOwnPropertyDescriptor(c, 'name')!] as const,
    );
    for (const [c] of renamed) Object.defineProperty(c, 'name', { value: 'e', configurable: true });
    try {
      expect(CancelledError.name).toBe('e');
      expect(serializeError(new CancelledError())).toEqual({ name: 'CancelledError', message: 'Cancelled.' });
      expect(serializeError(new ValidationError('bad', 'width'))).toEqual({
        name: 'ValidationError',
        message: 'bad',
        field: 'width',
      });
    } finally {
      for (const [c, descriptor] of renamed) Object.defineProperty(c, 'name', descriptor);
    }
  });
});

describe('fuzz: random and malformed messages', () => {
  /** A small seeded generator, so a failure can be replayed. */
  function rng(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  function randomValue(r: () => number, depth = 0): unknown {
    const pick = Math.floor(r() * 12);
    switch (pick) {
      case 0:
        return null;
      case 1:
        return undefined;
      case 2:
        return r() < 0.5 ? Number.MAX_VALUE : -1e308 * r();
      case 3:
        return Math.floor(r() * 2000) - 500;
      case 4:
        return Number.NaN;
      case 5:
        return 'x'.repeat(Math.floor(r() * 3000));
      case 6:
        return ['pndm', 'euler', 'img2img', 'inpaint', '42', '', 'webgpu'][Math.floor(r() * 7)];
      case 7:
        return r() < 0.5;
      case 8:
        return new ArrayBuffer(Math.floor(r() * 64));
      case 9:
        return depth > 2 ? [] : Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
      default: {
        if (depth > 2) return {};
        const keys = [
          'prompt',
          'seed',
          'width',
          'height',
          'steps',
          'guidanceScale',
          'scheduler',
          'mode',
          'image',
          'mask',
          'depth',
          'cells',
          'text',
          'plan',
          'backend',
          'modelId',
          'preview',
          'strength',
          'pixels',
          'data',
        ];
        return Object.fromEntries(keys.filter(() => r() < 0.4).map((k) => [k, randomValue(r, depth + 1)]));
      }
    }
  }

  it('answers 600 random messages with an error (or a result), never a throw or a hang', async () => {
    const h = harness();
    const r = rng(20261125);
    const kinds = [...Object.keys(REQUESTS), ...Object.keys(DEV_REQUESTS), 'nope'];
    const expected: number[] = [];
    for (let i = 0; i < 600; i++) {
      const id = 1000 + i;
      const shape = Math.floor(r() * 5);
      const message =
        shape === 0
          ? randomValue(r)
          : shape === 1
            ? { type: 'request', id, kind: kinds[Math.floor(r() * kinds.length)] }
            : {
                type: r() < 0.95 ? 'request' : 'cancel',
                id,
                kind: kinds[Math.floor(r() * kinds.length)],
                params: r() < 0.5 ? { ...generate, ...(randomValue(r) as object) } : randomValue(r),
              };
      expect(() => h.send(message)).not.toThrow();
      const m = message as { type?: unknown; id?: unknown };
      if (typeof m === 'object' && m !== null && m.type === 'request') expected.push(id);
    }
    for (const id of expected) {
      const reply = await h.until(id);
      expect(['error', 'result']).toContain(reply.message.type);
      if (reply.message.type === 'error') {
        expect(typeof reply.message.error.name).toBe('string');
        expect(reply.message.error.message.length).toBeGreaterThan(0);
      }
    }
    // The worker still works afterwards.
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    h.send({ type: 'request', id: 2, kind: 'generate', params: generate });
    expect((await h.until(2)).message.type).toBe('result');
  }, 60_000);
});

describe('the safety checker gate', () => {
  /** A checker that flags every second picture it sees (the 2nd, 4th, …), and counts them. */
  function alternatingChecker(required = false) {
    const seen: number[] = [];
    return {
      seen,
      checker: {
        source: 'model' as const,
        required,
        async check(image: { width: number }) {
          seen.push(image.width);
          const flagged = seen.length % 2 === 0;
          return {
            flagged,
            conceptScores: [flagged ? 0.1 : -0.1, -0.5],
            specialScores: [-0.3],
            badConcepts: flagged ? [0] : [],
            specialCare: [],
          };
        },
      },
    };
  }
  const result = (m: FromWorker) => (m.type === 'result' && m.kind === 'generate' ? m.result : null);

  it('checks each picture, sends a flagged one without pixels, and skips the checker only when not required', async () => {
    for (const required of [false, true]) {
      const { checker, seen } = alternatingChecker(required);
      const h = harness({}, { safety: checker });
      h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
      const replies = [];
      for (let i = 0; i < 4; i++) {
        h.send({ type: 'request', id: 10 + i, kind: 'generate', params: { ...generate, seed: String(i) } });
        replies.push(result((await h.until(10 + i)).message)!);
      }
      expect(seen).toHaveLength(4);
      expect(replies.map((r) => r.safety?.flagged)).toEqual([false, true, false, true]);
      for (const r of replies) {
        expect(r.safety?.source).toBe('model');
        expect(r.pixels.byteLength).toBe(r.safety?.flagged ? 0 : 64 * 64 * 4);
      }
      // Turned off by the person: not run, unless the site requires it.
      h.send({ type: 'request', id: 30, kind: 'generate', params: { ...generate, safetyChecker: false } });
      const off = result((await h.until(30)).message)!;
      expect(off.safety === undefined).toBe(!required);
    }
  });

  it('a flagged compare cell comes without pixels; a flagged preview is not sent', async () => {
    const { checker } = alternatingChecker();
    const h = harness({}, { safety: checker });
    h.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    const cells = [1, 2, 3, 4].map((g) => ({ guidanceScale: g, steps: 3, scheduler: 'pndm' }));
    h.send({ type: 'request', id: 2, kind: 'compare', params: { ...generate, cells } });
    await h.until(2);
    const sent = h.messages.flatMap(({ message: m }) =>
      m.type === 'progress' && m.id === 2 && m.progress.kind === 'cell' ? [m.progress] : [],
    );
    expect(sent.map((c) => c.safety?.flagged)).toEqual([false, true, false, true]);
    for (const cell of sent) expect(cell.pixels.byteLength === 0).toBe(cell.safety?.flagged === true);

    const previewing = alternatingChecker();
    const p = harness({}, { safety: previewing.checker });
    p.send({ type: 'request', id: 1, kind: 'loadModel', params: load });
    const preview = { every: 1, kind: 'fast' };
    p.send({ type: 'request', id: 3, kind: 'generate', params: { ...generate, steps: 6, preview } });
    await p.until(3);
    const previews = p.messages.filter(
      ({ message: m }) => m.type === 'progress' && m.id === 3 && m.progress.kind === 'preview',
    );
    // PNDM's 6 steps make 7 previews; each checked, then the picture: every second one flagged
    // (previews 2, 4, 6 and the picture), and those previews not sent.
    expect(previewing.seen).toHaveLength(8);
    expect(previews).toHaveLength(4);
    expect(result((await p.until(3)).message)?.safety?.flagged).toBe(true);
  });
});
