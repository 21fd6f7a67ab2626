/**
 * Depth maps from a transformers.js depth-estimation pipeline (Depth Anything, DPT) in the worker,
 * or from a picture's silhouette for the Shapes depth model.
 * The model folder is named by the loaded SD model's catalog entry; the pipeline is kept while the
 * same estimator and backend are in use.
 */
import { env, pipeline, RawImage, type DepthEstimationPipeline } from '@huggingface/transformers';
import { CancelledError, ModelError } from '../../core/errors';
import type { RgbaImage } from '../../core/image/rgba';
import type { Plane } from '../../core/image/planes';
import { silhouetteDepth } from '../../core/image/silhouette';
import type { Backend, DepthEstimatorSource, Progress } from '../../protocol/messages';

let cached: { key: string; pipe: Promise<DepthEstimationPipeline> } | null = null;

interface TransformersProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

type ModelSource = Exclude<DepthEstimatorSource, { kind: 'silhouette' }>;

/** Points transformers.js at the model: the app's own folder, or a repo on the page's hub. */
function locate(source: ModelSource): { key: string; name: string; revision?: string } {
  if (source.kind === 'hub') {
    // transformers.js fetches `{remoteHost}{model}/resolve/{revision}/{file}` and keeps the files
    // in its own Cache Storage, so a second visit needs no network for them.
    env.allowLocalModels = false;
    env.allowRemoteModels = true;
    env.remoteHost = `${(source.hub ?? 'https://huggingface.co').replace(/\/+$/, '')}/`;
    return {
      key: `${env.remoteHost}${source.modelId}@${source.revision}`,
      name: source.modelId,
      revision: source.revision,
    };
  }
  // transformers.js resolves `{localModelPath}{id}/{file}`: split the folder into those two parts.
  // It treats a full http URL as remote, so a same-origin folder is given by its path.
  const folder = new URL(source.baseUrl, self.location.href);
  if (folder.origin !== self.location.origin) {
    throw new ModelError(`Depth estimators load from this app's own origin or the hub, not ${folder.origin}.`);
  }
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = new URL('../', folder).pathname;
  return { key: source.baseUrl, name: folder.pathname.replace(/\/$/, '').split('/').pop() ?? '' };
}

function load(source: ModelSource, backend: Backend, onProgress: (p: Progress) => void) {
  const where = locate(source);
  const key = `${where.key}|${backend}`;
  if (cached?.key === key) return cached.pipe;
  const name = where.name;
  const pipe: Promise<DepthEstimationPipeline> = pipeline('depth-estimation', name, {
    ...(where.revision ? { revision: where.revision } : {}),
    device: backend,
    dtype: 'fp32',
    progress_callback: (p: TransformersProgress) => {
      if (p.status === 'progress' && p.file) {
        onProgress({ kind: 'download', file: `depth: ${p.file}`, loaded: p.loaded ?? 0, total: p.total ?? null });
      }
    },
  });
  cached = { key, pipe };
  pipe.catch(() => {
    if (cached?.pipe === pipe) cached = null;
  });
  return pipe;
}

export async function estimateDepth(
  image: RgbaImage,
  source: DepthEstimatorSource,
  backend: Backend,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<Plane> {
  if (source.kind === 'silhouette') return silhouetteDepth(image);
  let pipe: DepthEstimationPipeline;
  try {
    pipe = await load(source, backend, onProgress);
  } catch (error) {
    throw new ModelError(
      `The depth estimator "${source.modelId}" could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (signal.aborted) throw new CancelledError();
  onProgress({ kind: 'session', part: 'depth estimator' });
  const raw = new RawImage(new Uint8ClampedArray(image.pixels), image.width, image.height, 4);
  const output: unknown = await pipe(raw);
  const predicted = predictedDepth(Array.isArray(output) ? (output as unknown[])[0] : output);
  if (!predicted) throw new ModelError(`The depth estimator "${source.modelId}" returned no predicted_depth.`);
  return predicted;
}

/** transformers.js's depth output, checked: its predicted_depth tensor as a plane. */
function predictedDepth(single: unknown): Plane | null {
  if (typeof single !== 'object' || single === null || !('predicted_depth' in single)) return null;
  const tensor: unknown = single.predicted_depth;
  if (typeof tensor !== 'object' || tensor === null || !('dims' in tensor) || !('data' in tensor)) return null;
  const { dims, data } = tensor;
  if (!Array.isArray(dims) || dims.length < 2 || !(data instanceof Float32Array)) return null;
  const [height, width] = dims.slice(-2).map(Number) as [number, number];
  if (!(width > 0 && height > 0) || data.length < width * height) return null;
  return { width, height, data: new Float32Array(data.subarray(data.length - width * height)) };
}
