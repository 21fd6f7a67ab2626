/** estimateDepth: the loaded depth model's estimator on a picture, to see the map before generating. */
import { CancelledError, ValidationError } from '../../core/errors';
import type { RgbaImage } from '../../core/image/rgba';
import { planeToRgba, type Plane } from '../../core/image/planes';
import type { DepthEstimatorSource, DepthResult } from '../../protocol/messages';
import type { WorkerEnv } from '../handler/env';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';

/** A depth plane as it crosses back: the numbers, and a grey picture to show. */
export function depthResult(depth: Plane): DepthResult {
  return {
    width: depth.width,
    height: depth.height,
    data: depth.data.slice().buffer,
    pixels: planeToRgba(depth).pixels.buffer as ArrayBuffer,
  };
}

/**
 * The depth map of `image` by the loaded model's estimator, else `fallback` (a depth ControlNet's
 * estimator, for models that come without one); neither says so.
 */
export async function estimate(
  image: RgbaImage,
  slot: ModelSlot,
  env: WorkerEnv,
  ctx: RunContext,
  fallback?: DepthEstimatorSource,
): Promise<Plane> {
  const model = slot.require();
  const source = slot.estimator ?? fallback;
  if (!source) {
    throw new ValidationError(
      'This model has no depth estimator: upload a depth map, or choose a depth model that comes with one.',
      'depth',
    );
  }
  const depth = await env.estimateDepth(image, source, model.result.backend, ctx.onProgress, ctx.signal);
  if (ctx.signal.aborted) throw new CancelledError();
  return depth;
}

export const estimateDepthRunner =
  (slot: ModelSlot, env: WorkerEnv) =>
  async ({ image }: { image: RgbaImage }, ctx: RunContext): Promise<DepthResult> =>
    depthResult(await estimate(image, slot, env, ctx));
