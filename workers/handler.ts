/**
 * Dispatches protocol messages to the pipeline. Knows nothing of Worker globals or ONNX Runtime
 * (both come in through `deps`), so Node tests drive it with fake or onnxruntime-node models.
 */
import { CancelledError, serializeError, ValidationError } from '../src/core/errors';
import type { Models } from '../src/core/pipeline/models';
import { txt2img } from '../src/core/pipeline/txt2img';
import type { SchedulerConfigJson } from '../src/core/schedulers/types';
import { validateTxt2Img } from '../src/core/validate';
import {
  isRequestKind,
  transferList,
  type Capabilities,
  type FromWorker,
  type GenerateResult,
  type LoadModelParams,
  type LoadModelResult,
  type Progress,
  type RequestKind,
  type RequestMap,
} from '../src/protocol/messages';

export interface LoadedModel {
  models: Models;
  schedulerConfig: SchedulerConfigJson;
  result: LoadModelResult;
  dispose?(): Promise<void>;
}

export interface HandlerDeps {
  post(message: FromWorker, transfer: ArrayBuffer[]): void;
  capabilities(): Promise<Capabilities>;
  loadModel(
    params: LoadModelParams,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel>;
}

type Job = { id: number; controller: AbortController };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateLoadModel(params: Record<string, unknown>): LoadModelParams {
  const { modelId, baseUrl, backend } = params;
  if (typeof modelId !== 'string' || modelId.length === 0) throw new ValidationError('Choose a model.', 'model');
  if (typeof baseUrl !== 'string' || baseUrl.length === 0)
    throw new ValidationError('The model has no address.', 'model');
  if (backend !== 'webgpu' && backend !== 'wasm')
    throw new ValidationError('Backend must be WebGPU or WASM.', 'backend');
  return { modelId, baseUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`, backend };
}

export function createHandler(deps: HandlerDeps): (message: unknown) => void {
  const jobs = new Map<number, Job>();
  let loaded: LoadedModel | null = null;
  /** Requests run one after another: a generate waits for the model load before it. */
  let queue: Promise<void> = Promise.resolve();

  const post = (message: FromWorker): void => deps.post(message, transferList(message));

  async function run<K extends RequestKind>(
    kind: K,
    params: Record<string, unknown>,
    job: Job,
  ): Promise<RequestMap[K]['result']> {
    const onProgress = (progress: Progress): void => post({ type: 'progress', id: job.id, progress });
    switch (kind) {
      case 'capabilities':
        return (await deps.capabilities()) as RequestMap[K]['result'];
      case 'loadModel': {
        const request = validateLoadModel(params);
        const previous = loaded;
        loaded = null;
        await previous?.dispose?.();
        loaded = await deps.loadModel(request, onProgress, job.controller.signal);
        return loaded.result as RequestMap[K]['result'];
      }
      case 'generate': {
        const request = validateTxt2Img(params);
        if (!loaded) throw new ValidationError('No model is loaded yet.', 'model');
        const started = performance.now();
        const output = await txt2img(loaded.models, request, {
          schedulerConfig: loaded.schedulerConfig,
          signal: job.controller.signal,
          onProgress: (p) => onProgress({ kind: 'pipeline', ...p }),
        });
        const pixels = output.image.pixels;
        const result: GenerateResult = {
          width: output.image.width,
          height: output.image.height,
          pixels: pixels.buffer as ArrayBuffer,
          seed: request.seed.toString(),
          truncated: output.truncated,
          backend: loaded.result.backend,
          timings: { ...output.timings, totalMs: performance.now() - started },
        };
        return result as RequestMap[K]['result'];
      }
      default:
        throw new ValidationError(`Unknown request kind "${String(kind)}".`);
    }
  }

  return (message: unknown): void => {
    const id =
      isRecord(message) && typeof message['id'] === 'number' && Number.isFinite(message['id']) ? message['id'] : -1;
    try {
      if (!isRecord(message)) throw new ValidationError('A message must be an object.');
      if (message['type'] === 'cancel') {
        jobs.get(id)?.controller.abort();
        return;
      }
      if (message['type'] !== 'request')
        throw new ValidationError(`Unknown message type "${String(message['type'])}".`);
      if (id < 0) throw new ValidationError('A request needs a numeric id.');
      const kind = message['kind'];
      if (!isRequestKind(kind)) throw new ValidationError(`Unknown request kind "${String(kind)}".`);
      const params = message['params'];
      if (!isRecord(params)) throw new ValidationError(`The ${kind} request needs a params object.`);
      const job: Job = { id, controller: new AbortController() };
      jobs.set(id, job);
      queue = queue.then(async () => {
        try {
          if (job.controller.signal.aborted) throw new CancelledError();
          const result = await run(kind, params, job);
          post({ type: 'result', id, kind, result } as FromWorker);
        } catch (error) {
          post({ type: 'error', id, error: serializeError(error) });
        } finally {
          jobs.delete(id);
        }
      });
    } catch (error) {
      post({ type: 'error', id, error: serializeError(error) });
    }
  };
}
