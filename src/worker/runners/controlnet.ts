/**
 * ControlNets: loading one beside the model, a control picture's preview, and the ControlNets of a
 * run made ready for the pipeline (each picture through its preprocessor, at the output size).
 */
import { ModelError, ValidationError } from '../../core/errors';
import { cannyPicture } from '../../core/image/canny';
import { depthControlPicture } from '../../core/image/planes';
import { resizePil } from '../../core/image/resample';
import type { RgbaImage } from '../../core/image/rgba';
import { controlImageTensor, type ControlRun } from '../../core/pipeline/control';
import type { GenerationRequest } from '../../core/validate';
import type { ControlNetPlan } from '../../protocol/load-plan';
import type { LoadControlNetResult, WireImage } from '../../protocol/messages';
import type { ParsedControl, ParsedPreprocess } from '../../protocol/requests';
import type { ControlNetSlot } from '../handler/controlnet-slot';
import type { WorkerEnv } from '../handler/env';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import { checkFamily, loadControlNet } from '../loading/controlnet-loader';
import { estimate } from './estimate-depth';

/**
 * A picture at the output size (PIL's Lanczos, as diffusers' prepare_image resizes), then through
 * its preprocessor: Canny's edges, the depth estimator's map, or as it is (none, a scribble).
 */
async function controlPicture(
  image: RgbaImage,
  p: ParsedPreprocess,
  size: { width: number; height: number },
  slot: ModelSlot,
  env: WorkerEnv,
  ctx: RunContext,
): Promise<RgbaImage> {
  const sized =
    image.width === size.width && image.height === size.height
      ? image
      : resizePil(image, size.width, size.height, 'lanczos');
  if (p.preprocessor === 'canny') return cannyPicture(sized, p.cannyLow, p.cannyHigh);
  if (p.preprocessor === 'depth') {
    const depth = depthControlPicture(await estimate(sized, slot, env, ctx, p.depthEstimator));
    // Estimators answer at the picture's size; one that does not is brought to it.
    return depth.width === size.width && depth.height === size.height
      ? depth
      : resizePil(depth, size.width, size.height, 'lanczos');
  }
  return sized;
}

export const loadControlNetRunner =
  (slot: ModelSlot, nets: ControlNetSlot) =>
  async (plan: ControlNetPlan, ctx: RunContext): Promise<LoadControlNetResult> => {
    const model = slot.current;
    if (!model) throw new ValidationError('Load a model first: a ControlNet runs beside it.', 'controlnet');
    if (!model.controlNetHost) {
      throw new ValidationError(
        'A ControlNet needs a diffusers checkpoint (safetensors) or a single-file one; this model is an ONNX export.',
        'controlnet',
      );
    }
    const net = await loadControlNet(plan, model.controlNetHost, ctx.onProgress, ctx.signal);
    await nets.put(plan.id, net);
    return net.result;
  };

export const controlPreviewRunner =
  (slot: ModelSlot, env: WorkerEnv) =>
  async (
    p: ParsedPreprocess & { image: RgbaImage; width: number; height: number },
    ctx: RunContext,
  ): Promise<WireImage> => {
    const picture = await controlPicture(p.image, p, p, slot, env, ctx);
    return { width: picture.width, height: picture.height, pixels: picture.pixels.slice().buffer };
  };

/** The run's ControlNets ready for the pipeline, or null when it has none. */
export async function controlRun(
  request: GenerationRequest,
  control: { units: ParsedControl[]; guessMode: boolean },
  slot: ModelSlot,
  nets: ControlNetSlot,
  env: WorkerEnv,
  ctx: RunContext,
): Promise<ControlRun | null> {
  if (control.units.length === 0) return null;
  if (request.mode === 'depth2img') {
    throw new ValidationError(
      'ControlNets guide txt2img, img2img and inpaint; depth2img has its own depth.',
      'controlnet',
    );
  }
  if (request.mode === 'txt2img' && request.hires) {
    throw new ValidationError('Hires fix with a ControlNet is not supported yet: turn one of them off.', 'hires-fix');
  }
  const textWidth = slot.require().models.info.textWidth ?? null;
  const units = [];
  for (const unit of control.units) {
    const net = nets.get(unit.controlnet);
    checkFamily(net.result.name, net.config, textWidth);
    const picture = await controlPicture(unit.image, unit, request, slot, env, ctx);
    if (picture.width === 0 || picture.height === 0) throw new ModelError('The control picture is empty.');
    units.push({
      net: net.model,
      image: controlImageTensor(picture, request.width, request.height),
      scale: unit.scale,
      start: unit.start,
      end: unit.end,
    });
  }
  return { units, guessMode: control.guessMode };
}
