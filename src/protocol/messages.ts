/**
 * The shapes of what crosses between the page and the inference worker: each request kind's
 * params and result, and the progress a request reports. The kinds themselves are rows in
 * requests.ts; the envelopes that carry them (ids, cancel, errors) are in wire.ts.
 */
import type { ControlPreprocessorName, HiresSettings, SamplingSettings, Timings } from '../core/generation-settings';
import type { ModelInfo } from '../core/pipeline/models';
import type { Precision } from '../core/networks/graph';
import type { PipelinePhase } from '../core/pipeline/options';
import type { CompareCell } from '../core/pipeline/compare';
import type { EncoderLatents } from '../core/pipeline/image-latents';
import type { SchedulerConfigJson, SchedulerName } from '../core/schedulers/types';
import type { Mode } from '../core/modes';
import type { LoadPlan } from './load-plan';

export type Backend = 'webgpu' | 'wasm';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  shaderF16: boolean;
  /** A software rasteriser (SwiftShader) rather than a GPU: WASM is faster there. */
  software: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface Capabilities {
  webgpu: boolean;
  /** Why WebGPU cannot be used here, when it cannot. */
  webgpuUnavailableReason: string | null;
  adapter: AdapterInfo | null;
  crossOriginIsolated: boolean;
  wasmThreads: number;
}

/**
 * Where depth maps come from when the person gives none: a transformers.js depth-estimation model
 * folder (config.json, preprocessor_config.json, onnx/model.onnx), or, for a model trained on
 * flat-coloured shapes whose depth is their silhouette, the silhouette found in the picture itself.
 */
export type DepthEstimatorSource =
  | {
      kind: 'transformers';
      modelId: string;
      /** The folder, ending in '/'. */
      baseUrl: string;
    }
  /** A transformers.js depth model on the hub, fetched by transformers.js from `hub` (the page's hub). */
  | { kind: 'hub'; modelId: string; revision: string; hub?: string }
  | { kind: 'silhouette' };

export interface LoadModelParams {
  modelId: string;
  /** Every file's URL, resolved by the page from the model's manifest. */
  plan: LoadPlan;
  backend: Backend;
  /** For depth models: the estimator that makes depth maps when the user gives none. */
  depthEstimator?: DepthEstimatorSource;
  /** The site requires the safety checker (see README): the worker runs it whatever a request says. */
  requireSafetyChecker?: boolean;
  /** WASM threads, set before the first session (the benchmark compares 1 and 2). */
  wasmThreads?: number;
}

/** The float type each network computes in. */
export interface NetworkPrecision {
  textEncoder: Precision;
  unet: Precision;
  vae: Precision;
}

export interface LoadModelResult {
  modelId: string;
  /** The backend actually in use: WASM when WebGPU was asked for but is unavailable. */
  backend: Backend;
  fallbackReason: string | null;
  adapter: AdapterInfo | null;
  /** The scheduler named by the model's own scheduler_config.json. */
  defaultScheduler: SchedulerName | null;
  /** The safety checker loaded with the model (null: none). */
  safetyChecker: { source: 'model' | 'site'; required: boolean } | null;
  /** That config as is, for the explore view's noise-schedule plot. */
  schedulerConfig: SchedulerConfigJson;
  info: ModelInfo;
  /**
   * The type each network computes in: float16 on WebGPU with shader-f16 (and for fp16 ONNX
   * exports), float32 on WASM and on adapters without it.
   */
  precision: NetworkPrecision;
  loadMs: number;
  /** Bytes of model files read (downloaded or from the cache). */
  bytes: number;
}

/** RGBA bytes, 4 per pixel, transferred. */
export interface WireImage {
  width: number;
  height: number;
  pixels: ArrayBuffer;
}

/** One byte per pixel (mask: 255 = repaint), transferred. */
export interface WireMask {
  width: number;
  height: number;
  pixels: ArrayBuffer;
}

/** One float32 per pixel (depth), transferred. */
export interface WireDepth {
  width: number;
  height: number;
  data: ArrayBuffer;
}

export interface GenerateParams extends SamplingSettings {
  /** txt2img when absent. */
  mode?: Mode;
  /** txt2img: A1111's hires fix. */
  hires?: HiresSettings;
  /** Image modes: how far from the start image to go (0..1). */
  strength?: number;
  /** Image modes: the start image at exactly width×height. */
  image?: WireImage;
  /** inpaint: white = repaint. */
  mask?: WireMask;
  /** inpaint: paste the original back outside the feathered mask (default true). */
  pasteBack?: boolean;
  /** depth2img: a depth map at any size; estimated in the worker when absent. */
  depth?: WireDepth;
  /** Live previews: every k steps, the predicted clean image, decoded by the VAE or projected cheaply. */
  preview?: PreviewRequest;
  /** LoRAs (sent before with addLora) merged at these strengths; none or [] runs the checkpoint as is. */
  loras?: LoraSetting[];
  /** Textual-inversion embeddings (sent with addLora too) and the word that calls each in a prompt. */
  embeddings?: EmbeddingSetting[];
  /** false: skip the model's safety checker (a person's choice for that model; not where the site requires it). */
  safetyChecker?: boolean;
  /** ControlNets (loaded before with loadControlNet) guiding the run: txt2img, img2img and inpaint. */
  control?: ControlSetting[];
  /** A1111's "ControlNet is more important" (diffusers' guess_mode), for every ControlNet of the run. */
  guessMode?: boolean;
}

/** How a picture becomes a control picture: as it is, its Canny edges, its depth, or a drawn scribble as it is. */
export type ControlPreprocessor = ControlPreprocessorName;

export interface ControlPreprocess {
  preprocessor: ControlPreprocessor;
  /** Canny's hysteresis thresholds (OpenCV's, 1–255). */
  cannyLow?: number;
  cannyHigh?: number;
  /** The depth preprocessor's estimator where the model has none of its own. */
  depthEstimator?: DepthEstimatorSource;
}

/** One ControlNet of a run: which, its picture before preprocessing, its weight and range. */
export interface ControlSetting extends ControlPreprocess {
  /** The id loadControlNet answered with. */
  controlnet: string;
  image: WireImage;
  /** controlnet_conditioning_scale (A1111's weight), 0–2. */
  scale: number;
  /** The fraction of the steps it runs in (control_guidance_start / end). */
  start: number;
  end: number;
}

/** A ControlNet as loaded: what the page shows and sends back by id. */
export interface LoadControlNetResult {
  id: string;
  name: string;
  /** The family it guides, in words ("SD 1.x", "SD 2.x"), from its text width. */
  base: string;
  crossAttentionDim: number;
  bytes: number;
  loadMs: number;
}

export interface EmbeddingSetting {
  name: string;
  trigger: string;
}

export interface LoraSetting {
  name: string;
  /** −2..2; 1 is the LoRA as trained. */
  scale: number;
}

export interface PreviewRequest {
  every: number;
  kind: 'vae' | 'fast';
}

export interface CompareParams extends GenerateParams {
  cells: CompareCell[];
}

/** One 77-token window of a prompt. */
export interface TokenChunkView {
  /** All 77 ids, padding included. */
  ids: number[];
  /** The token string of each id. */
  tokens: string[];
  /** Each token's emphasis (A1111's syntax; all 1 in plain mode). */
  weights: number[];
  /** Ids up to and including the first end token. */
  used: number;
}

/** One prompt as the loaded model's tokenizer sees it: one chunk, or several with A1111's syntax. */
export interface TokenView {
  chunks: TokenChunkView[];
  truncated: string;
  bosId: number;
  eosId: number;
  padId: number;
}

export interface RoundTripResult {
  width: number;
  height: number;
  /** Reconstruction, RGBA. */
  pixels: ArrayBuffer;
  /** Scaled latents [channels, latentHeight, latentWidth], float32. */
  latents: ArrayBuffer;
  channels: number;
  latentWidth: number;
  latentHeight: number;
  meanAbsError: number;
  psnr: number;
}

/** A depth map both as numbers (for the next run) and as a grey picture (to show). */
export interface DepthResult extends WireDepth {
  pixels: ArrayBuffer;
}

export interface GenerateResult {
  width: number;
  height: number;
  /** RGBA bytes, transferred. */
  pixels: ArrayBuffer;
  seed: string;
  truncated: string;
  backend: Backend;
  timings: Timings & { totalMs: number };
  /** Image modes: how the start image became latents. */
  encoderLatents?: EncoderLatents;
  /** depth2img: the depth map the UNet saw, at its own size. */
  depth?: DepthResult;
  /** The safety checker's report, when it ran (flagged: `pixels` is empty). */
  safety?: SafetyReport;
}

export type Progress =
  | {
      kind: 'download';
      file: string;
      loaded: number;
      total: number | null;
      /** All files of the model so far. */
      overall?: { loaded: number; total: number | null };
    }
  | { kind: 'session'; part: string }
  | { kind: 'pipeline'; phase: PipelinePhase; step: number; totalSteps: number }
  /** The predicted clean image at a step, RGBA, transferred. */
  | { kind: 'preview'; step: number; totalSteps: number; width: number; height: number; pixels: ArrayBuffer }
  /** A finished compare cell, RGBA, transferred (no pixels when the safety checker flagged it). */
  | {
      kind: 'cell';
      index: number;
      width: number;
      height: number;
      pixels: ArrayBuffer;
      timings: Timings;
      safety?: SafetyReport;
    };

/**
 * What the safety checker said of a picture (present when it ran). A flagged picture leaves the
 * worker without its pixels: it is not drawn, kept or downloadable.
 */
export interface SafetyReport {
  flagged: boolean;
  /** Whose checker: the checkpoint's own, or the one the site requires. */
  source: 'model' | 'site';
  /** The concept and special-care embeddings it matched (diffusers' bad_concepts and special_care). */
  badConcepts: number[];
  specialCare: number[];
  concepts: number;
}
