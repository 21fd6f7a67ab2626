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

/**
 * The guidance-scale embedding an LCM UNet takes as `timestep_cond`, as diffusers'
 * LatentConsistencyModelPipeline.get_guidance_scale_embedding computes it for w = scale − 1:
 * [sin(1000·w·f), cos(1000·w·f)] with f = exp(−i·ln(10000)/(half − 1)), in float32 like torch.
 */
export function guidanceScaleEmbedding(scale: number, dim: number): Float32Array {
  const f = Math.fround;
  const w = f(f(scale - 1) * 1000);
  const half = dim >> 1;
  const step = f(f(Math.log(10000)) / (half - 1));
  const out = new Float32Array(dim);
  for (let i = 0; i < half; i++) {
    const arg = f(w * f(Math.exp(f(i * -step))));
    out[i] = Math.sin(arg);
    out[half + i] = Math.cos(arg);
  }
  return out;
}
