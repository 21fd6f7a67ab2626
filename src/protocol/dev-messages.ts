/**
 * The shapes of the requests only the benchmark (`npm run bench`, `?bench`) and the reliability
 * tests (`?testHooks=1`) send; their rows are in dev-requests.ts.
 */
import type { Backend } from './messages';

export type TestHookAction = 'lose-device' | 'crash' | 'close';

export interface Stats {
  median: number;
  p90: number;
  n: number;
}

export interface BenchParams {
  width: number;
  height: number;
  steps: number;
  /** Timed runs after one warm-up run. */
  runs: number;
  /** Allow the linear loop (GPU-resident on WebGPU, buffer-reusing JS on WASM); false times the plain loop, for before/after. */
  resident?: boolean;
  /** A same-origin ONNX file to time alone with the loaded model's backend and threads (zeros for its static inputs). */
  graphUrl?: string;
  /** Timed runs of the `graphUrl` file (20 by default). */
  repeats?: number;
}

export interface BenchGraphParams {
  /** A same-origin ONNX file, or (with `checkpoint`) none: the worker builds the UNet's graph. */
  url?: string;
  /**
   * A diffusers UNet (config.json + safetensors, same-origin) built in the worker exactly as the
   * loader builds it: fp16 weights widened, Linear as `linear`.
   */
  checkpoint?: { configUrl: string; weightsUrl: string; linear?: 'gemm' | 'matmul' };
  /** A same-origin file handed to ORT as external data under `path` (the location the graph names). */
  external?: { path: string; url: string };
  /** Values for the graph's symbolic input dims (others: 1). */
  dims?: Record<string, number>;
  /** Timed runs after one warm-up run. */
  repeats: number;
}

export interface BenchGraphResult {
  backend: Backend;
  /** Fetching the files, not timed below. */
  bytes: number;
  /** Reading headers, widening fp16 weights and writing the graph (checkpoint only). */
  buildMs: number | null;
  /** InferenceSession.create, from bytes in memory to a session ready to run. */
  createMs: number;
  runMs: Stats;
  /** WebGPU: the most GPU buffer bytes alive at once during creation and the runs, over those alive before. */
  peakGpuBytes: number | null;
}

export interface BenchResult {
  backend: Backend;
  threads: number;
  width: number;
  height: number;
  steps: number;
  runs: number;
  phases: {
    textEncoderMs: Stats;
    /** The app's UNet call: building inputs, session.run, reading the output. */
    unetStepMs: Stats;
    /** session.run alone, inside the app's calls. */
    sessionRunMs: Stats;
    /** session.run with prebuilt inputs, nothing else. */
    bareSessionRunMs: Stats;
    stepTotalMs: Stats;
    /** Everything in a step except session.run: WASM only (on WebGPU session.run returns before the GPU is done). */
    jsOverheadPerStepMs: Stats | null;
    /** A step's wall time minus the median bare run: all the app adds to the model's own time. */
    overheadVsBarePerStepMs: Stats;
    vaeDecodeMs: Stats;
    totalMs: Stats;
  };
  /** Which loop ran: 'linear' (the model adapter's own: latents stay on the GPU on WebGPU) or 'plain'. */
  loop: 'linear' | 'plain';
  /** The app's UNet call over a bare run (plain loop only). */
  appToBareRatio: number | null;
  /** A whole app step (UNet, guidance, scheduler, everything) over a bare run. */
  appStepToBareRatio: number;
  /** Overhead (vs bare) of all steps as a share of the whole image's time. */
  overheadShareOfTotal: number;
  imagesPerMinute: number;
  /** GPU→CPU reads (mapAsync for reading) during the denoising steps, per step: latent-sized or larger, and all. */
  readbacksPerStep: { latentSized: number; all: number } | null;
  /** Latent-sized or larger reads in a whole generation (the final latents, the image). */
  readbacksPerImage: number | null;
  /** GPU buffers alive (created, not destroyed) since the first benchmark in this worker (WebGPU). */
  liveGpuBuffers: number | null;
  /** The `graphUrl` file's session.run, when one was given. */
  graph?: { url: string; runMs: Stats; samples: number[] };
}
