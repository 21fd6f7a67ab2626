import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { img2img } from '../../../../src/core/pipeline/img2img';
import type { Models } from '../../../../src/core/pipeline/models';
import { stepGraph } from '../../../../src/core/pipeline/step-graph';
import { txt2img } from '../../../../src/core/pipeline/txt2img';
import { TorchGenerator } from '../../../../src/core/math/random';
import {
  createScheduler,
  SCHEDULER_NAMES,
  strengthTimesteps,
  type SchedulerName,
} from '../../../../src/core/schedulers';
import { applyLinearStep, linearPlan, PLAN_COLUMNS, STATE_ROWS } from '../../../../src/core/schedulers/linear-plan';
import { float16ToFloat32, float32ToFloat16 } from '../../../../src/core/math/float16';
import type { Txt2ImgParams } from '../../../../src/core/validate';
import { cpuMemory } from '../../../../src/worker/runtime/linear-loop';
import { createOnnxModels } from '../../../../src/worker/runtime/onnx-models';
import { createClipTokenizer } from '../../../../src/worker/loading/tokenizer';
import { readJson, TINY_DIR } from '../../../helpers/node-models';

const SD_CONFIG = readJson<Record<string, unknown>>(`${TINY_DIR}scheduler/scheduler_config.json`);
const VARIANTS: [SchedulerName, Record<string, unknown>][] = [
  ...SCHEDULER_NAMES.map((name): [SchedulerName, Record<string, unknown>] => [name, SD_CONFIG]),
  ['dpmpp-2m', { ...SD_CONFIG, use_karras_sigmas: true }],
  ['euler', { ...SD_CONFIG, timestep_spacing: 'trailing' }],
  ['ddim', { ...SD_CONFIG, prediction_type: 'v_prediction' }],
];

/** A nonlinear stand-in for the UNet, so the test does not depend on a linear model output. */
function fakeEps(scaled: Float32Array, t: number): Float32Array {
  return scaled.map((x, i) => Math.tanh(0.7 * x + t / 1000) + 0.1 * Math.sin(i));
}

/** The plain loop and the linear plan on the same inputs, to the final latents. */
function bothLoops(name: SchedulerName, config: Record<string, unknown>, steps: number, strength?: number) {
  const setUp = () => {
    const s = createScheduler(name, config);
    const timesteps =
      strength === undefined ? (s.setTimesteps(steps), s.timesteps) : strengthTimesteps(s, steps, strength);
    return { s, timesteps };
  };
  const n = 64;
  const start = new TorchGenerator(3).randn(n).map((x) => x * setUp().s.initNoiseSigma);

  const { s: plain, timesteps } = setUp();
  const g1 = new TorchGenerator(9);
  let latents: Float32Array = start;
  for (const t of timesteps) {
    const eps = fakeEps(plain.scaleModelInput(latents, t), t);
    latents = plain.step(eps, t, latents, plain.needsNoise(t) ? g1.randn(n) : undefined);
  }

  const plan = linearPlan(setUp().s, timesteps);
  if (!plan) return { plain: latents, linear: null };
  const g2 = new TorchGenerator(9);
  let state: Float32Array = new Float32Array(STATE_ROWS * n);
  state.set(start, 0);
  for (const step of plan.steps) {
    const sample = state.subarray(0, n);
    const eps = fakeEps(
      sample.map((x) => x * step.cIn),
      step.t,
    );
    const noise = step.needsNoise ? g2.randn(n) : new Float32Array(n);
    state = applyLinearStep(step.matrix, state, eps, noise, n);
  }
  return { plain: latents, linear: state.slice(0, n) };
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let size = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    size = Math.max(size, Math.abs(b[i]!));
  }
  return diff / size;
}

describe('linear plan of a scheduler', () => {
  it.each(VARIANTS)('%s: the plan reproduces the scheduler loop (12 steps) %#', (name, config) => {
    const { plain, linear } = bothLoops(name, config, 12);
    expect(linear).not.toBeNull();
    expect(relativeError(linear!, plain)).toBeLessThan(1e-5);
  });

  it.each(SCHEDULER_NAMES)('%s: the plan reproduces img2img at strength 0.6', (name) => {
    const { plain, linear } = bothLoops(name, SD_CONFIG, 10, 0.6);
    expect(linear).not.toBeNull();
    expect(relativeError(linear!, plain)).toBeLessThan(1e-5);
  });

  it('refuses a scheduler that is not linear (DDIM clipping x0 to ±1)', () => {
    const { linear } = bothLoops('ddim', { ...SD_CONFIG, clip_sample: true }, 8);
    expect(linear).toBeNull();
  });

  it('PNDM looks back 3 model outputs and one sample; the matrix shifts the window', () => {
    const s = createScheduler('pndm', SD_CONFIG);
    s.setTimesteps(10);
    const plan = linearPlan(s, s.timesteps)!;
    const late = plan.steps[6]!.matrix;
    // Row 0: weights on the sample, outputs k−1…k−3 (PLMS 4th order: −59/24, 37/24, −9/24 scaled), none on k−4.
    const row = Array.from(late.subarray(0, PLAN_COLUMNS));
    expect(row.slice(5, 8).every((w) => w !== 0)).toBe(true);
    expect(row[8]).toBe(0);
    expect(late[1 * PLAN_COLUMNS + 0]).toBe(1); // sample k becomes sample k−1
    expect(late[5 * PLAN_COLUMNS + STATE_ROWS]).toBe(1); // output k becomes output k−1
  });
});

describe('step graph', () => {
  it('computes guidance, the step and the next UNet input as the CPU reference (float32 and float16)', async () => {
    const [c, h, w] = [4, 2, 3];
    const n = c * h * w;
    const g = new TorchGenerator(5);
    const pred = g.randn(2 * n);
    const state = g.randn(STATE_ROWS * n);
    const noise = g.randn(n);
    // A plan-shaped matrix: the scheduler's row 0 (random here) over the fixed window shift.
    const s = createScheduler('pndm', SD_CONFIG);
    s.setTimesteps(10);
    const matrix = linearPlan(s, s.timesteps)!.steps[6]!.matrix.slice();
    matrix.set(g.randn(PLAN_COLUMNS), 0);
    const scale = 7.5;
    const eps = pred.subarray(0, n).map((u, i) => u + scale * (pred[n + i]! - u));
    const expected = applyLinearStep(matrix, state, eps, noise, n);
    for (const dtype of ['float32', 'float16'] as const) {
      const session = await ort.InferenceSession.create(stepGraph(dtype));
      const predData = dtype === 'float16' ? float32ToFloat16(pred) : pred;
      const out = await session.run({
        noise_pred: new ort.Tensor(dtype, predData, [2, c, h, w]),
        state: new ort.Tensor('float32', state, [STATE_ROWS, n]),
        guidance: new ort.Tensor('float32', Float32Array.of(1 - scale, scale), [2, 1]),
        noise: new ort.Tensor('float32', noise, [1, n]),
        weights: new ort.Tensor('float32', matrix.subarray(0, PLAN_COLUMNS), [PLAN_COLUMNS, 1]),
        c_in: new ort.Tensor('float32', Float32Array.of(0.25), [1]),
      });
      const tolerance = dtype === 'float16' ? 5e-3 : 1e-5;
      const next = out['next_state']!.data as Float32Array;
      expect(relativeError(next, expected)).toBeLessThan(tolerance * 10);
      expect(Array.from(out['latents']!.dims)).toEqual([1, n]);
      const unetSample = out['unet_sample']!;
      expect(Array.from(unetSample.dims)).toEqual([2, c, h, w]);
      expect(unetSample.type).toBe(dtype);
      const values =
        dtype === 'float16' ? float16ToFloat32(unetSample.data as Uint16Array) : (unetSample.data as Float32Array);
      const want = expected.subarray(0, n).map((x) => 0.25 * x);
      expect(relativeError(values.subarray(0, n), want)).toBeLessThan(tolerance * 10);
      expect(relativeError(values.subarray(n), want)).toBeLessThan(tolerance * 10);
    }
  });
});

/** The tiny model on onnxruntime-node with the plain loop or the step-graph loop (what WebGPU runs, here on the CPU EP). */
type Loop = 'plain' | 'graph';
async function tinyModels(loop: Loop): Promise<{ models: Models; loops: { count: number } }> {
  const session = (part: string) => ort.InferenceSession.create(readFileSync(`${TINY_DIR}${part}/model.onnx`));
  const [textEncoder, unet, vaeDecoder, vaeEncoder] = await Promise.all(
    ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'].map(session),
  );
  const tokenizer = createClipTokenizer(
    readJson<object>(`${TINY_DIR}tokenizer/tokenizer.json`),
    readJson<Record<string, unknown>>(`${TINY_DIR}tokenizer/tokenizer_config.json`),
  );
  const models = createOnnxModels(
    ort,
    { textEncoder: textEncoder!, unet: unet!, vaeDecoder: vaeDecoder!, vaeEncoder: vaeEncoder! },
    {
      tokenize: (text) => tokenizer.tokenize(text),
      ...(loop === 'graph'
        ? {
            resident: {
              createStepSession: (bytes) => ort.InferenceSession.create(bytes),
              memory: () => cpuMemory(ort),
            },
          }
        : {}),
    },
  );
  const loops = { count: 0 };
  const run = models.denoiseLinear;
  if (run) {
    (models as { denoiseLinear?: Models['denoiseLinear'] }).denoiseLinear = (job) => {
      loops.count++;
      return run(job);
    };
  }
  return { models, loops };
}

function maxPixelDifference(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('step-graph loop on onnxruntime-node', () => {
  const loop = 'graph';
  const base: Txt2ImgParams = {
    prompt: 'A painting of a flooble',
    negativePrompt: 'blurry',
    guidanceScale: 7.5,
    steps: 6,
    seed: 42n,
    width: 64,
    height: 64,
    scheduler: 'pndm',
  };

  it.each(SCHEDULER_NAMES)('%s: the same image as the plain loop', async (scheduler) => {
    const plain = await tinyModels('plain');
    const resident = await tinyModels(loop);
    const a = await txt2img(plain.models, { ...base, scheduler }, { schedulerConfig: SD_CONFIG });
    const steps: number[] = [];
    const b = await txt2img(
      resident.models,
      { ...base, scheduler },
      { schedulerConfig: SD_CONFIG, onProgress: (p) => p.phase === 'denoise' && steps.push(p.step) },
    );
    expect(resident.loops.count).toBe(1);
    expect(steps.at(-1)).toBe(scheduler === 'pndm' ? 7 : 6); // PNDM runs one step more
    expect(maxPixelDifference(a.image.pixels, b.image.pixels)).toBeLessThanOrEqual(1);
  });

  it('unguided (batch 1) and img2img at strength 0.5 match too; previews keep the plain loop', async () => {
    const plain = await tinyModels('plain');
    const resident = await tinyModels(loop);
    const unguided = { ...base, guidanceScale: 1, scheduler: 'euler-ancestral' as const };
    const a = await txt2img(plain.models, unguided, { schedulerConfig: SD_CONFIG });
    const b = await txt2img(resident.models, unguided, { schedulerConfig: SD_CONFIG });
    expect(maxPixelDifference(a.image.pixels, b.image.pixels)).toBeLessThanOrEqual(1);

    const image = { width: 64, height: 64, pixels: a.image.pixels };
    const params = { ...base, scheduler: 'dpmpp-2m' as const, image, strength: 0.5 };
    const c = await img2img(plain.models, params, { schedulerConfig: SD_CONFIG });
    const d = await img2img(resident.models, params, { schedulerConfig: SD_CONFIG });
    expect(resident.loops.count).toBe(2);
    expect(maxPixelDifference(c.image.pixels, d.image.pixels)).toBeLessThanOrEqual(1);

    await txt2img(resident.models, base, {
      schedulerConfig: SD_CONFIG,
      preview: { every: 2, onPreview: () => undefined },
    });
    expect(resident.loops.count).toBe(2);
  });
});
