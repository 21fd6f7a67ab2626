/** A run's pipeline options: its scheduler config, cancel, step progress and live previews. */
import { chwToRgba, type RgbaImage } from '../../core/image/rgba';
import { scale, tensor, type Tensor } from '../../core/math/tensor';
import type { Models } from '../../core/pipeline/models';
import type { PipelineOptions } from '../../core/pipeline/options';
import { latentsToRgbFast } from '../../core/pipeline/preview';
import type { SchedulerConfigJson } from '../../core/schedulers';
import type { PreviewRequest } from '../../protocol/messages';
import type { RunContext } from '../handler/kinds';
import type { LoadedModel } from '../loaded-model';
import type { SafetyChecker } from '../../core/safety/checker';

/** x0 latents → a picture: through the VAE decoder, or the cheap linear map at latent size. */
async function previewImage(models: Models, x0: Tensor, kind: PreviewRequest['kind']): Promise<RgbaImage> {
  if (kind === 'fast') return latentsToRgbFast(x0);
  const decoded = await models.decode(tensor(scale(1 / models.info.vaeScalingFactor, x0.data), x0.dims));
  const [, , height, width] = decoded.dims as [number, number, number, number];
  return chwToRgba(decoded.data, width, height);
}

/** `schedulerConfig`: the run's (see runSchedulerConfig), the model's own by default. */
export function pipelineOptions(
  model: LoadedModel,
  preview: PreviewRequest | null,
  ctx: RunContext,
  schedulerConfig: SchedulerConfigJson = model.schedulerConfig,
  checker: SafetyChecker | null = null,
): PipelineOptions {
  const { onProgress } = ctx;
  return {
    schedulerConfig,
    signal: ctx.signal,
    onProgress: (p) => onProgress({ kind: 'pipeline', ...p }),
    ...(preview
      ? {
          preview: {
            every: preview.every,
            onPreview: async (step: number, totalSteps: number, x0: Tensor) => {
              const image = await previewImage(model.models, x0, preview.kind);
              // A preview is a picture too: one the checker flags is not sent.
              if (checker && (await checker.check(image)).flagged) return;
              onProgress({
                kind: 'preview',
                step,
                totalSteps,
                width: image.width,
                height: image.height,
                pixels: image.pixels.buffer as ArrayBuffer,
              });
            },
          },
        }
      : {}),
  };
}
