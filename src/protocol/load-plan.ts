/** What the worker needs to load a model: every file's URL resolved by the page. Types only. */
import type { SchedulerConfigJson } from '../core/schedulers/types';

/** A file the worker fetches: an absolute URL, a name for messages, what to check. */
export interface FileRef {
  url: string;
  path: string;
  size?: number;
  sha256?: string;
  /** Known absent (a picked folder without it): fails as a 404 would, without a request. */
  missing?: boolean;
  /** float32 safetensors rewritten as fp16 while they download (size and sha256 are the original's). */
  convert?: 'fp16';
}

/** Where a file is kept in Cache Storage: a converted file under its own key, not as the original. */
export function cacheKey(ref: FileRef): string {
  return ref.convert ? `${ref.url}#fp16` : ref.url;
}

/**
 * An ONNX graph and the external-data files next to it. Files the graph names but the plan does
 * not list are fetched beside it (`siblings`: their URLs by name, for a picked folder's blob: URLs).
 */
export type OnnxFileRef = FileRef & { externalData?: FileRef[]; siblings?: Record<string, string> };

/**
 * A diffusers component folder: its config.json and the weight files to try in order (the
 * preferred variant first); the first that exists is used.
 */
export interface CheckpointPartRef {
  config: FileRef;
  weights: FileRef[];
  /** Every shard of a sharded save, all loaded (instead of the first of `weights`). */
  shards?: FileRef[];
}

/** The networks of a model: ONNX exports, or a diffusers checkpoint whose graphs the app builds. */
export type PlanComponents =
  | {
      format: 'onnx';
      textEncoder: OnnxFileRef;
      unet: OnnxFileRef;
      vaeDecoder: OnnxFileRef;
      vaeEncoder?: OnnxFileRef;
    }
  | {
      format: 'safetensors';
      textEncoder: CheckpointPartRef;
      /** SDXL's second text encoder (CLIPTextModelWithProjection). */
      textEncoder2?: CheckpointPartRef;
      unet: CheckpointPartRef;
      vae: CheckpointPartRef;
    }
  | SingleFilePlan;

/**
 * An original single-file checkpoint the person picked: the File itself (it crosses to the worker
 * without a copy and is read there a range at a time), and the config.json files of a diffusers
 * model that describes it, or null to take them from the file (core/single-file/layout.ts).
 */
export interface SingleFilePlan {
  format: 'single-file';
  file: Blob;
  fileName: string;
  configs: { textEncoder: FileRef; textEncoder2?: FileRef; unet: FileRef; vae: FileRef } | null;
}

/** What the worker needs to load a model: every URL resolved, whether to keep files in Cache Storage. */
export interface LoadPlan {
  modelId: string;
  name: string;
  cache: boolean;
  components: PlanComponents;
  scheduler: FileRef | { config: SchedulerConfigJson };
  tokenizerJson?: FileRef;
  tokenizerConfig: FileRef;
  specialTokensMap: FileRef;
  /** SDXL's second tokenizer: CLIP's vocabulary as the first's; its config decides its padding. */
  secondTokenizer?: { tokenizerConfig: FileRef; specialTokensMap: FileRef; padToken?: string };
  /** SDXL's `force_zeros_for_empty_prompt` (model_index.json): an empty negative prompt is zeros. */
  zerosForEmptyNegative?: boolean;
  vaeConfig?: FileRef;
  padToken?: string;
  freeDimensionOverrides?: Record<string, number>;
  dtype: 'fp32' | 'fp16';
  approxBytes?: number;
  /** A download with no data for this long fails as stalled (default 30 s). */
  stallMs?: number;
  /** Hosts besides this site that files may come from, redirects included (src/models/origins.ts). */
  hosts?: string[];
  /**
   * The hosts whose redirects are followed (the hub's, to its CDNs); a file from any other host
   * that redirects is refused without a request to where it points.
   */
  redirectHosts?: string[];
  /** The safety checker to run on every picture, when on: the model's own, or the site's. */
  safetyChecker?: SafetyCheckerPlan;
  /** Another VAE instead of the checkpoint's own (A1111's "SD VAE"); checkpoints only. */
  vae?: VaePlan;
}

/**
 * A VAE to use instead of a checkpoint's own: a diffusers VAE folder (config.json and its weights,
 * the fp16 variant first), or a VAE file picked from disk (A1111's `*.vae.safetensors`), which
 * takes the checkpoint's own VAE config.
 */
export interface VaePlan {
  id: string;
  name: string;
  source: { format: 'folder'; part: CheckpointPartRef } | { format: 'single-file'; file: Blob; fileName: string };
}

export interface SafetyCheckerPlan {
  part: CheckpointPartRef;
  preprocessor: FileRef;
  /** 'model': the checkpoint ships it; 'site': the SD 1.5 checker a site that requires one adds. */
  source: 'model' | 'site';
}

/**
 * A ControlNet to load: a diffusers ControlNet folder (config.json and its weights, the fp16
 * variant first), or an A1111 single file picked from disk, read a range at a time.
 */
export interface ControlNetPlan {
  id: string;
  name: string;
  cache: boolean;
  source: { format: 'folder'; part: CheckpointPartRef } | { format: 'single-file'; file: Blob; fileName: string };
  hosts?: string[];
  redirectHosts?: string[];
  stallMs?: number;
}
