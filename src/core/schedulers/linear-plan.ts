/**
 * A scheduler's whole schedule as fixed linear maps, found by running the scheduler itself.
 *
 * Every scheduler here (with SD's settings) computes each latent element from the same element of
 * the current sample, the current model output, earlier samples and outputs, and fresh noise, with
 * weights that depend on the step only. Those weights are all a GPU needs to run the loop without
 * reading latents back: the step becomes one small weighted sum over a stack of tensors that
 * stay on the GPU. Nothing is re-derived by hand: the weights are measured by feeding the
 * scheduler unit vectors (one array element per input it could depend on), then checked by
 * running it on random data alongside the maps. A scheduler that clips or thresholds is not
 * linear, fails the check and keeps the CPU loop.
 */
import type { Scheduler } from './types';

/** How many earlier samples and model outputs the GPU keeps (PNDM and LMS look back up to 4). */
export const PLAN_WINDOW = 4;
/** State rows: the current sample, then samples k−1…k−W, then model outputs k−1…k−W. */
export const STATE_ROWS = 1 + 2 * PLAN_WINDOW;
/** Columns of a step matrix: the state rows, this step's model output, this step's noise. */
export const PLAN_COLUMNS = STATE_ROWS + 2;
const EPS_COLUMN = STATE_ROWS;
const NOISE_COLUMN = STATE_ROWS + 1;

export interface LinearStep {
  t: number;
  /** scaleModelInput as a factor: the UNet sees cIn · sample. */
  cIn: number;
  /** Whether this step takes fresh noise (drawn from the generator in the CPU loop's order). */
  needsNoise: boolean;
  /**
   * [STATE_ROWS × PLAN_COLUMNS], row-major: the next state from [state; model output; noise]. Row 0
   * (the new sample) is the scheduler's; the other rows are always the same window shift.
   */
  matrix: Float32Array;
}

export interface LinearPlan {
  steps: LinearStep[];
}

/** Relative error allowed between the maps and the scheduler on random data (float32 rounding). */
const CHECK_TOLERANCE = 1e-4;
/** Extra array elements that carry random data through the real recurrence, to check the maps. */
const CHECK_LANES = 8;

/**
 * The schedule as linear steps, or null when the scheduler is not linear in its inputs or looks
 * further back than PLAN_WINDOW. `scheduler` must be freshly set up exactly as the loop's own
 * (timesteps, begin index); it is used up by the measurement.
 */
export function linearPlan(scheduler: Scheduler, timesteps: readonly number[]): LinearPlan | null {
  const k = timesteps.length;
  // Lane layout: 3 unit lanes per step (its sample, model output, noise), then the check lanes.
  const probeLanes = 3 * k;
  const lanes = probeLanes + CHECK_LANES;
  const random = lcg(0x5eed);
  let checkSample: Float32Array = Float32Array.from({ length: CHECK_LANES }, () => 3 * random());
  let checkState: Float32Array = new Float32Array(STATE_ROWS * CHECK_LANES);
  checkState.set(checkSample, 0);
  const steps: LinearStep[] = [];

  for (const [i, t] of timesteps.entries()) {
    const sample = new Float32Array(lanes);
    sample[3 * i] = 1;
    sample.set(checkSample, probeLanes);
    const scaled = scheduler.scaleModelInput(sample, t);
    const cIn = scaled[3 * i]!;
    for (let j = 0; j < probeLanes; j++) if (j !== 3 * i && scaled[j] !== 0) return null;
    for (let c = 0; c < CHECK_LANES; c++) {
      if (!close(scaled[probeLanes + c]!, cIn * checkSample[c]!, Math.abs(cIn * checkSample[c]!))) return null;
    }

    const modelOutput = new Float32Array(lanes);
    modelOutput[3 * i + 1] = 1;
    const checkEps = Float32Array.from({ length: CHECK_LANES }, () => 3 * random());
    modelOutput.set(checkEps, probeLanes);
    const needsNoise = scheduler.needsNoise(t);
    let checkNoise: Float32Array = new Float32Array(CHECK_LANES);
    let noise: Float32Array | undefined;
    if (needsNoise) {
      noise = new Float32Array(lanes);
      noise[3 * i + 2] = 1;
      checkNoise = Float32Array.from({ length: CHECK_LANES }, () => random());
      noise.set(checkNoise, probeLanes);
    }
    const out = scheduler.step(modelOutput, t, sample, noise);

    const matrix = stepMatrix(out, i);
    if (!matrix) return null;
    const next = applyLinearStep(matrix, checkState, checkEps, checkNoise, CHECK_LANES);
    const expected = out.subarray(probeLanes);
    const size = Math.max(...Array.from(expected, Math.abs), 1);
    for (let c = 0; c < CHECK_LANES; c++) {
      if (!close(next[c]!, expected[c]!, size)) return null;
    }
    // The check lanes follow the scheduler's own recurrence (its output is the next sample).
    checkSample = Float32Array.from(expected);
    checkState = next;
    checkState.set(checkSample, 0);
    steps.push({ t, cIn, needsNoise, matrix });
  }
  return { steps };
}

/** The next-state matrix for step i from the scheduler's output on unit lanes. */
function stepMatrix(out: Float32Array, i: number): Float32Array | null {
  const m = new Float32Array(STATE_ROWS * PLAN_COLUMNS);
  const W = PLAN_WINDOW;
  for (let j = 0; j <= i; j++) {
    const sampleWeight = out[3 * j]!;
    const epsWeight = out[3 * j + 1]!;
    const noiseWeight = out[3 * j + 2]!;
    const back = i - j;
    if (back > W && (sampleWeight !== 0 || epsWeight !== 0)) return null;
    if (back > 0 && noiseWeight !== 0) return null;
    if (back === 0) {
      m[0] = sampleWeight;
      m[EPS_COLUMN] = epsWeight;
      m[NOISE_COLUMN] = noiseWeight;
    } else if (back <= W) {
      m[back] = sampleWeight;
      m[W + back] = epsWeight;
    }
  }
  // Shift the window: sample k becomes "one back", and so on; the model output likewise.
  m[1 * PLAN_COLUMNS + 0] = 1;
  for (let r = 2; r <= W; r++) m[r * PLAN_COLUMNS + (r - 1)] = 1;
  m[(W + 1) * PLAN_COLUMNS + EPS_COLUMN] = 1;
  for (let r = W + 2; r <= 2 * W; r++) m[r * PLAN_COLUMNS + (r - 1)] = 1;
  return m;
}

/**
 * One step on the CPU: next = matrix · [state; eps; noise], with `lanes` elements per row. The
 * GPU computes the same (pipeline/step-graph); this is its reference and the plan's check.
 */
export function applyLinearStep(
  matrix: Float32Array,
  state: Float32Array,
  eps: Float32Array,
  noise: Float32Array,
  lanes: number,
): Float32Array {
  const next = new Float32Array(STATE_ROWS * lanes);
  for (let r = 0; r < STATE_ROWS; r++) {
    const row = next.subarray(r * lanes, (r + 1) * lanes);
    for (let c = 0; c < PLAN_COLUMNS; c++) {
      const w = matrix[r * PLAN_COLUMNS + c]!;
      if (w === 0) continue;
      const src = c === EPS_COLUMN ? eps : c === NOISE_COLUMN ? noise : state.subarray(c * lanes, (c + 1) * lanes);
      for (let x = 0; x < lanes; x++) row[x] = row[x]! + w * src[x]!;
    }
  }
  return next;
}

function close(a: number, b: number, size: number): boolean {
  return Number.isFinite(a) && Math.abs(a - b) <= CHECK_TOLERANCE * Math.max(size, 1e-6);
}

/** A small deterministic generator for the check lanes (values in [−1, 1)). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}
