/**
 * The model manifest: data describing where a model's files are and what it is. The catalog's
 * entries are manifests, and so are the models a person adds (from a repo's own model_index.json
 * or a single file's header). Types only: how one is planned, read or listed lives beside it.
 */
import type { AppMode } from '../core/modes';
import type { SchedulerConfigJson, SchedulerName } from '../core/schedulers/types';
import type { DepthEstimatorSource } from '../protocol/messages';

/** A file's size and SHA-256 as a listing gives them (checked against what arrives). */
export interface ListedFile {
  size?: number;
  sha256?: string;
}

/** A file of a model, relative to the model's root. */
export interface ManifestFile {
  path: string;
  /** Bytes, when known (checked against what arrives). */
  size?: number;
  sha256?: string;
  /** ONNX external-data files next to the graph (`model.onnx_data`), passed to ORT's externalData. */
  externalData?: { path: string; size?: number; sha256?: string }[];
}

/** A diffusers component folder: config.json and the weight files to try, preferred first. */
export interface CheckpointPart {
  config: string;
  weights: string[];
  /** Every shard of a sharded save (from a listing), loaded instead of `weights`. */
  shards?: string[];
  /** float32 weights (the repo has no fp16 variant), converted to fp16 while downloading. */
  convert?: boolean;
}

/** A safety checker's files, relative to the root of the repo they are in. */
export interface SafetyCheckerFiles {
  part: CheckpointPart;
  preprocessor: string;
  /** Its weights' download, when a listing says (shown before downloading). */
  bytes?: number;
}

export type ManifestComponents =
  | {
      format: 'onnx';
      textEncoder: ManifestFile;
      unet: ManifestFile;
      vaeDecoder: ManifestFile;
      vaeEncoder?: ManifestFile;
    }
  /** A diffusers checkpoint (config.json + safetensors per component): the app builds the graphs. */
  | {
      format: 'safetensors';
      textEncoder: CheckpointPart;
      /** SDXL's second text encoder. */
      textEncoder2?: CheckpointPart;
      unet: CheckpointPart;
      vae: CheckpointPart;
    }
  /**
   * An original single-file checkpoint picked from disk (this visit only: a picked file cannot be
   * kept), with the config.json paths of the diffusers model that describes it, or null.
   */
  | {
      format: 'single-file';
      file: Blob;
      fileName: string;
      configs: { textEncoder: string; textEncoder2?: string; unet: string; vae: string } | null;
    };

export type ModelSource =
  /** Files served by this app (the tiny models). */
  | { kind: 'app'; baseUrl: string }
  /** A Hugging Face repo, fetched as {hub}/{repo}/resolve/{revision}/{path}. */
  /** `hub`: the hub it was added from (a custom repo remembers it, so a later `?hub=` cannot re-point it silently). */
  | { kind: 'hub'; repo: string; revision: string; hub?: string }
  /** Any base URL serving the diffusers layout. */
  | { kind: 'url'; baseUrl: string }
  /** A folder the person picked: each file's blob: URL by its path (this visit only). */
  | { kind: 'local'; name: string; urls: Record<string, string> };

export interface ModelManifest {
  id: string;
  name: string;
  source: ModelSource;
  description: string;
  licence: string;
  dtype: 'fp32' | 'fp16';
  kind: 'txt2img' | 'inpaint' | 'depth' | 'turbo';
  modes: readonly AppMode[];
  /** Whether this file list was checked against a trusted source (see `verifiedBy`). */
  verified: boolean;
  verifiedBy?: string;
  components: ManifestComponents;
  /** scheduler_config.json path, or the config itself when the repo has none. */
  scheduler: { path: string } | { config: SchedulerConfigJson };
  /**
   * The scheduler its config names, where known before loading (the app's own models; a unit test
   * checks it against their files), so the page can show it before the first run.
   */
  defaultScheduler?: SchedulerName;
  /**
   * Its safety checker (diffusers' StableDiffusionSafetyChecker: `safety_checker/` and the CLIP
   * preprocessing in `feature_extractor/`), where its model_index.json or its repo's files have one.
   */
  safetyChecker?: SafetyCheckerFiles;
  tokenizer: { dir: string; hasTokenizerJson: boolean };
  /** SDXL's second tokenizer's folder (its config decides its padding, unless `padToken` says). */
  tokenizer2?: { dir: string; padToken?: string };
  /** SDXL's `force_zeros_for_empty_prompt`, from model_index.json (diffusers' default: true). */
  zerosForEmptyNegative?: boolean;
  /** SD 2.x pads with "!" (id 0), SD 1.x with <|endoftext|>; from the repo's tokenizer config when absent. */
  padToken?: string;
  vaeConfigPath?: string;
  nativeSize: number;
  defaults: { width: number; height: number; steps: number; guidanceScale: number };
  /** Total download, for the selector and the quota check. */
  approxBytes?: number;
  /** ORT free-dimension overrides for exports with symbolic dims. */
  freeDimensionOverrides?: Record<string, number>;
  depthEstimator?: DepthEstimatorSource;
  /** Sizes and SHA-256 by path, as the source's listing gives them (checked against what arrives). */
  files?: Record<string, ListedFile>;
}
