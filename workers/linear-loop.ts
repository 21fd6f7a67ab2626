/**
 * The denoising loop with the latents kept where the runtime keeps them. Each step is two
 * session runs: the UNet, then the step graph (core/pipeline/step-graph), whose outputs are the
 * next UNet input and the scheduler state. On WebGPU every tensor between them is a GPU buffer,
 * so nothing latent-sized comes back to the CPU until the final latents; the text embeddings and
 * the noise buffer are uploaded once. The same code runs on onnxruntime-node in the tests, where
 * "resident" just means CPU tensors passed from one run to the next.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { CancelledError, ModelError } from '../src/core/errors';
import { float16ToFloat32, float32ToFloat16 } from '../src/core/float16';
import type { LinearDenoiseJob } from '../src/core/pipeline/models';
import { PLAN_COLUMNS, PLAN_WINDOW, STATE_ROWS } from '../src/core/schedulers/linear-plan';
import { tensor, type Tensor } from '../src/core/tensor';
import { timestepTensor, type InputSpec, type OrtModule } from './onnx-models';

/** Where long-lived loop inputs live: GPU buffers on WebGPU, plain tensors elsewhere. */
export interface ResidentMemory {
  /** A tensor holding `data` on the device, written once now. */
  upload(data: Float32Array | Uint16Array, type: 'float32' | 'float16', dims: readonly number[]): OrtTensor;
  /** Overwrites a tensor made by `upload` (same size). */
  write(target: OrtTensor, data: Float32Array): void;
  /** Resolves when the work submitted so far has finished (progress that is not ahead of the GPU). */
  settled(): Promise<void>;
  /** Frees everything `upload` made. */
  release(): void;
}

export interface LinearLoopParts {
  ort: OrtModule;
  unet: InferenceSession;
  step: InferenceSession;
  sampleSpec: InputSpec;
  timestepSpec: InputSpec;
  hiddenSpec: InputSpec;
  unetOutput: string;
  memory: () => ResidentMemory;
}

function inType(spec: InputSpec): 'float32' | 'float16' {
  if (spec.type === 'float32' || spec.type === 'float16') return spec.type;
  throw new ModelError(`Input "${spec.name}" has type ${spec.type}; float32 or float16 was expected.`);
}

function asType(data: Float32Array, type: 'float32' | 'float16'): Float32Array | Uint16Array {
  return type === 'float16' ? float32ToFloat16(data) : data;
}

export async function runLinearLoop(parts: LinearLoopParts, job: LinearDenoiseJob): Promise<Tensor> {
  const { ort, unet, step: stepSession } = parts;
  const dims = job.start.dims;
  const [, channels, height, width] = dims as [number, number, number, number];
  const n = channels * height * width;
  const batch = job.guidance.length;
  const sampleType = inType(parts.sampleSpec);
  const steps = job.plan.steps;
  if (steps.length === 0) return job.start;

  const memory = parts.memory();
  // Tensors this loop made or received and has not freed yet.
  const live = new Set<OrtTensor>();
  const hold = (t: OrtTensor): OrtTensor => (live.add(t), t);
  const free = (t: OrtTensor): void => {
    live.delete(t);
    t.dispose();
  };
  try {
    const text = memory.upload(
      asType(job.text.data, inType(parts.hiddenSpec)),
      inType(parts.hiddenSpec),
      job.text.dims,
    );
    const noise = memory.upload(new Float32Array(n), 'float32', [1, n]);
    const guidance = new ort.Tensor('float32', job.guidance, [batch, 1]);

    // The first UNet input and state are built here once; every later one comes out of the step graph.
    const cIn0 = steps[0]!.cIn;
    const first = new Float32Array(batch * n);
    for (let i = 0; i < n; i++) first[i] = cIn0 * job.start.data[i]!;
    for (let b = 1; b < batch; b++) first.copyWithin(b * n, 0, n);
    let sample = hold(new ort.Tensor(sampleType, asType(first, sampleType), [batch, channels, height, width]));
    const initial = new Float32Array(STATE_ROWS * n);
    initial.set(job.start.data, 0);
    let state = hold(new ort.Tensor('float32', initial, [STATE_ROWS, n]));
    let latents: OrtTensor | null = null;

    let previous: Promise<void> | null = null;
    for (const [k, s] of steps.entries()) {
      if (job.signal?.aborted) throw new CancelledError();
      const feeds = {
        [parts.sampleSpec.name]: sample,
        [parts.timestepSpec.name]: timestepTensor(ort, parts.timestepSpec, s.t),
        [parts.hiddenSpec.name]: text,
      };
      const output = (await unet.run(feeds))[parts.unetOutput];
      if (!output) throw new ModelError('The UNet returned no output.');
      const predicted = hold(output);
      if (s.needsNoise) memory.write(noise, job.noise(n));
      const last = k === steps.length - 1;
      const outputs = await stepSession.run(
        {
          noise_pred: predicted,
          state,
          guidance,
          noise,
          // Row 0 of the step matrix; the graph does the other rows' fixed window shift itself.
          weights: new ort.Tensor('float32', s.matrix.subarray(0, PLAN_COLUMNS), [PLAN_COLUMNS, 1]),
          c_in: new ort.Tensor('float32', Float32Array.of(steps[k + 1]?.cIn ?? 1), [1]),
        },
        last ? ['latents'] : ['next_state', 'unet_sample'],
      );
      free(predicted);
      free(sample);
      free(state);
      if (last) {
        latents = hold(outputs['latents']!);
      } else {
        sample = hold(outputs['unet_sample']!);
        state = hold(outputs['next_state']!);
      }
      // Report a step once the GPU has finished it, one step behind so the GPU always has work queued.
      const done = memory.settled();
      if (previous) {
        await previous;
        job.onStep(k);
      }
      previous = done;
    }
    await previous;
    job.onStep(steps.length);
    if (!latents) throw new ModelError('The step graph returned no latents.');
    // The one latent-sized read of the whole loop.
    const data = await latents.getData(true);
    free(latents);
    const values = data instanceof Float32Array ? data : float16ToFloat32(data as Uint16Array);
    return tensor(values, dims);
  } finally {
    // Whatever a failed or cancelled run still holds.
    for (const t of live) t.dispose();
    memory.release();
  }
}

/** Memory for CPU runtimes: tensors are plain arrays passed from one run to the next. */
export function cpuMemory(ort: OrtModule): ResidentMemory {
  return {
    upload: (data, type, dims) => new ort.Tensor(type, data.slice(), dims),
    write: (target, data) => (target.data as Float32Array).set(data),
    settled: () => Promise.resolve(),
    release: () => undefined,
  };
}

/**
 * The same linear loop on the CPU (the WASM backend): guidance, the scheduler's step and the next
 * UNet input in a few passes over buffers made once per image, so a step allocates nothing
 * latent-sized besides the UNet's own output. The state rows rotate by reference, not by copying.
 */
export async function runLinearLoopOnCpu(
  unet: (sample: Tensor, t: number, text: Tensor) => Promise<Tensor>,
  job: LinearDenoiseJob,
): Promise<Tensor> {
  const dims = job.start.dims;
  const [, channels, height, width] = dims as [number, number, number, number];
  const n = channels * height * width;
  const batch = job.guidance.length;
  const steps = job.plan.steps;
  const W = PLAN_WINDOW;
  let rows = Array.from({ length: STATE_ROWS }, () => new Float32Array(n));
  rows[0]!.set(job.start.data);
  let spareSample = new Float32Array(n);
  let spareEps = new Float32Array(n);
  const pair = new Float32Array(batch * n);
  const pairDims = [batch, channels, height, width];
  const cIn0 = steps[0]?.cIn ?? 1;
  for (let i = 0; i < n; i++) pair[i] = cIn0 * job.start.data[i]!;
  if (batch === 2) pair.copyWithin(n, 0, n);

  const g0 = job.guidance[0]!;
  const g1 = job.guidance[1] ?? 0;
  for (const [k, s] of steps.entries()) {
    if (job.signal?.aborted) throw new CancelledError();
    const out = (await unet(tensor(pair, pairDims), s.t, job.text)).data;
    if (job.signal?.aborted) throw new CancelledError();
    const noise = s.needsNoise ? job.noise(n) : null;
    // The state rows the step weighs (most weights are zero: DDIM uses the sample alone).
    const terms: { w: number; row: Float32Array }[] = [];
    for (let c = 0; c < STATE_ROWS; c++) if (s.matrix[c] !== 0) terms.push({ w: s.matrix[c]!, row: rows[c]! });
    const wEps = s.matrix[STATE_ROWS]!;
    const wNoise = noise ? s.matrix[STATE_ROWS + 1]! : 0;
    const cIn = steps[k + 1]?.cIn ?? 1;
    const eps = spareEps;
    const next = spareSample;
    // One pass: guidance, the new sample (row 0 of the step matrix) and the next UNet input.
    for (let i = 0; i < n; i++) {
      const e = batch === 2 ? g0 * out[i]! + g1 * out[n + i]! : g0 * out[i]!;
      eps[i] = e;
      let x = wEps * e + (noise ? wNoise * noise[i]! : 0);
      for (let t = 0; t < terms.length; t++) x += terms[t]!.w * terms[t]!.row[i]!;
      next[i] = x;
      pair[i] = cIn * x;
    }
    if (batch === 2) pair.copyWithin(n, 0, n);
    // The window shift (the other rows of every step matrix): the two rows that fall out are reused.
    spareSample = rows[W]!;
    spareEps = rows[2 * W]!;
    rows = [next, ...rows.slice(0, W), eps, ...rows.slice(W + 1, 2 * W)];
    job.onStep(k + 1);
  }
  return tensor(rows[0]!, dims);
}
