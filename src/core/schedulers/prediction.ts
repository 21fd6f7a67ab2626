/**
 * The one conversion of a model's output by what it predicts (`prediction_type`: ε, v or x0) into
 * the clean sample and the noise. Every scheduler's step and the loop's preview use it.
 */
import type { PredictionType } from './types';

export interface PredictionCoefficients {
  x0Sample: number;
  x0Output: number;
  epsSample: number;
  epsOutput: number;
}

/**
 * x0 and ε as linear combinations of the sample and the model output, for one timestep:
 * x0 = x0Sample·sample + x0Output·output, ε = epsSample·sample + epsOutput·output, so hot loops
 * do two multiply-adds per element instead of a branch and a tuple.
 */
export function predictionCoefficients(
  prediction: PredictionType,
  sqrtAlpha: number,
  sqrtBeta: number,
): PredictionCoefficients {
  if (prediction === 'epsilon') {
    return { x0Sample: 1 / sqrtAlpha, x0Output: -sqrtBeta / sqrtAlpha, epsSample: 0, epsOutput: 1 };
  }
  if (prediction === 'sample') {
    return { x0Sample: 0, x0Output: 1, epsSample: 1 / sqrtBeta, epsOutput: -sqrtAlpha / sqrtBeta };
  }
  return { x0Sample: sqrtAlpha, x0Output: -sqrtBeta, epsSample: sqrtBeta, epsOutput: sqrtAlpha };
}

/**
 * The same for k-diffusion's parameterisation, where the sample is unscaled (x = x_t / √ᾱ) and
 * σ = √(1−ᾱ)/√ᾱ: the coefficients apply to that sample and the model output.
 */
export function sigmaPredictionCoefficients(prediction: PredictionType, sigma: number): PredictionCoefficients {
  // ε: x0 = x − σ·output exactly, without the rounding of (1/√(σ²+1))·√(σ²+1).
  if (prediction === 'epsilon') return { x0Sample: 1, x0Output: -sigma, epsSample: 0, epsOutput: 1 };
  const sqrtAlpha = 1 / Math.sqrt(sigma * sigma + 1);
  const c = predictionCoefficients(prediction, sqrtAlpha, sigma * sqrtAlpha);
  return { ...c, x0Sample: c.x0Sample * sqrtAlpha, epsSample: c.epsSample * sqrtAlpha };
}
