/** What every pipeline takes besides its parameters, and what each gives back. */
import { CancelledError } from '../errors';
import type { Timings } from '../generation-settings';
import type { RgbaImage } from '../image/rgba';
import type { Plane } from '../image/planes';
import type { SchedulerConfigJson } from '../schedulers';
import type { Tensor } from '../math/tensor';
import type { EncoderLatents } from './image-latents';
import type { ControlRun } from './control';

export type PipelinePhase = 'tokenize' | 'depth' | 'encode' | 'denoise' | 'decode';

export interface PipelineProgress {
  phase: PipelinePhase;
  /** Steps done in the denoising loop (0 before it starts). */
  step: number;
  totalSteps: number;
}

export interface PipelineOptions {
  schedulerConfig: SchedulerConfigJson;
  signal?: AbortSignal;
  onProgress?: (progress: PipelineProgress) => void;
  /** Every `every` steps (and after the last), the model's estimate of the clean latents. */
  preview?: {
    every: number;
    onPreview(step: number, totalSteps: number, x0: Tensor): Promise<void> | void;
  };
  /** ControlNets guiding the run's denoising loop, their pictures at the output size (see control.ts). */
  control?: ControlRun;
}

export interface GenerationResult {
  image: RgbaImage;
  /** What the tokenizer cut from the prompt past 77 tokens ('' when nothing). */
  truncated: string;
  timings: Timings;
  /** How the start image became latents (image-conditioned modes). */
  encoderLatents?: EncoderLatents;
  /** The depth map the UNet was conditioned on, at its given size (depth2img). */
  depth?: Plane;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
