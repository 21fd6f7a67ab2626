/**
 * ONNX Runtime sessions for a diffusers checkpoint: graphs built by the core from each component's
 * config, weights handed over as external data straight from the downloaded safetensors bytes when
 * they already have the graph's compute type (no copy in JS; WebGPU uploads them to the GPU
 * directly), converted per tensor when not. The same code runs on onnxruntime-web in the worker,
 * on Dawn in Node (the fp16 test bed, `npm run generate`) and on onnxruntime-node in the tests.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { ModelError } from '../../core/errors';
import { parseSafetensors } from '../../core/formats/safetensors';
import { readSafetyConcepts, type SafetyConcepts } from '../../core/safety/verdict';
import {
  safetyCheckerGraph,
  textEncoderGraph,
  unetGraph,
  vaeGraphs,
  type ComponentSource,
  type GraphOptions,
  type LinearForm,
  controlNetGraph,
  type ControlNetConfig,
  type UnetBuildOptions,
  type UnetConfig,
  type VaeConfig,
} from '../../core/networks';
import { convertWeights, tensorAsFloat32 } from '../../core/networks/convert-weights';
import type { FusedKernel, Precision } from '../../core/networks/graph';
import { bindingCheck, type SizeQuery } from '../../core/networks/tensor-sizes';
import { readVaeConfig } from '../../core/networks/config';
import { mergeLoras, type LoraLayer, type LoraTarget } from '../../core/networks/lora';
import type { OnnxModelSet, VaePart } from './onnx-models';

/** A component as downloaded: its config and its weight files' bytes. */
export interface ComponentBytes {
  configPath: string;
  config: unknown;
  weights: { path: string; bytes: Uint8Array }[];
}

export interface CheckpointBytes {
  textEncoder: ComponentBytes;
  /** SDXL's second text encoder (CLIPTextModelWithProjection). */
  textEncoder2?: ComponentBytes;
  unet: ComponentBytes;
  vae: ComponentBytes;
}

/** Creates one session from a graph and the external data it points into. */
export type CreateSession = (
  part: 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_encoder' | 'vae_decoder',
  model: Uint8Array,
  externalData: { path: string; data: Uint8Array }[],
) => Promise<InferenceSession>;

const baseName = (path: string): string => path.split('/').pop() ?? path;

/** A component's graph source and the external data behind it. */
interface ComponentWeights {
  source: ComponentSource;
  external: { path: string; data: Uint8Array }[];
}

/** A component's files as downloaded, parsed (LoRA patches are added to these before conversion). */
function rawComponent(part: ComponentBytes): ComponentWeights {
  const files = part.weights.map((w) => ({ header: parseSafetensors(w.path, w.bytes), location: baseName(w.path) }));
  return {
    source: { configPath: part.configPath, config: part.config, files },
    external: part.weights.map((w, i) => ({ path: files[i]!.location, data: w.bytes })),
  };
}

/** A component's graph source with every weight in `precision`'s type (the bench's path too). */
export function componentSource(part: ComponentBytes, precision: Precision = 'float32'): ComponentWeights {
  return inPrecision(rawComponent(part), precision);
}

/** The component with every weight in the compute type of `precision` (see convertWeights). */
function inPrecision(part: ComponentWeights, precision: Precision): ComponentWeights {
  const data = new Map(part.external.map((e) => [e.path, e.data]));
  const converted = convertWeights(
    part.source.files.map((file) => ({ file, bytes: data.get(file.location)! })),
    precision,
  );
  return { source: { ...part.source, files: converted.files }, external: converted.external };
}

export interface CheckpointSessions {
  sessions: OnnxModelSet;
  vaeScalingFactor: number;
  unetConfig: UnetConfig;
  vaeConfig: VaeConfig;
  /** The type the text encoders and UNet compute in. */
  precision: Precision;
  /** The VAE's: float32 for SDXL VAEs whose config says force_upcast (see checkpointSessions). */
  vaePrecision: Precision;
  /** Refuses sizes whose largest tensor would not fit one GPU buffer binding (WebGPU only). */
  checkSize?: (query: SizeQuery) => void;
  /**
   * The VAE decoder or encoder in float32 from the same bytes, for a float16 run that overflowed;
   * only for float16 builds of VAEs whose config says `force_upcast` (diffusers' default).
   */
  float32Vae?: (part: VaePart) => Promise<InferenceSession>;
}

/**
 * Builds every graph before creating any session, so a config the app cannot build is refused
 * before ORT spends time (and memory) on the others.
 */
/** A component's weight as float32 values (whatever its dtype), for merging LoRAs into. */
function weightReader(part: ComponentWeights): (name: string) => { values: Float32Array; shape: number[] } {
  const data = new Map(part.external.map((e) => [e.path, e.data]));
  return (name) => {
    // The last file holding the name wins: a LoRA patch or appended table shadows the original.
    for (const file of [...part.source.files].reverse()) {
      const entry = file.header.tensors.get(name);
      const bytes = data.get(file.location);
      if (entry && bytes) return { values: tensorAsFloat32(bytes, entry), shape: entry.shape };
    }
    throw new Error(`no weight ${name}`);
  };
}

/** Adds the LoRAs' merged weights to a component, shadowing the originals. */
function withLoras(part: ComponentWeights, target: LoraTarget, loras: readonly AppliedLora[]): void {
  const patch = mergeLoras(loras, target, weightReader(part), `lora-${target}.merged`);
  if (!patch) return;
  part.source.files.push(patch.file);
  part.external.push({ path: patch.file.location, data: patch.bytes });
}

export interface AppliedLora {
  layers: readonly LoraLayer[];
  scale: number;
}

/** How the graphs are built: the backend's linear form and input padding, the compute type. */
export interface BuildOptions {
  padInputChannels?: boolean;
  linear?: LinearForm;
  /** float32 (the default) or float16 (WebGPU with shader-f16). */
  precision?: Precision;
  /** Contrib kernels the backend runs right and faster (see graph-form.ts). */
  fused?: readonly FusedKernel[];
  /** WebGPU: the adapter's maxStorageBufferBindingSize, which sizes are checked against. */
  maxBindingBytes?: number;
  /** The UNet takes a ControlNet's residuals (see UnetBuildOptions.controlResiduals). */
  controlResiduals?: boolean;
}

function graphOptions(options: BuildOptions): GraphOptions {
  return {
    ...(options.linear ? { linear: options.linear } : {}),
    ...(options.precision ? { precision: options.precision } : {}),
    ...(options.fused ? { fused: options.fused } : {}),
  };
}

function unetOptions(options: BuildOptions): UnetBuildOptions {
  return {
    padInputChannels: options.padInputChannels ?? false,
    ...(options.controlResiduals ? { controlResiduals: true } : {}),
    ...graphOptions(options),
  };
}

export async function checkpointSessions(
  bytes: CheckpointBytes,
  create: CreateSession,
  options: BuildOptions & { loras?: readonly AppliedLora[] } = {},
): Promise<CheckpointSessions> {
  const precision = options.precision ?? 'float32';
  let text = rawComponent(bytes.textEncoder);
  let unet = rawComponent(bytes.unet);
  const rawText2 = bytes.textEncoder2 ? rawComponent(bytes.textEncoder2) : null;
  if (options.loras?.length) {
    withLoras(text, 'text_encoder', options.loras);
    if (rawText2) withLoras(rawText2, 'text_encoder_2', options.loras);
    withLoras(unet, 'unet', options.loras);
  }
  text = inPrecision(text, precision);
  unet = inPrecision(unet, precision);
  // SDXL's pipelines decode (and encode) in float32 whenever the VAE says force_upcast: SDXL's VAE
  // overflows float16 at its sizes. madebyollin/sdxl-vae-fp16-fix says false and stays in float16.
  // SD 1.x/2.x's pipelines do not upcast: their VAEs run in float16 and are rebuilt in float32
  // only when an output overflows (float32Vae).
  const vaeConfig = readVaeConfig(bytes.vae.configPath, bytes.vae.config);
  const vaePrecision: Precision = bytes.textEncoder2 && vaeConfig.forceUpcast ? 'float32' : precision;
  const vae = inPrecision(rawComponent(bytes.vae), vaePrecision);
  const text2 = rawText2 ? inPrecision(rawText2, precision) : null;
  const form = graphOptions(options);
  const textModel = textEncoderGraph(text.source, form);
  const text2Model = text2 ? textEncoderGraph(text2.source, form) : null;
  const unetBuilt = unetGraph(unet.source, unetOptions(options));
  const vaeBuilt = vaeGraphs(vae.source, { ...form, precision: vaePrecision });
  const created: InferenceSession[] = [];
  const make: CreateSession = async (part, model, external) => {
    const s = await create(part, model, external);
    created.push(s);
    return s;
  };
  try {
    const textEncoder = await make('text_encoder', textModel, text.external);
    const textEncoder2 = text2 && text2Model ? await make('text_encoder_2', text2Model, text2.external) : null;
    const unetSession = await make('unet', unetBuilt.model, unet.external);
    const vaeDecoder = await make('vae_decoder', vaeBuilt.decoder, vae.external);
    const vaeEncoder = await make('vae_encoder', vaeBuilt.encoder, vae.external);
    return {
      sessions: { textEncoder, ...(textEncoder2 ? { textEncoder2 } : {}), unet: unetSession, vaeDecoder, vaeEncoder },
      vaeScalingFactor: vaeBuilt.config.scalingFactor,
      unetConfig: unetBuilt.config,
      vaeConfig: vaeBuilt.config,
      precision,
      vaePrecision,
      ...(options.maxBindingBytes
        ? {
            checkSize: bindingCheck(
              { unet: unetBuilt.config, vae: vaeBuilt.config, precision },
              options.maxBindingBytes,
            ),
          }
        : {}),
      ...(vaePrecision === 'float16' && vaeBuilt.config.forceUpcast
        ? {
            float32Vae: (part: VaePart) => {
              const wide = componentSource(bytes.vae, 'float32');
              const graphs = vaeGraphs(wide.source, { ...form, precision: 'float32' });
              return create(part, part === 'vae_decoder' ? graphs.decoder : graphs.encoder, wide.external);
            },
          }
        : {}),
    };
  } catch (error) {
    await Promise.all(created.map((s) => s.release().catch(() => undefined)));
    throw error;
  }
}

/** The networks a checkpoint's additions rebuild (null: the loaded one serves unchanged). */
export interface AddedSessions {
  textEncoder: InferenceSession | null;
  textEncoder2: InferenceSession | null;
  unet: InferenceSession | null;
}

/**
 * The text encoders (when a LoRA or embedding touches them) and the UNet (when a LoRA touches it,
 * or it must take a ControlNet's residuals) again, from the bytes kept since the load: the
 * checkpoint is neither downloaded nor re-parsed, only these graphs and sessions are made.
 * `embeddingRows2`: SDXL's second encoder's rows for the same tokens.
 */
export async function additionSessions(
  bytes: Pick<CheckpointBytes, 'textEncoder' | 'textEncoder2' | 'unet'>,
  additions: {
    loras: readonly AppliedLora[];
    embeddingRows: Float32Array;
    embeddingRows2?: Float32Array;
    embeddingCount: number;
  },
  create: CreateSession,
  options: BuildOptions = {},
): Promise<AddedSessions> {
  const { loras, embeddingRows, embeddingRows2, embeddingCount } = additions;
  const precision = options.precision ?? 'float32';
  const form = graphOptions(options);
  const touches = (target: LoraTarget) => loras.some((l) => l.layers.some((x) => x.target === target));
  const made: AddedSessions = { textEncoder: null, textEncoder2: null, unet: null };
  const encoder = async (
    part: 'text_encoder' | 'text_encoder_2',
    component: ComponentBytes,
    rows: Float32Array,
  ): Promise<InferenceSession> => {
    let text = rawComponent(component);
    withLoras(text, part, loras);
    if (embeddingCount > 0) appendTokens(text, rows, embeddingCount);
    text = inPrecision(text, precision);
    return create(part, textEncoderGraph(text.source, { ...form, extraTokens: embeddingCount }), text.external);
  };
  try {
    if (touches('text_encoder') || embeddingCount > 0) {
      made.textEncoder = await encoder('text_encoder', bytes.textEncoder, embeddingRows);
    }
    if (bytes.textEncoder2 && (touches('text_encoder_2') || embeddingCount > 0)) {
      if (embeddingCount > 0 && !embeddingRows2)
        throw new ModelError('SDXL embeddings need rows for both text encoders.');
      made.textEncoder2 = await encoder('text_encoder_2', bytes.textEncoder2, embeddingRows2 ?? new Float32Array(0));
    }
    if (touches('unet') || options.controlResiduals) {
      const unet = rawComponent(bytes.unet);
      withLoras(unet, 'unet', loras);
      const converted = inPrecision(unet, precision);
      const model = unetGraph(converted.source, unetOptions(options)).model;
      made.unet = await create('unet', model, converted.external);
    }
    return made;
  } catch (error) {
    for (const s of [made.textEncoder, made.textEncoder2]) await s?.release();
    throw error;
  }
}

/** The token table with `count` rows appended, shadowing the original (textual inversion). */
function appendTokens(part: ComponentWeights, rows: Float32Array, count: number): void {
  const name = ['text_model.embeddings.token_embedding.weight', 'embeddings.token_embedding.weight'].find((n) =>
    part.source.files.some((f) => f.header.tensors.has(n)),
  );
  if (!name) throw new Error('The text encoder has no token embedding table.');
  const { values, shape } = weightReader(part)(name);
  const [vocab, hidden] = shape as [number, number];
  const table = new Float32Array((vocab + count) * hidden);
  table.set(values);
  table.set(rows, vocab * hidden);
  const bytes = new Uint8Array(table.buffer);
  const location = 'tokens.appended';
  part.source.files.push({
    header: {
      file: location,
      dataStart: 0,
      size: bytes.length,
      tensors: new Map([[name, { name, dtype: 'F32', shape: [vocab + count, hidden], begin: 0, end: bytes.length }]]),
      metadata: {},
    },
    location,
  });
  part.external.push({ path: location, data: bytes });
}

/** The weight names of a component's files, which LoRA names are matched against. */
export function weightNames(part: ComponentBytes): string[] {
  return part.weights.flatMap((w) => [...parseSafetensors(w.path, w.bytes).tensors.keys()]);
}

/**
 * A safety checker's vision tower as a session in the networks' compute type, and its concept
 * embeddings and thresholds, read from the same bytes (they are not part of the graph).
 */
export async function safetyCheckerSession(
  part: ComponentBytes,
  create: (model: Uint8Array, externalData: { path: string; data: Uint8Array }[]) => Promise<InferenceSession>,
  options: BuildOptions,
): Promise<{ session: InferenceSession; concepts: SafetyConcepts }> {
  const raw = rawComponent(part);
  const holder = raw.source.files.findIndex((f) => f.header.tensors.has('concept_embeds'));
  const file = raw.source.files[holder];
  if (!file) throw new ModelError(`${part.configPath}: the safety checker's weights have no concept_embeds.`);
  const concepts = readSafetyConcepts(file.header, raw.external[holder]!.data);
  const built = inPrecision(raw, options.precision ?? 'float32');
  const model = safetyCheckerGraph(built.source, graphOptions(options));
  return { session: await create(model, built.external), concepts };
}

/** A ControlNet as a session in the networks' compute type, and its config. */
export async function controlNetSession(
  part: ComponentBytes,
  create: (model: Uint8Array, externalData: { path: string; data: Uint8Array }[]) => Promise<InferenceSession>,
  options: BuildOptions,
): Promise<{ session: InferenceSession; config: ControlNetConfig }> {
  const built = componentSource(part, options.precision ?? 'float32');
  const { model, config } = controlNetGraph(built.source, graphOptions(options));
  return { session: await create(model, built.external), config };
}
