/**
 * The in-browser half of `npm run bench`: times a whole generation phase by phase inside the
 * worker, the app's UNet call against a bare session.run of the same model with the same inputs,
 * and what a denoising step costs besides session.run (the app's own overhead).
 */
import type { Models } from '../src/core/pipeline/models';
import { txt2img } from '../src/core/pipeline/txt2img';
import type { SchedulerConfigJson } from '../src/core/schedulers/types';
import { TorchGenerator } from '../src/core/random';
import { tensor, type Tensor } from '../src/core/tensor';
import type { BenchParams, BenchResult, Stats } from '../src/protocol/messages';
import type { OnnxModels } from './onnx-models';

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { median: round(at(0.5)), p90: round(at(0.9)), n: samples.length };
}

function isOnnxModels(models: Models): models is OnnxModels {
  return 'unetFeeds' in models && 'unetRunMs' in models;
}

export async function runBench(
  models: Models,
  schedulerConfig: SchedulerConfigJson,
  params: BenchParams,
  context: { backend: 'webgpu' | 'wasm'; threads: number },
): Promise<BenchResult> {
  if (!isOnnxModels(models)) throw new Error('The benchmark needs the ONNX Runtime models.');
  const { width, height, steps, runs } = params;
  const stepTotal: number[] = [];
  const sessionRun: number[] = [];
  const appUnet: number[] = [];
  const textEncoder: number[] = [];
  const vaeDecode: number[] = [];
  const total: number[] = [];

  // The app's UNet call, timed from outside; session.run is timed inside the adapter.
  const timed: Models = {
    ...models,
    unet: async (sample: Tensor, t: number, text: Tensor) => {
      const started = performance.now();
      const out = await models.unet(sample, t, text);
      appUnet.push(performance.now() - started);
      return out;
    },
  };
  for (let run = 0; run <= runs; run++) {
    models.unetRunMs.length = 0;
    const marks: number[] = [];
    const started = performance.now();
    const result = await txt2img(
      timed,
      {
        prompt: 'A painting of a flooble',
        negativePrompt: '',
        guidanceScale: 7.5,
        steps,
        seed: BigInt(run),
        width,
        height,
        scheduler: 'ddim',
      },
      {
        schedulerConfig,
        onProgress: (p) => {
          if (p.phase === 'denoise') marks.push(performance.now());
        },
      },
    );
    const elapsed = performance.now() - started;
    // The first run warms up (shader compilation, allocations) and is not counted.
    if (run === 0) {
      appUnet.length = 0;
      continue;
    }
    for (let i = 1; i < marks.length; i++) {
      const step = marks[i]! - marks[i - 1]!;
      stepTotal.push(step);
      sessionRun.push(models.unetRunMs[i - 1] ?? 0);
    }
    textEncoder.push(result.timings.encodeMs);
    vaeDecode.push(result.timings.decodeMs);
    total.push(elapsed);
  }
  const overhead = stepTotal.map((s, i) => s - sessionRun[i]!);

  // A bare session.run with the inputs the app would build, prebuilt once.
  const latentShape = [2, 4, height / 8, width / 8];
  const sample = tensor(new TorchGenerator(7).randn(latentShape.reduce((a, b) => a * b, 1)), latentShape);
  const ids = (await models.tokenize('A painting of a flooble')).ids;
  const text = await models.encodeText(ids);
  const text2 = tensor(new Float32Array([...text.data, ...text.data]), [2, ...text.dims.slice(1)]);
  const feeds = models.unetFeeds(sample, 501, text2);
  const bare: number[] = [];
  for (let i = 0; i <= Math.max(20, stepTotal.length); i++) {
    const started = performance.now();
    await models.sessions.unet.run(feeds);
    if (i > 0) bare.push(performance.now() - started);
  }
  const unetStep = stats(appUnet);
  const bareRun = stats(bare);
  const totalStats = stats(total);
  const overheadStats = stats(overhead);
  return {
    backend: context.backend,
    threads: context.threads,
    width,
    height,
    steps,
    runs,
    phases: {
      textEncoderMs: stats(textEncoder),
      unetStepMs: unetStep,
      sessionRunMs: stats(sessionRun),
      bareSessionRunMs: bareRun,
      stepTotalMs: stats(stepTotal),
      jsOverheadPerStepMs: overheadStats,
      vaeDecodeMs: stats(vaeDecode),
      totalMs: totalStats,
    },
    appToBareRatio: Math.round((unetStep.median / bareRun.median) * 1000) / 1000,
    overheadShareOfTotal: Math.round(((overheadStats.median * steps) / totalStats.median) * 10000) / 10000,
    imagesPerMinute: Math.round((60_000 / totalStats.median) * 10) / 10,
  };
}
