/** diffusers' embeddings.py: the timestep's sinusoidal projection and its MLP. */
import type { Graph } from '../graph';
import { linear, silu } from '../layers';

/** get_timestep_embedding's frequencies: exp(−ln(10000)·i / (half − shift)). */
function timestepFrequencies(dim: number, shift: number): Float32Array {
  const half = dim >> 1;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - shift)));
}

export interface TimestepsOptions {
  channels: number;
  /** cos before sin (SD's UNets). */
  flipSinToCos: boolean;
  freqShift: number;
}

/**
 * diffusers' Timesteps: the timestep [B] (float32) as a sinusoidal embedding [B, channels],
 * computed in float32 (timesteps up to 999 times the frequencies lose whole periods in float16)
 * and then given the compute type, as diffusers casts `t_emb` to the sample's dtype.
 */
export function timesteps(g: Graph, timestep: string, { channels, flipSinToCos, freqShift }: TimestepsOptions): string {
  const args = g.op('Mul', [
    g.op('Unsqueeze', [timestep, g.ints([1])]),
    g.floatsConst(timestepFrequencies(channels, freqShift), [1, channels >> 1]),
  ]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  return g.toCompute(g.op('Concat', flipSinToCos ? [cos, sin] : [sin, cos], [{ name: 'axis', i: 1 }]));
}

export interface TimestepEmbeddingOptions {
  inChannels: number;
  timeEmbedDim: number;
  /** LCM's guidance embedding (`timestep_cond`), projected by `cond_proj` and added to the input. */
  condition?: { value: string; dim: number };
}

/** diffusers' TimestepEmbedding: [cond_proj added,] linear_1, SiLU, linear_2. */
export function timestepEmbedding(g: Graph, sample: string, at: string, options: TimestepEmbeddingOptions): string {
  const { inChannels, timeEmbedDim, condition } = options;
  let x = sample;
  if (condition) {
    const projected = linear(g, condition.value, `${at}.cond_proj`, {
      inFeatures: condition.dim,
      outFeatures: inChannels,
      bias: false,
      rank: 2,
    });
    x = g.op('Add', [x, projected]);
  }
  x = linear(g, x, `${at}.linear_1`, { inFeatures: inChannels, outFeatures: timeEmbedDim, rank: 2 });
  return linear(g, silu(g, x), `${at}.linear_2`, { inFeatures: timeEmbedDim, outFeatures: timeEmbedDim, rank: 2 });
}
