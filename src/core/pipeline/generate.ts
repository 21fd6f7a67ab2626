import type { GenerationRequest } from '../validate';
import { depth2img } from './depth2img';
import { hiresFix } from './hires';
import { img2img } from './img2img';
import { inpaint } from './inpaint';
import type { Models } from './models';
import type { GenerationResult, PipelineOptions } from './options';
import { txt2img } from './txt2img';

/** Runs the pipeline for a validated request's mode. */
export function runPipeline(
  models: Models,
  request: GenerationRequest,
  options: PipelineOptions,
): Promise<GenerationResult> {
  switch (request.mode) {
    case 'txt2img':
      return request.hires
        ? hiresFix(models, { ...request, hires: request.hires }, options)
        : txt2img(models, request, options);
    case 'img2img':
      return img2img(models, request, options);
    case 'inpaint':
      return inpaint(models, request, options);
    case 'depth2img':
      return depth2img(models, request, options);
  }
}
