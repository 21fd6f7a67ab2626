/** Flat float32 tensors and the few elementwise ops the pipeline needs. */

export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  if (data.length !== elementCount(dims)) {
    throw new RangeError(
      `Tensor data has ${data.length} elements but dims [${dims.join(', ')}] need ${elementCount(dims)}.`,
    );
  }
  return { data, dims };
}

/** a·x + b·y into `out` (a new array unless one is given). */
export function axpby(
  a: number,
  x: Float32Array,
  b: number,
  y: Float32Array,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  assertSameLength(x, y);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]! + b * y[i]!;
  return out;
}

/** a·x into `out`. */
export function scale(a: number, x: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]!;
  return out;
}

export function assertSameLength(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) {
    throw new RangeError(`Arrays differ in length: ${x.length} vs ${y.length}.`);
  }
}

/** True when every element is finite. */
export function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}
