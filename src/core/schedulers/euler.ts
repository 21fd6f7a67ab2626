import { SchedulerError } from '../errors';
import { SigmaScheduler } from './sigma-family';
import type { Scheduler, SchedulerConfigJson } from './types';

/** Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 2 without churn). */
export class EulerScheduler extends SigmaScheduler implements Scheduler {
  readonly name = 'euler' as const;
  readonly stochastic = false;

  constructor(config: SchedulerConfigJson) {
    super(config, {
      className: 'EulerDiscreteScheduler',
      predictions: ['epsilon', 'v_prediction', 'sample'],
      karras: true,
      finalSigmasType: true,
      zeroSnr: true,
    });
  }

  needsNoise(): boolean {
    return false;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (modelOutput.length !== sample.length) throw new SchedulerError('Model output and sample differ in size.');
    const index = this.currentIndex(t);
    const sigma = this.sigmas[index]!;
    const dt = this.sigmas[index + 1]! - sigma;
    const { x0Sample, x0Output } = this.x0At(sigma);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const x = sample[i]!;
      const derivative = (x - (x0Sample * x + x0Output * modelOutput[i]!)) / sigma;
      out[i] = x + derivative * dt;
    }
    this.index.advance(index);
    return out;
  }
}
