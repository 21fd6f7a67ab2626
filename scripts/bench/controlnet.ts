/**
 * `npx tsx scripts/bench/controlnet.ts [--runs 2] [--size 512]`: what a ControlNet adds to a
 * denoising step of SD 1.5 on this machine's CPU (onnxruntime-node), with random fp16 weights at
 * their real sizes (no download), computed in float32 as WASM and adapters without shader-f16 do:
 * the app's UNet (built to take residuals) and ControlNet graphs, one guided step at batch 2.
 * Prints JSON: parameters, weight bytes, ms per step for the UNet alone and for the ControlNet.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { controlNetGraph, unetGraph } from '../../src/core/networks';
import { convertWeights } from '../../src/core/networks/convert-weights';
import { skipCount } from '../../src/core/networks/unet';
import { fullSizeControlledUnet, fullSizeControlNet, SD15_CONTROLNET, SD15_UNET } from './full-size';

const arg = (name: string, fallback: number) => Number(process.argv[process.argv.indexOf(name) + 1] || fallback);
const runs = arg('--runs', 2);
const size = arg('--size', 512);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function float32(bytes: Uint8Array) {
  const header = parseSafetensors('weights.fp16.safetensors', bytes);
  const c = convertWeights([{ file: { header, location: 'weights' }, bytes }], 'float32');
  return { files: c.files, external: c.external.map((e) => ({ path: e.path, data: e.data })) };
}

async function timed(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>) {
  await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const out = await session.run(feeds);
    ms.push(performance.now() - t);
    if (i === runs - 1) return { ms: median(ms), out };
  }
  throw new Error('no runs');
}

const h = size / 8;
const batch = 2;
const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
const sample = zeros([batch, 4, h, h]);
const text = zeros([batch, 77, 768]);
const timestep = new ort.Tensor('float32', Float32Array.of(500), [1]);

const cn = fullSizeControlNet();
const cnWeights = float32(cn.bytes);
const controlnet = controlNetGraph({ configPath: 'config.json', config: SD15_CONTROLNET, files: cnWeights.files });
const count = skipCount(controlnet.config.unet);
const cnSession = await ort.InferenceSession.create(controlnet.model, { externalData: cnWeights.external });
const cnRun = await timed(cnSession, {
  sample,
  timestep,
  encoder_hidden_states: text,
  controlnet_cond: zeros([batch, 3, size, size]),
  conditioning_scales: new ort.Tensor('float32', new Float32Array(count + 1).fill(1), [count + 1]),
});
await cnSession.release();

const unet = fullSizeControlledUnet();
const unetWeights = float32(unet.bytes);
const built = unetGraph(
  { configPath: 'unet/config.json', config: SD15_UNET, files: unetWeights.files },
  { controlResiduals: true },
);
const unetSession = await ort.InferenceSession.create(built.model, { externalData: unetWeights.external });
const residuals = Object.fromEntries(
  Object.entries(cnRun.out).map(([name, t]) => [
    name
      .replace(/^down_block_res_sample_/, 'down_block_additional_residual_')
      .replace(/^mid_block_res_sample$/, 'mid_block_additional_residual'),
    t,
  ]),
);
const unetRun = await timed(unetSession, { sample, timestep, encoder_hidden_states: text, ...residuals });

console.log(
  JSON.stringify(
    {
      size: `${size}×${size}`,
      batch,
      runtime: 'onnxruntime-node (CPU), float32',
      controlnet: { params: cn.params, fp16FileBytes: cn.bytes.length, msPerStep: Math.round(cnRun.ms) },
      unet: { params: unet.params, msPerStep: Math.round(unetRun.ms) },
      addedPerStep: `${((100 * cnRun.ms) / unetRun.ms).toFixed(0)} %`,
    },
    null,
    2,
  ),
);
