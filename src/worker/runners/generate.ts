/** generate: one picture in any of the four pipelines, with the run's LoRAs, previews and depth map. */
import { runPipeline } from '../../core/pipeline/generate';
import { checkSchedulerFor, runSchedulerConfig } from '../../core/schedulers';
import type { ParsedOf } from '../../protocol/request-row';
import type { RequestRows } from '../../protocol/requests';
import type { GenerateResult } from '../../protocol/messages';
import type { WorkerEnv } from '../handler/env';
import type { RunContext } from '../handler/kinds';
import type { ModelSlot } from '../handler/model-slot';
import { depthResult, estimate } from './estimate-depth';
import { pipelineOptions } from './pipeline-options';
import { activeChecker, passGate } from './safety-gate';
import { controlRun } from './controlnet';
import type { ControlNetSlot } from '../handler/controlnet-slot';

export const generateRunner =
  (slot: ModelSlot, env: WorkerEnv, nets: ControlNetSlot) =>
  async (
    { request, additions, preview, safety, control }: ParsedOf<RequestRows['generate']>,
    ctx: RunContext,
  ): Promise<GenerateResult> => {
    // The control pictures first (a depth preprocessor runs its estimator), then a UNet that takes residuals.
    const controlled = await controlRun(request, control, slot, nets, env, ctx);
    const model = await slot.withAdditions(additions, ctx.onProgress, controlled !== null);
    const config = runSchedulerConfig(request.scheduler, model.schedulerConfig, request.karras ?? false);
    checkSchedulerFor(request.scheduler, config, request.steps);
    const started = performance.now();
    if (request.mode === 'depth2img' && !request.depth) {
      ctx.onProgress({ kind: 'pipeline', phase: 'depth', step: 0, totalSteps: request.steps });
      request.depth = await estimate(request.image, slot, env, ctx);
    }
    const checker = activeChecker(model, safety);
    const options = pipelineOptions(model, preview, ctx, config, checker);
    const output = await runPipeline(model.models, request, controlled ? { ...options, control: controlled } : options);
    const gated = await passGate(output.image, checker);
    return {
      width: output.image.width,
      height: output.image.height,
      ...gated,
      seed: request.seed.toString(),
      truncated: output.truncated,
      backend: model.result.backend,
      timings: { ...output.timings, totalMs: performance.now() - started },
      ...(output.encoderLatents ? { encoderLatents: output.encoderLatents } : {}),
      ...(output.depth ? { depth: depthResult(output.depth) } : {}),
    };
  };
