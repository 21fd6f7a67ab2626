/**
 * The denoising loop with the latents kept where the runtime keeps them. Each step is two
 * session runs: the UNet, then the step graph (core/pipeline/step-graph), whose outputs are the
 * next UNet input and the scheduler state. On WebGPU every tensor between them is a GPU buffer,
 * so nothing latent-sized comes back to the CPU until the final latents; the text embeddings and
 * the noise buffer are uploaded once. The same code runs on onnxruntime-node in the tests, where
 * "resident" just means CPU tensors passed from one run to the next.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { CancelledError, ModelError } from '../../core/errors';
import { float16ToFloat32, float32ToFloat16 } from '../../core/math/float16';
import type { LinearDenoiseJob } from '../../core/pipeline/models';
import { PLAN_COLUMNS, STATE_ROWS } from '../../core/schedulers/linear-plan';
import { tensor, type Tensor } from '../../core/math/tensor';
import { timestepTensor, type InputSpec, type OrtModule } from './ort-io';

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
