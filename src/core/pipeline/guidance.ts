/** Classifier-free guidance: uncond + g·(cond − uncond), written into `out`. */
export function combineGuidance(
  uncond: Float32Array,
  cond: Float32Array,
  scale: number,
  out: Float32Array = new Float32Array(cond.length),
): Float32Array {
  if (uncond.length !== cond.length || out.length !== cond.length) {
    throw new RangeError('Guidance halves must have the same size.');
  }
  for (let i = 0; i < cond.length; i++) {
    const u = uncond[i]!;
    out[i] = u + scale * (cond[i]! - u);
  }
  return out;
}

/** diffusers runs the unconditional half only when guidance_scale > 1. */
export function usesGuidance(scale: number): boolean {
  return scale > 1;
}
