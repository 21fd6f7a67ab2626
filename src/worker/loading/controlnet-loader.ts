/**
 * A ControlNet loaded beside the model: its config read first (a ControlNet for another family is
 * refused before its weights download), its weights downloaded or taken from Cache Storage (the
 * fp16 variant first), or read from a picked A1111 file range by range, then built as a graph in
 * the model's compute type on the model's backend.
 */
import { ModelError } from '../../core/errors';
import { familyOfTextWidth } from '../../core/family';
import { readControlNetConfig, type ControlNetConfig } from '../../core/networks/config';
import type { GraphForm } from '../../core/networks/graph';
import type { ControlNetModel } from '../../core/pipeline/control';
import { cacheKey, type ControlNetPlan } from '../../protocol/load-plan';
import type { Backend, LoadControlNetResult, Progress } from '../../protocol/messages';
import { deleteFile, writeRecord } from '../../storage/model-cache';
import { createControlNetModel } from '../runtime/controlnet-model';
import type { OrtWeb } from '../runtime/ort-env';
import { controlNetSession, type ComponentBytes } from '../runtime/safetensors-sessions';
import { modelFiles, parseJson, weightFiles } from './model-files';
import { readControlNetFile } from './single-file';

export interface LoadedControlNet {
  model: ControlNetModel;
  config: ControlNetConfig;
  result: LoadControlNetResult;
  dispose(): Promise<void>;
}

/** What the loaded model lends its ControlNets: its runtime, backend and graph form. */
export interface ControlNetHost {
  runtime: OrtWeb;
  backend: Backend;
  graph: GraphForm;
  /** The model's text width: a ControlNet made for another is refused (null: the model does not say). */
  textWidth: number | null;
}

/** Refuses a ControlNet whose family differs from the model's, naming both. */
export function checkFamily(name: string, config: ControlNetConfig, textWidth: number | null): void {
  const own = config.unet.crossAttentionDim;
  if (textWidth === null || own === textWidth) return;
  const model = familyOfTextWidth(textWidth);
  throw new ModelError(
    `${name} is a ControlNet for ${familyOfTextWidth(own)}, which does not fit the loaded model (${model}): load a ControlNet made for ${model}, or a model this one was made for.`,
  );
}

export async function loadControlNet(
  plan: ControlNetPlan,
  host: ControlNetHost,
  onProgress: (progress: Progress) => void,
  signal: AbortSignal,
): Promise<LoadedControlNet> {
  const started = performance.now();
  let part: ComponentBytes;
  let fetched: string[] = [];
  /** Weight files that came from Cache Storage: removed if they turn out damaged, so a retry downloads them. */
  let cached: string[] = [];
  let bytes: number;
  if (plan.source.format === 'single-file') {
    part = await readControlNetFile(plan.source.file, plan.source.fileName);
    checkFamily(plan.name, readControlNetConfig(part.configPath, part.config), host.textWidth);
    bytes = plan.source.file.size;
  } else {
    const ref = plan.source.part;
    const files = modelFiles(
      { ...plan, planned: [ref.config, ...(ref.shards ?? ref.weights.slice(0, 1))] },
      signal,
      onProgress,
    );
    const config = parseJson<unknown>(await files.getOptional(ref.config), ref.config.path);
    if (config === null) throw new ModelError(`${plan.name} has no ${ref.config.path}: is this a ControlNet folder?`);
    checkFamily(plan.name, readControlNetConfig(ref.config.path, config), host.textWidth);
    const weights = ref.shards
      ? await Promise.all(ref.shards.map((s) => files.get(s)))
      : [await files.getFirst(ref.weights)];
    part = { configPath: ref.config.path, config, weights: weights.flatMap(weightFiles) };
    fetched = [...files.fetched];
    cached = weights.filter((w) => w.fromCache).map((w) => cacheKey(w.ref));
    bytes = files.bytes();
  }
  onProgress({ kind: 'session', part: 'controlnet' });
  let built: Awaited<ReturnType<typeof controlNetSession>>;
  try {
    built = await controlNetSession(
      part,
      (model, external) =>
        host.runtime.InferenceSession.create(model, {
          executionProviders: [host.backend],
          graphOptimizationLevel: 'all',
          ...(external.length > 0 ? { externalData: external } : {}),
        }),
      host.graph,
    );
  } catch (error) {
    if (cached.length === 0) throw error;
    for (const key of cached) await deleteFile(key).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelError(
      `${plan.name} from this browser's cache could not be read (${reason}). The damaged copy was removed: load it again to download it.`,
    );
  }
  const { session, config } = built;
  if (plan.cache && fetched.length > 0) {
    await writeRecord({
      modelId: plan.id,
      name: plan.name,
      files: [...new Set(fetched)],
      bytes,
      lastUsed: Date.now(),
    }).catch(() => undefined);
  }
  const own = config.unet.crossAttentionDim;
  return {
    model: createControlNetModel(host.runtime, session, config),
    config,
    result: {
      id: plan.id,
      name: plan.name,
      base: familyOfTextWidth(own),
      crossAttentionDim: own,
      bytes,
      loadMs: performance.now() - started,
    },
    dispose: () => session.release(),
  };
}
