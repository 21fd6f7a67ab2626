/**
 * ONNX Runtime sessions for one model load: every session made is kept (to release them all), a
 * cached file that does not load is removed so the next try downloads it again, and a float16 graph
 * on a GPU without shader-f16 is refused before ORT tries.
 */
import { CancelledError, ModelError } from '../../core/errors';
import { onnxExternalLocations, onnxUsesFloat16 } from '../../core/onnx/reader';
import { padInputConv } from '../../core/onnx/conv-pad';
import type { FileRef, OnnxFileRef } from '../../protocol/load-plan';
import type { AdapterInfo, Backend, Progress } from '../../protocol/messages';
import { deleteFile } from '../../storage/model-cache';
import { wholeFile, type FetchedFile, type ModelFiles } from '../loading/model-files';
import type { ort, OrtWeb } from './ort-env';

type Session = ort.InferenceSession;
type SessionOptions = ort.InferenceSession.SessionOptions;

export interface SessionMaker {
  /** Every session made so far (the step graph's too, added by whoever makes it). */
  readonly created: Session[];
  readonly options: SessionOptions;
  /** A session from a graph and its external data; `cachedUrls` are removed if it fails to load. */
  create(
    part: string,
    path: string,
    model: Uint8Array,
    external: { path: string; data: Uint8Array }[],
    cachedUrls: string[],
    extra?: SessionOptions,
  ): Promise<Session>;
  /** An ONNX file of the plan (with its external data) as a session. */
  onnxSession(part: string, ref: OnnxFileRef, extra?: SessionOptions): Promise<Session>;
}

/**
 * The external-data files a graph needs: those the plan lists, and any other the graph's
 * initializers name (optimum's `model.onnx_data`, torch's `weights.pb`), fetched beside the graph.
 */
function externalFiles(ref: OnnxFileRef, model: Uint8Array): FileRef[] {
  const listed = ref.externalData ?? [];
  const name = (path: string) => path.split('/').pop() ?? path;
  let named: string[] = [];
  try {
    named = onnxExternalLocations(model);
  } catch {
    // Not parseable here: ONNX Runtime will say what is wrong with the graph.
  }
  const dir = ref.path.slice(0, ref.path.lastIndexOf('/') + 1);
  const more = named
    .filter((location) => !listed.some((e) => name(e.path) === location))
    .map((location) => {
      const sibling = ref.siblings?.[location];
      return {
        url: sibling ?? new URL(location, ref.url).href,
        path: `${dir}${location}`,
        ...(ref.siblings && !sibling ? { missing: true } : {}),
      };
    });
  return [...listed, ...more];
}

export function sessionMaker(setup: {
  runtime: OrtWeb;
  backend: Backend;
  adapter: AdapterInfo | null;
  freeDimensionOverrides: Record<string, number> | undefined;
  files: ModelFiles;
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
}): SessionMaker {
  const { runtime, backend, adapter, files, signal, onProgress } = setup;
  const options: SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    ...(setup.freeDimensionOverrides ? { freeDimensionOverrides: setup.freeDimensionOverrides } : {}),
  };
  const created: Session[] = [];
  const create: SessionMaker['create'] = async (part, path, model, external, cachedUrls, extra = {}) => {
    if (signal.aborted) throw new CancelledError();
    onProgress({ kind: 'session', part });
    try {
      const s = await runtime.InferenceSession.create(model, {
        ...options,
        ...extra,
        ...(external.length > 0 ? { externalData: external } : {}),
      });
      created.push(s);
      return s;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A cached file that does not load is damaged: remove it so the next try downloads it again.
      if (cachedUrls.length > 0) {
        for (const url of cachedUrls) await deleteFile(url);
        throw new ModelError(
          `${path} from this browser's cache could not be loaded (${reason}). The damaged copy was removed: press Generate to download it again.`,
        );
      }
      if (/protobuf parsing failed/i.test(reason)) {
        throw new ModelError(
          `${path} is not a complete ONNX model (${model.length} bytes; ONNX Runtime: ${reason}): the file is truncated or damaged.`,
        );
      }
      throw new ModelError(`${path} could not be loaded by ONNX Runtime (${backend}): ${reason}`);
    }
  };
  const onnxSession: SessionMaker['onnxSession'] = async (part, ref, extra = {}) => {
    const fetched = await files.get(ref);
    const main = { ...fetched, bytes: wholeFile(fetched) };
    // A float16 graph cannot run on WebGPU without shader-f16: said before ORT tries, and the
    // cached files are kept (they are not damaged), whatever the manifest claimed.
    if (backend === 'webgpu' && adapter && !adapter.shaderF16 && onnxUsesFloat16(main.bytes)) {
      throw new ModelError(
        `${ref.path} computes in fp16 (it has float16 inputs or weights), which needs WebGPU's shader-f16 feature; this GPU (${adapter.vendor} ${adapter.architecture}) does not offer it. The downloaded files stay cached: choose WASM as the backend, or a GPU or browser with shader-f16.`,
      );
    }
    const external: (FetchedFile & { bytes: Uint8Array })[] = [];
    for (const e of externalFiles(ref, main.bytes)) {
      const got = await files.get(e);
      external.push({ ...got, bytes: wholeFile(got) });
    }
    const cached = [main, ...external].filter((f) => f.fromCache);
    const named = (location: string) => external.find((e) => e.ref.path.split('/').pop() === location)?.bytes;
    // WebGPU's Conv is wrong with 9 input channels (an inpainting UNet's conv_in): padded to 12 with
    // zeros, the same numbers. WASM is exact as exported, so its graph is left as it is.
    const graph = (backend === 'webgpu' && padInputConv(main.bytes, named)?.model) || main.bytes;
    return create(
      part,
      ref.path,
      graph,
      external.map((e) => ({ path: e.ref.path.split('/').pop()!, data: e.bytes })),
      cached.length > 0 ? [ref.url, ...external.map((e) => e.ref.url)] : [],
      extra,
    );
  };
  return { created, options, create, onnxSession };
}
