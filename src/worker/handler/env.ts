/**
 * What the handler gets from the place it runs: the worker gives it ONNX Runtime, the GPU device
 * and transformers.js; Node tests give it fakes or onnxruntime-node. The handler itself knows
 * nothing of Worker globals or ONNX Runtime.
 */
import type { RgbaImage } from '../../core/image/rgba';
import type { Plane } from '../../core/image/planes';
import type { Backend, Capabilities, DepthEstimatorSource, LoadModelParams, Progress } from '../../protocol/messages';
import type { LoadedModel } from '../loaded-model';

export interface WorkerEnv {
  capabilities(): Promise<Capabilities>;
  loadModel(
    params: LoadModelParams,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel>;
  /** Runs a depth estimator on an image; the map comes back at the image's size. */
  estimateDepth(
    image: RgbaImage,
    source: DepthEstimatorSource,
    backend: Backend,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<Plane>;
  /** The GPU device's state, where there is one. */
  device?: DeviceState;
  /**
   * Lets queued messages (a cancel) run before the next network call. ONNX Runtime's WASM run
   * never returns to the event loop, so without this a cancel waited for the whole job.
   */
  yieldToEvents?: () => Promise<void>;
}

export interface DeviceState {
  /** Why the GPU device was lost, or null while it is fine. */
  lostReason(): string | null;
  /** Resolves when the device is lost (never, while it is fine), so a run stuck on a dead device ends. */
  whenLost(): Promise<string>;
}
