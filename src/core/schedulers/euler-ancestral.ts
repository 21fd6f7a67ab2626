import { SchedulerError } from '../errors';
import { SigmaScheduler } from './sigma-family';
import type { Scheduler, SchedulerConfigJson } from './types';

const f32 = Math.fround;

/** Ancestral sampling with Euler steps: step down to σ_down, then add fresh noise of σ_up. */
export class EulerAncestralScheduler extends SigmaScheduler implements Scheduler {
  readonly name = 'euler-ancestral' as const;
  readonly stochastic = true;

  constructor(config: SchedulerConfigJson) {
    super(config, {
      className: 'EulerAncestralDiscreteScheduler',
      predictions: ['epsilon', 'v_prediction'],
      karras: false,
      finalSigmasType: false,
      zeroSnr: true,
    });
  }

  needsNoise(): boolean {
    return true;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: Float32Array): Float32Array {
    if (!noise) throw new SchedulerError('Euler ancestral needs noise for every step: draw it from the generator.');
    if (noise.length !== sample.length || modelOutput.length !== sample.length) {
      throw new SchedulerError('Model output, sample and noise must have the same size.');
    }
    const index = this.currentIndex(t);
    const sigmaFrom = this.sigmas[index]!;
    const sigmaTo = this.sigmas[index + 1]!;
    // diffusers computes these in float32, and σ_down² = σ_to² − σ_up² cancels heavily: round each
    // operation as torch does so the trajectory follows diffusers' rather than the exact one.
    const from2 = f32(sigmaFrom * sigmaFrom);
    const to2 = f32(sigmaTo * sigmaTo);
    const sigmaUp = f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)));
    const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
    const dt = f32(sigmaDown - sigmaFrom);
    const { x0Sample, x0Output } = this.x0At(sigmaFrom);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const x = sample[i]!;
      const x0 = f32(x0Sample * x + x0Output * modelOutput[i]!);
      const derivative = f32(f32(x - x0) / sigmaFrom);
      out[i] = f32(x + f32(derivative * dt)) + f32(noise[i]! * sigmaUp);
    }
    this.index.advance(index);
    return out;
  }
}
