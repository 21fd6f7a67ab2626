import type { LinearPlan } from '../schedulers/linear-plan';
import type { Precision } from '../networks/graph';
import type { SizeQuery } from '../networks/tensor-sizes';
import type { Tensor } from '../math/tensor';
import type { ChunkTokenizer } from '../prompt/chunks';

/** What a ControlNet gives one UNet call: one residual per skip, and the mid block's (see control.ts). */
export interface ControlResiduals {
  down: Tensor[];
  mid: Tensor;
}

/** One 77-token chunk of text as the UNet takes it. */
export interface TextEncoding {
  /** [1, T, width]: what the UNet attends to (for SDXL both encoders' states side by side). */
  hidden: Tensor;
  /** SDXL: the second encoder's pooled, projected output [1, pooled]; null for SD 1.x/2.x. */
  pooled: Tensor | null;
}

/** What one UNet call takes besides the latents, the timestep and the text. */
export interface UnetExtras {
  /** An LCM UNet's guidance embedding [1, dim] (see `ModelInfo.guidanceEmbedDim`), shared by the batch. */
  timestepCond?: Tensor;
  /** A ControlNet's residuals for the batch (only where `ModelInfo.takesControl`). */
  control?: ControlResiduals;
  /** SDXL's added conditions for the batch (only where `ModelInfo.pooledTextWidth`). */
  textTime?: TextTime;
}

/** SDXL's added conditions: the pooled text [B, pooled] and the time ids [B, 6]. */
export interface TextTime {
  textEmbeds: Tensor;
  timeIds: Tensor;
}

/** Token ids for one prompt, padded or truncated to the text encoder's length. */
export interface TokenizedPrompt {
  ids: Int32Array;
  /** Ids up to and including the first end token. */
  used: number;
  /** Text past the 77-token limit that CLIP drops, or '' when nothing was cut. */
  truncated: string;
}

/** What a pipeline knows of the loaded model beyond its functions. */
export interface ModelInfo {
  /** VAE latent scaling (0.18215 for SD 1.x/2.x), from the VAE config when present. */
  vaeScalingFactor: number;
  latentChannels: number;
  /** Batch sizes the UNet accepts: 'any' (dynamic), or a fixed 1 or 2. */
  unetBatch: 'any' | 1 | 2;
  /** Channels the UNet's `sample` takes: 4 (txt2img/img2img), 9 (inpaint), 5 (depth). */
  unetInChannels: number;
  /** A fixed latent size when the export has one (e.g. 64×64), else null. */
  fixedLatentSize: { height: number; width: number } | null;
  /**
   * LCM UNets (`time_cond_proj_dim`) take the guidance scale as an embedding of this size through
   * `timestep_cond` instead of a second, unconditional UNet call; null for every other UNet.
   */
  guidanceEmbedDim: number | null;
  /** The text length the UNet takes when its export fixes one (77); absent when any length goes. */
  fixedTextLength?: number;
  /** The text encoder's layers, the most clip skip can leave out (absent: clip skip not offered). */
  textLayers?: number;
  /** The width of the text the UNet attends to (768 SD 1.x, 1024 SD 2.x), when its export says. */
  textWidth?: number;
  /** The UNet takes a ControlNet's residuals (a UNet built with them; ONNX exports do not). */
  takesControl?: boolean;
  /** The UNet's compute type, so a numerical failure can name its cause (absent: float32). */
  unetPrecision?: Precision;
  /**
   * SDXL: the pooled text width the UNet takes with its time ids (`text_embeds`); absent for SD
   * 1.x/2.x, whose UNets take the text alone.
   */
  pooledTextWidth?: number;
  /**
   * SDXL's `force_zeros_for_empty_prompt` (model_index.json): an empty negative prompt is zeros,
   * not the encoding of "".
   */
  zerosForEmptyNegative?: boolean;
}

/**
 * The models a pipeline runs, as async tensor → tensor functions. The worker implements it with
 * onnxruntime-web, the Node tests with onnxruntime-node, unit tests with fakes.
 */
export interface Models {
  readonly info: ModelInfo;
  tokenize(text: string): Promise<TokenizedPrompt>;
  /** Token strings for ids, for showing what the tokenizer did (explore view). */
  describeTokens?(ids: ArrayLike<number>): string[];
  /** The tokenizer's start, end and padding ids. */
  readonly specialTokens?: { bos: number; eos: number; pad: number };
  /** The tokenizer piece by piece, for A1111's prompt syntax (absent: prompts are plain text). */
  readonly chunkTokenizer?: ChunkTokenizer;
  /**
   * [1, 77] ids → the text the UNet takes. `clipSkip` (A1111's numbering: 1 is the last layer, 2
   * the one before, as diffusers' `clip_skip` 1) takes an earlier layer's output (SD 1.x/2.x
   * through the final norm; SDXL's layer before it, as its pipeline does).
   */
  encodeText(ids: Int32Array, clipSkip?: number): Promise<TextEncoding>;
  /** The noise prediction for `sample` [batch, c, h, w] at timestep `t`, with what else the UNet takes. */
  unet(sample: Tensor, t: number, text: Tensor, extras?: UnetExtras): Promise<Tensor>;
  /** Scaled-back latents [1, 4, h, w] → image [1, 3, 8h, 8w] in about [-1, 1]. */
  decode(latents: Tensor): Promise<Tensor>;
  /**
   * Image [1, 3, H, W] in [-1, 1] → latents [1, 4, H/8, W/8] already sampled, or the posterior's mean and
   * log-variance [1, 8, H/8, W/8]; before scaling either way.
   */
  encode?(image: Tensor): Promise<Tensor>;
  /**
   * The whole denoising loop run where the model runs (on WebGPU: latents never leave the GPU
   * between steps), for a schedule given as linear steps. Absent where the plain loop is as fast.
   */
  denoiseLinear?: (job: LinearDenoiseJob) => Promise<Tensor>;
  /**
   * Throws, saying why, when a run at this size would make a tensor the runtime cannot hold
   * (WebGPU: larger than one buffer binding, where results come out wrong without an error).
   */
  checkSize?(query: SizeQuery): void;
}

export interface LinearDenoiseJob {
  plan: LinearPlan;
  /** Initial latents [1, C, h, w]. */
  start: Tensor;
  /** The text every UNet call takes, [batch, 77, hidden]. */
  text: Tensor;
  /** Weights that combine the UNet's output batch into one noise prediction (length = batch). */
  guidance: Float32Array;
  /** Step noise, drawn from the pipeline's generator in the same order as the plain loop draws it. */
  noise(count: number): Float32Array;
  signal?: AbortSignal;
  /** Called as steps complete (1 … steps). */
  onStep(done: number): void;
}
