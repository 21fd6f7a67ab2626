/**
 * The core `Models` interface over ONNX Runtime sessions. The same code serves onnxruntime-web
 * (worker) and onnxruntime-node (tests, benchmarks): both implement onnxruntime-common's API.
 * Input names, dtypes and shapes come from each session's metadata, never from assumptions, since
 * real exports differ (int64/int32/float timesteps, fp16 or fp32 I/O, fixed or dynamic batch).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { ModelError } from '../../core/errors';
import type { ModelInfo, Models, TokenizedPrompt, UnetExtras } from '../../core/pipeline/models';
import type { ChunkTokenizer } from '../../core/prompt/chunks';
import { HIDDEN_STATES, LAYER_STATES, TEXT_EMBEDS } from '../../core/networks/clip-text';
import { SDXL_TIME_IDS } from '../../core/networks/config';
import { allFinite, type Tensor } from '../../core/math/tensor';
import type { Precision } from '../../core/networks/graph';
import type { SizeQuery } from '../../core/networks/tensor-sizes';
import { stepGraph, type StepGraphDtype } from '../../core/pipeline/step-graph';
import { controlInputNames, TEXT_TIME_INPUTS } from '../../core/networks/unet';
import { runLinearLoop, type ResidentMemory } from './linear-loop';
import {
  findInput,
  floatInput,
  inputSpecs,
  pickOutput,
  readOutput,
  timestepTensor,
  type InputSpec,
  type OrtModule,
} from './ort-io';

export interface OnnxModelSet {
  textEncoder: InferenceSession;
  /** SDXL's second text encoder (CLIPTextModelWithProjection); absent for SD 1.x/2.x. */
  textEncoder2?: InferenceSession;
  unet: InferenceSession;
  vaeDecoder: InferenceSession;
  vaeEncoder?: InferenceSession;
}

export type VaePart = 'vae_decoder' | 'vae_encoder';

/**
 * Runs a VAE session; the first time its output is not finite, it is replaced by its float32 build
 * (kept for later runs: a VAE that overflowed once will again at this size) and the call repeated.
 */
function upcastOnOverflow(
  first: InferenceSession,
  float32: (() => Promise<InferenceSession>) | undefined,
): (run: (session: InferenceSession) => Promise<Tensor>) => Promise<Tensor> {
  let current = first;
  let wide: Promise<InferenceSession> | null = null;
  return async (run) => {
    const out = await run(current);
    if (allFinite(out.data) || !float32 || current !== first) return out;
    wide ??= float32();
    current = await wide;
    return run(current);
  };
}

export interface OnnxModelsOptions {
  tokenize: (text: string) => Promise<TokenizedPrompt> | TokenizedPrompt;
  describeTokens?: (ids: ArrayLike<number>) => string[];
  /** The tokenizer piece by piece, for A1111's prompt syntax. */
  chunkTokenizer?: ChunkTokenizer;
  specialTokens?: { bos: number; eos: number; pad: number };
  /**
   * SDXL: the second tokenizer's padding id. Its vocabulary is the first one's (checked at load),
   * so its ids are the first tokenizer's with the padding after the end token replaced.
   */
  secondPadId?: number;
  /** SDXL's `force_zeros_for_empty_prompt` (see ModelInfo.zerosForEmptyNegative). */
  zerosForEmptyNegative?: boolean;
  vaeScalingFactor?: number;
  /** The UNet's compute type (float32 when absent), for the words of a numerical failure. */
  unetPrecision?: Precision;
  /**
   * The VAE's decoder or encoder built in float32, made the first time its float16 build gives a
   * non-finite output (diffusers' `force_upcast`: SD's VAEs can overflow float16); absent where
   * there is no such cure.
   */
  float32Vae?: (part: VaePart) => Promise<InferenceSession>;
  /** What the runtime can hold at a size (see `Models.checkSize`). */
  checkSize?: (query: SizeQuery) => void;
  /**
   * Runs whole denoising loops through the step graph with resident tensors (WebGPU in the app,
   * onnxruntime-node in tests): makes the step graph's session for a UNet dtype, and the memory.
   */
  resident?: {
    createStepSession(model: Uint8Array): Promise<InferenceSession>;
    memory: () => ResidentMemory;
  };
}

/** The adapter, plus what the benchmark needs to time a bare session.run beside the app's call. */
export interface OnnxModels extends Models {
  /** Milliseconds inside the UNet's session.run, one entry per call (the benchmark reads and clears it). */
  readonly unetRunMs: number[];
  /** The feeds the adapter builds for a UNet call, for timing session.run alone. */
  unetFeeds(sample: Tensor, t: number, text: Tensor, extras?: UnetExtras): Record<string, OrtTensor>;
  readonly sessions: OnnxModelSet;
}

export function createOnnxModels(ort: OrtModule, sessions: OnnxModelSet, options: OnnxModelsOptions): OnnxModels {
  const text = sessions.textEncoder2
    ? sdxlText(ort, sessions.textEncoder, sessions.textEncoder2, options)
    : sdText(ort, sessions.textEncoder);

  const unetSpecs = inputSpecs(sessions.unet);
  const sampleSpec = findInput(unetSpecs, 'UNet', ['sample']);
  const timestepSpec = findInput(unetSpecs, 'UNet', ['timestep']);
  const hiddenSpec = findInput(unetSpecs, 'UNet', ['encoder_hidden_states']);
  const condSpec = unetSpecs.find((s) => s.name === 'timestep_cond');
  const condDim = condSpec?.shape[1];
  if (condSpec && (typeof condDim !== 'number' || condDim < 1)) {
    throw new ModelError('The UNet has a timestep_cond input without a fixed embedding size.');
  }
  const unetOut = pickOutput(sessions.unet, 'UNet', ['out_sample']);
  const control = controlSpecs(unetSpecs);
  const textTime = textTimeSpecs(unetSpecs);
  if (textTime && !sessions.textEncoder2) {
    throw new ModelError(
      'This UNet is an SDXL UNet (it takes text_embeds and time_ids), but the model has one text encoder.',
    );
  }
  if (text.pooledWidth !== null && !textTime) {
    throw new ModelError(
      'This model has two text encoders, as SDXL does, but its UNet does not take their pooled text.',
    );
  }
  const pooledWidth = textTime?.textEmbeds.shape[1];
  if (textTime && pooledWidth !== text.pooledWidth) {
    throw new ModelError(
      `The UNet takes pooled text ${String(pooledWidth)} wide beside ${SDXL_TIME_IDS} time ids; the second text encoder's projection gives ${String(text.pooledWidth)}. ` +
        'A UNet made for other time ids (the SDXL refiner takes 5, with an aesthetic score) is not supported.',
    );
  }

  const decSpecs = inputSpecs(sessions.vaeDecoder);
  const latentSpec = findInput(decSpecs, 'VAE decoder', ['latent_sample']);
  const decOut = pickOutput(sessions.vaeDecoder, 'VAE decoder', ['sample']);

  const [batchDim, channelDim, heightDim, widthDim] = sampleSpec.shape;
  const textLength = hiddenSpec.shape[1];
  const textWidth = hiddenSpec.shape[2];
  const unetBatch: ModelInfo['unetBatch'] = batchDim === 1 ? 1 : batchDim === 2 ? 2 : 'any';
  const info: ModelInfo = {
    vaeScalingFactor: options.vaeScalingFactor ?? 0.18215,
    latentChannels: typeof latentSpec.shape[1] === 'number' ? latentSpec.shape[1] : 4,
    unetBatch,
    unetInChannels: typeof channelDim === 'number' ? channelDim : 4,
    fixedLatentSize:
      typeof heightDim === 'number' && typeof widthDim === 'number' && heightDim > 0 && widthDim > 0
        ? { height: heightDim, width: widthDim }
        : null,
    guidanceEmbedDim: condSpec ? (condDim as number) : null,
    ...(typeof textLength === 'number' && textLength > 0 ? { fixedTextLength: textLength } : {}),
    ...(text.layers !== undefined ? { textLayers: text.layers } : {}),
    ...(typeof pooledWidth === 'number' ? { pooledTextWidth: pooledWidth } : {}),
    ...(options.zerosForEmptyNegative ? { zerosForEmptyNegative: true } : {}),
    ...(typeof textWidth === 'number' && textWidth > 0 ? { textWidth } : {}),
    ...(options.unetPrecision ? { unetPrecision: options.unetPrecision } : {}),
    ...(control ? { takesControl: true } : {}),
  };

  const makeFloat32 = options.float32Vae;
  const float32 = (part: VaePart) => (makeFloat32 ? () => makeFloat32(part) : undefined);
  const decodeWith = upcastOnOverflow(sessions.vaeDecoder, float32('vae_decoder'));
  const unetRunMs: number[] = [];
  const unetFeeds = (sample: Tensor, t: number, hidden: Tensor, extras: UnetExtras = {}): Record<string, OrtTensor> => {
    const { timestepCond: cond, control: residuals } = extras;
    const feeds = {
      [sampleSpec.name]: floatInput(ort, sampleSpec, sample.data, sample.dims),
      [timestepSpec.name]: timestepTensor(ort, timestepSpec, t),
      [hiddenSpec.name]: floatInput(ort, hiddenSpec, hidden.data, hidden.dims),
    };
    if (textTime) {
      const added = extras.textTime;
      if (!added) throw new ModelError('This SDXL UNet needs the pooled text and time ids on every call.');
      feeds[textTime.textEmbeds.name] = floatInput(
        ort,
        textTime.textEmbeds,
        added.textEmbeds.data,
        added.textEmbeds.dims,
      );
      feeds[textTime.timeIds.name] = floatInput(ort, textTime.timeIds, added.timeIds.data, added.timeIds.dims);
    }
    if (condSpec) {
      if (!cond) throw new ModelError('This UNet needs the guidance embedding (timestep_cond) on every call.');
      const batch = sample.dims[0]!;
      // One embedding for the whole batch, repeated per item as diffusers' w.repeat(batch) does.
      const data = batch === cond.dims[0] ? cond.data : tile(cond.data, batch);
      feeds[condSpec.name] = floatInput(ort, condSpec, data, [batch, cond.dims[1]!]);
    }
    if (residuals && !control) throw new ModelError('This UNet was not built to take a ControlNet.');
    if (control) {
      if (!residuals)
        throw new ModelError('This UNet was built for a ControlNet and needs its residuals on every call.');
      if (residuals.down.length !== control.down.length) {
        throw new ModelError(
          `The ControlNet gives ${residuals.down.length} residuals; this UNet's down path keeps ${control.down.length}.`,
        );
      }
      control.down.forEach((spec, i) => {
        const r = residuals.down[i]!;
        feeds[spec.name] = floatInput(ort, spec, r.data, r.dims);
      });
      feeds[control.mid.name] = floatInput(ort, control.mid, residuals.mid.data, residuals.mid.dims);
    }
    return feeds;
  };

  // The resident loop feeds the text alone: LCM, ControlNet and SDXL UNets run the plain loop.
  const denoiseLinear =
    options.resident && !condSpec && !control && !textTime && residentDtype(sampleSpec, sessions.unet, unetOut)
      ? linearLoop(ort, sessions.unet, unetOut, [sampleSpec, timestepSpec, hiddenSpec], options.resident)
      : undefined;

  return {
    info,
    tokenize: async (text) => options.tokenize(text),
    ...(options.describeTokens ? { describeTokens: options.describeTokens } : {}),
    ...(options.chunkTokenizer ? { chunkTokenizer: options.chunkTokenizer } : {}),
    ...(options.specialTokens ? { specialTokens: options.specialTokens } : {}),

    encodeText: text.encode,

    unetRunMs,
    sessions,
    unetFeeds,

    async unet(sample, t, hidden, extras) {
      const feeds = unetFeeds(sample, t, hidden, extras);
      const started = performance.now();
      const out = await sessions.unet.run(feeds);
      unetRunMs.push(performance.now() - started);
      if (unetRunMs.length > 10_000) unetRunMs.splice(0, 5_000);
      return readOutput(out[unetOut]!);
    },

    ...(denoiseLinear ? { denoiseLinear } : {}),
    ...(options.checkSize ? { checkSize: options.checkSize } : {}),

    async decode(latents) {
      const run = async (session: InferenceSession) => {
        const out = await session.run({ [latentSpec.name]: floatInput(ort, latentSpec, latents.data, latents.dims) });
        return readOutput(out[decOut]!);
      };
      return decodeWith(run);
    },

    ...(sessions.vaeEncoder ? { encode: encoderFor(ort, sessions.vaeEncoder, float32('vae_encoder')) } : {}),
  };
}

/** The text encoder(s) as `Models.encodeText`, with what the model info says of them. */
interface TextSide {
  encode: Models['encodeText'];
  /** The most clip skip can be (absent: clip skip not offered). */
  layers: number | undefined;
  /** SDXL: the pooled text's width; null for SD 1.x/2.x. */
  pooledWidth: number | null;
}

/** A text encoder's feeds for ids: its input_ids as the session takes them (int32, or int64 in some exports). */
function idsFeeds(ort: OrtModule, session: InferenceSession): (ids: Int32Array) => Record<string, OrtTensor> {
  const spec = findInput(inputSpecs(session), 'text encoder', ['input_ids']);
  return (ids) => {
    const dims = [1, ids.length];
    const input =
      spec.type === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(ids, (v) => BigInt(v)),
            dims,
          )
        : new ort.Tensor('int32', ids, dims);
    return { [spec.name]: input };
  };
}

/** Layer `index` of a [layers, 1, T, hidden] stack, as [1, T, hidden]. */
function layerOf(stack: Tensor, index: number): Tensor {
  const [, , length, hidden] = stack.dims as [number, number, number, number];
  const size = length * hidden;
  return { data: stack.data.slice(index * size, (index + 1) * size), dims: [1, length, hidden] };
}

/** SD 1.x/2.x: one CLIPTextModel; clip skip takes an earlier layer through the final norm. */
function sdText(ort: OrtModule, session: InferenceSession): TextSide {
  const feeds = idsFeeds(ort, session);
  const textOut = pickOutput(session, 'text encoder', ['last_hidden_state']);
  // Graphs built here also give every layer's output through the final norm, for clip skip.
  const layerStates = session.outputNames.includes(LAYER_STATES) ? LAYER_STATES : null;
  const layers = layerStates ? layerCount(session, LAYER_STATES) : undefined;
  return {
    layers,
    pooledWidth: null,
    async encode(ids, clipSkip) {
      if (clipSkip === undefined || clipSkip <= 1) {
        const out = await session.run(feeds(ids), [textOut]);
        return { hidden: await readOutput(out[textOut]!), pooled: null };
      }
      if (!layerStates || layers === undefined || clipSkip > layers) {
        throw new ModelError(`This text encoder cannot skip ${clipSkip - 1} of its last layers.`);
      }
      // [layers, 1, T, hidden]: clip skip n is layer (layers − n), as diffusers' hidden_states[−(n)]…
      const stack = await readOutput((await session.run(feeds(ids), [layerStates]))[layerStates]!);
      return { hidden: layerOf(stack, layers - clipSkip), pooled: null };
    },
  };
}

/**
 * SDXL: CLIP ViT-L and OpenCLIP ViT-bigG (with its projection). As StableDiffusionXLPipeline's
 * encode_prompt: each encoder's hidden_states[−(clip skip + 1)] (the layer before the last at clip
 * skip 1, without the final norm), side by side; the pooled text is the second encoder's projection.
 */
function sdxlText(
  ort: OrtModule,
  first: InferenceSession,
  second: InferenceSession,
  options: OnnxModelsOptions,
): TextSide {
  const pad = options.secondPadId;
  const eos = options.specialTokens?.eos;
  if (pad === undefined || eos === undefined) throw new ModelError('SDXL needs its second tokenizer’s padding id.');
  for (const s of [first, second]) {
    if (!s.outputNames.includes(HIDDEN_STATES)) {
      throw new ModelError('This SDXL text encoder gives no inner layers (an export without hidden_states).');
    }
  }
  const embedsMeta = second.outputMetadata.find((m) => m.name === TEXT_EMBEDS);
  const pooledWidth = embedsMeta?.isTensor ? embedsMeta.shape[1] : undefined;
  if (typeof pooledWidth !== 'number') {
    throw new ModelError(
      'The second text encoder has no projection (text_embeds): SDXL needs CLIPTextModelWithProjection.',
    );
  }
  const depth = Math.min(layerCount(first, HIDDEN_STATES) ?? 0, layerCount(second, HIDDEN_STATES) ?? 0);
  // hidden_states has one entry more than the stack (the embeddings): clip skip n up to depth − 1.
  const layers = depth - 1;
  const [firstFeeds, secondFeeds] = [idsFeeds(ort, first), idsFeeds(ort, second)];
  return {
    layers,
    pooledWidth,
    async encode(ids, clipSkip) {
      const skip = Math.max(1, clipSkip ?? 1);
      if (skip > layers) throw new ModelError(`These text encoders cannot skip ${skip - 1} of their last layers.`);
      const a = await readOutput((await first.run(firstFeeds(ids), [HIDDEN_STATES]))[HIDDEN_STATES]!);
      const out = await second.run(secondFeeds(secondIds(ids, eos, pad)), [HIDDEN_STATES, TEXT_EMBEDS]);
      const b = await readOutput(out[HIDDEN_STATES]!);
      const pick = (stack: Tensor) => layerOf(stack, stack.dims[0]! - 1 - skip);
      return { hidden: sideBySide(pick(a), pick(b)), pooled: await readOutput(out[TEXT_EMBEDS]!) };
    },
  };
}

/** The second tokenizer's ids: the first's, padded with its own id after the first end token. */
function secondIds(ids: Int32Array, eos: number, pad: number): Int32Array {
  const end = ids.indexOf(eos, 1);
  if (end < 0) return ids;
  const out = ids.slice();
  out.fill(pad, end + 1);
  return out;
}

/** [1, T, a] and [1, T, b] → [1, T, a + b]. */
function sideBySide(a: Tensor, b: Tensor): Tensor {
  const [, length, wa] = a.dims as [number, number, number];
  const wb = b.dims[2]!;
  const out = new Float32Array(length * (wa + wb));
  for (let t = 0; t < length; t++) {
    out.set(a.data.subarray(t * wa, (t + 1) * wa), t * (wa + wb));
    out.set(b.data.subarray(t * wb, (t + 1) * wb), t * (wa + wb) + wa);
  }
  return { data: out, dims: [1, length, wa + wb] };
}

/** SDXL's added-condition inputs, or null for a UNet that takes none. */
function textTimeSpecs(specs: InputSpec[]): { textEmbeds: InputSpec; timeIds: InputSpec } | null {
  const textEmbeds = specs.find((s) => s.name === TEXT_TIME_INPUTS.textEmbeds);
  const timeIds = specs.find((s) => s.name === TEXT_TIME_INPUTS.timeIds);
  return textEmbeds && timeIds ? { textEmbeds, timeIds } : null;
}

/** The residual inputs of a UNet built for a ControlNet, or null for one that takes none. */
function controlSpecs(specs: InputSpec[]): { down: InputSpec[]; mid: InputSpec } | null {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const names = controlInputNames(specs.length);
  const mid = byName.get(names.mid);
  if (!mid) return null;
  const down: InputSpec[] = [];
  for (const name of names.down) {
    const spec = byName.get(name);
    if (!spec) break;
    down.push(spec);
  }
  return { down, mid };
}

function tile(data: Float32Array, times: number): Float32Array {
  const out = new Float32Array(data.length * times);
  for (let i = 0; i < times; i++) out.set(data, i * data.length);
  return out;
}

/** The step graph's dtype when the UNet takes and returns the same float type, else null (no resident loop). */
function residentDtype(sampleSpec: InputSpec, unet: InferenceSession, outName: string): StepGraphDtype | null {
  const out = unet.outputMetadata.find((m) => m.name === outName);
  const outType = out?.isTensor ? out.type : null;
  if (sampleSpec.type !== outType) return null;
  return outType === 'float32' || outType === 'float16' ? outType : null;
}

function linearLoop(
  ort: OrtModule,
  unet: InferenceSession,
  unetOutput: string,
  [sampleSpec, timestepSpec, hiddenSpec]: [InputSpec, InputSpec, InputSpec],
  resident: NonNullable<OnnxModelsOptions['resident']>,
): Models['denoiseLinear'] {
  const dtype = residentDtype(sampleSpec, unet, unetOutput)!;
  let step: Promise<InferenceSession> | null = null;
  return async (job) => {
    step ??= resident.createStepSession(stepGraph(dtype));
    const parts = {
      ort,
      unet,
      step: await step,
      sampleSpec,
      timestepSpec,
      hiddenSpec,
      unetOutput,
      memory: resident.memory,
    };
    return runLinearLoop(parts, job);
  };
}

function encoderFor(
  ort: OrtModule,
  session: InferenceSession,
  float32: (() => Promise<InferenceSession>) | undefined,
): (image: Tensor) => Promise<Tensor> {
  const spec = findInput(inputSpecs(session), 'VAE encoder', ['sample']);
  const outName = pickOutput(session, 'VAE encoder', ['latent_sample', 'latent_parameters']);
  const encodeWith = upcastOnOverflow(session, float32);
  return (image) =>
    encodeWith(async (s) => {
      const out = await s.run({ [spec.name]: floatInput(ort, spec, image.data, image.dims) });
      return readOutput(out[outName]!);
    });
}

/** A text encoder's layer count, from a [layers, B, T, hidden] output's first dimension. */
function layerCount(session: InferenceSession, output: string): number | undefined {
  const meta = session.outputMetadata.find((m) => m.name === output);
  const first = meta?.isTensor ? meta.shape[0] : undefined;
  return typeof first === 'number' && first > 0 ? first : undefined;
}
