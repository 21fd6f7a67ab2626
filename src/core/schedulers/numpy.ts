/**
 * The few numpy behaviours the schedulers' timestep and sigma math depends on, reproduced exactly
 * (banker's rounding, linspace, arange with a float step, interp), so timesteps match diffusers.
 */

/** np.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.linspace(start, stop, num) in float64; the last value is exactly `stop`. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => start + i * step);
  out[num - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for a float step. */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length }, (_, i) => start + i * step);
}

/** np.interp(x, arange(len(fp)), fp): linear interpolation over integer positions. */
export function interpAtPositions(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (x === j) return fp[j]!;
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

/** Train-time sigmas sqrt((1 - ᾱ)/ᾱ), computed in float32 as torch does. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => Math.sqrt(Math.fround(Math.fround(1 - a) / a)));
}

/** diffusers' _sigma_to_t: the fractional train timestep whose log-sigma matches. */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // Index of the last train log-sigma at or below logSigma, clipped so a neighbour exists.
  let count = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) count = i + 1;
  const lowIdx = Math.min(Math.max(count - 1, 0), logSigmas.length - 2);
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[lowIdx + 1]!;
  const w = Math.min(Math.max((low - logSigma) / (low - high), 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/** Karras et al. (2022) sigmas between sigmaMax and sigmaMin, rho = 7. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, num: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, num).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/**
 * The sigmas of a k-diffusion style schedule (the sigma family and DPM-Solver): the train sigmas
 * interpolated at the spaced timesteps, or Karras's between `karras.min` and `karras.max` with the
 * (rounded) timesteps they fall at; then the final sigma (0, or the smallest train sigma).
 */
export function scheduleSigmas(
  timesteps: number[],
  trainTable: Float32Array,
  finalSigma: 'zero' | 'sigma_min',
  karras: { min: number; max: number; round: (t: number) => number } | null,
): { timesteps: number[]; sigmas: Float32Array } {
  let sigmas: number[];
  let ts = timesteps;
  if (karras) {
    const logSigmas = trainTable.map(Math.log);
    sigmas = karrasSigmas(karras.min, karras.max, timesteps.length);
    ts = sigmas.map((s) => karras.round(sigmaToT(s, logSigmas)));
  } else {
    sigmas = timesteps.map((t) => interpAtPositions(t, trainTable));
  }
  const last = finalSigma === 'zero' ? 0 : trainTable[0]!;
  return { timesteps: ts, sigmas: Float32Array.from([...sigmas, last]) };
}

/** Spaced timesteps descending, as the DDPM-family schedulers compute them (integers). */
export function spacedTimesteps(
  spacing: 'linspace' | 'leading' | 'trailing',
  numTrain: number,
  steps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    return linspace(0, numTrain - 1, steps)
      .map(roundHalfEven)
      .reverse();
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(numTrain / steps);
    return Array.from({ length: steps }, (_, i) => i * ratio + stepsOffset).reverse();
  }
  return arange(numTrain, 0, -numTrain / steps).map((t) => roundHalfEven(t) - 1);
}

/**
 * diffusers' index_for_timestep: where `t` is in the schedule, taking the second match when it
 * repeats (so an img2img run that starts on a repeated timestep does not skip a sigma).
 */
export function indexForTimestep(timesteps: readonly number[], t: number): number | undefined {
  const first = timesteps.indexOf(t);
  if (first < 0) return undefined;
  const second = timesteps.indexOf(t, first + 1);
  return second < 0 ? first : second;
}
