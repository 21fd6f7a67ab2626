import { integrate } from '../math/quadrature';
import { SchedulerError } from '../errors';
import { SigmaScheduler } from './sigma-family';
import type { Scheduler, SchedulerConfigJson } from './types';

const MAX_ORDER = 4;

/** Linear multistep on the probability-flow ODE (k-diffusion's sample_lms), order up to 4. */
export class LmsScheduler extends SigmaScheduler implements Scheduler {
  readonly name = 'lms' as const;
  readonly stochastic = false;
  private derivatives: Float32Array[] = [];

  constructor(config: SchedulerConfigJson) {
    super(config, {
      className: 'LMSDiscreteScheduler',
      predictions: ['epsilon', 'v_prediction', 'sample'],
      karras: true,
      finalSigmasType: false,
      zeroSnr: false,
    });
  }

  protected override onSetTimesteps(): void {
    this.derivatives = [];
  }

  needsNoise(): boolean {
    return false;
  }

  /** ∫ over [σ_t, σ_{t+1}] of the Lagrange basis polynomial for the `current`-th past derivative. */
  lmsCoefficient(order: number, t: number, current: number): number {
    const s = this.sigmas;
    const basis = (tau: number): number => {
      let prod = 1;
      for (let k = 0; k < order; k++) {
        if (k === current) continue;
        prod *= (tau - s[t - k]!) / (s[t - current]! - s[t - k]!);
      }
      return prod;
    };
    return integrate(basis, s[t]!, s[t + 1]!);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (modelOutput.length !== sample.length) throw new SchedulerError('Model output and sample differ in size.');
    const index = this.currentIndex(t);
    const sigma = this.sigmas[index]!;
    const { x0Sample, x0Output } = this.x0At(sigma);
    const derivative = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      derivative[i] = (x - (x0Sample * x + x0Output * modelOutput[i]!)) / sigma;
    }
    this.derivatives.push(derivative);
    if (this.derivatives.length > MAX_ORDER) this.derivatives.shift();
    const order = Math.min(index + 1, MAX_ORDER);
    const coefficients = Array.from({ length: order }, (_, k) => this.lmsCoefficient(order, index, k));
    const out = Float32Array.from(sample);
    // Coefficient k weights the k-th most recent derivative; like diffusers' zip, an img2img run
    // that starts mid-schedule uses only the derivatives it has.
    for (let k = 0; k < Math.min(order, this.derivatives.length); k++) {
      const d = this.derivatives[this.derivatives.length - 1 - k]!;
      const c = coefficients[k]!;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + c * d[i]!;
    }
    this.index.advance(index);
    return out;
  }
}
