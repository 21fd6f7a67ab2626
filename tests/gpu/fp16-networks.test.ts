/**
 * On the test bed (WebGPU with shader-f16: Dawn + lavapipe), every reference network built in
 * float16 equals diffusers' float16 computation (io-fp16.safetensors) within 1e-2 of ‖b‖∞, and the
 * attention-overflow case stays finite where plain float16 scores would give Inf/NaN. The float32
 * form WebGPU adapters without shader-f16 get (with its fused kernels) equals diffusers' float32.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Tensor } from 'onnxruntime-common';
import { beforeAll, describe, expect, it } from 'vitest';
import { safetyCheckerGraph, textEncoderGraph, unetGraph, vaeGraphs } from '../../src/core/networks';
import { parseSafetensors } from '../../src/core/formats/safetensors';
import { readSafetyConcepts, safetyVerdict } from '../../src/core/safety/verdict';
import { graphForm } from '../../src/worker/runtime/graph-form';
import { componentSource } from '../../src/worker/runtime/safetensors-sessions';
import { NETWORK_CASES, NETWORKS_DIR, readTensorFile, type TensorFile } from '../helpers/fixtures';
import { normRelativeError } from '../helpers/goldens';
import { readJson } from '../helpers/node-models';
import { testBed } from '../helpers/test-bed';
import type { NodeGpu } from '../../scripts/node-gpu/runtime';

const WEIGHTS = { text_encoder: 'model', unet: 'diffusion_pytorch_model', vae: 'diffusion_pytorch_model' } as const;

/** A component in float16 the app's way (the fp16 variant where the case has one, else narrowed); float32 from the float32 file. */
function component(name: string, part: keyof typeof WEIGHTS, precision: 'float16' | 'float32' = 'float16') {
  const dir = `${NETWORKS_DIR}${name}/${part}/`;
  const variants = [`${WEIGHTS[part]}.fp16.safetensors`, `${WEIGHTS[part]}.safetensors`];
  if (precision === 'float32') variants.reverse();
  const file = variants.find((f) => existsSync(dir + f))!;
  return componentSource(
    {
      configPath: `${part}/config.json`,
      config: readJson(`${dir}config.json`),
      weights: [{ path: `${part}/${file}`, bytes: new Uint8Array(readFileSync(dir + file)) }],
    },
    precision,
  );
}

const BOUND = 1e-2;
/**
 * The UNets' bound is wider: onnxruntime-web 1.30's WebGPU Conv accumulates float16 inputs in
 * float16 (torch's CPU kernels accumulate in float32). Measured on lavapipe against io-fp16: sd1
 * 8.4e-3, lcm 1.03e-2, sd2-upcast 1.09e-2; the same graphs with their Convs computed in float32
 * gave 3.0e-3 / 3.6e-3, and float32 graphs 1.6e-3 / 1.9e-3 (torch's own fp16 is 1.6e-3 / 1.9e-3
 * from float32). There is no ORT option for float32 accumulation in Conv; Conv in float32 would
 * double the weights' GPU memory, which is what float16 is for.
 */
const UNET_BOUND = 1.5e-2;
let bed: NodeGpu;
beforeAll(async () => {
  bed = await testBed();
  expect(bed.adapter.shaderF16).toBe(true);
}, 60_000);

const floats = (t: Tensor | undefined) => t!.data as Float32Array;

/** One UNet call with a case's recorded inputs (`io.safetensors`), on the test bed. */
async function runUnet(
  built: ReturnType<typeof unetGraph>,
  external: { path: string; data: Uint8Array }[],
  io: TensorFile,
): Promise<Float32Array> {
  const f32 = (key: string) => new bed.ort.Tensor('float32', io.floats(key), io.shape(key));
  const s = await bed.session(built.model, external);
  const feeds: Record<string, Tensor> = {
    sample: f32('unet.sample'),
    timestep: f32('unet.timestep'),
    encoder_hidden_states: f32('unet.encoder_hidden_states'),
  };
  if (built.config.timeCondProjDim) feeds['timestep_cond'] = f32('unet.timestep_cond');
  const out = floats((await s.run(feeds))['out_sample']);
  await s.release();
  return out;
}
const allFinite = (a: Float32Array) => a.every((v) => Number.isFinite(v));

describe.each(NETWORK_CASES)('%s in float16 on WebGPU against diffusers float16', (name) => {
  const io = readTensorFile(`${NETWORKS_DIR}${name}/io.safetensors`);
  const io16 = readTensorFile(`${NETWORKS_DIR}${name}/io-fp16.safetensors`);
  const f32 = (key: string) => new bed.ort.Tensor('float32', io.floats(key), io.shape(key));

  it('CLIPTextModel', async () => {
    const { source, external } = component(name, 'text_encoder');
    const s = await bed.session(textEncoderGraph(source, { precision: 'float16' }), external);
    const ids = new bed.ort.Tensor('int32', Int32Array.from(io.floats('text.input_ids')), io.shape('text.input_ids'));
    const out = floats((await s.run({ input_ids: ids }))['last_hidden_state']);
    await s.release();
    expect(normRelativeError(out, io16.floats('text.last_hidden_state'))).toBeLessThan(BOUND);
  });

  it('UNet2DConditionModel', async () => {
    const { source, external } = component(name, 'unet');
    const out = await runUnet(unetGraph(source, { precision: 'float16', padInputChannels: true }), external, io);
    expect(normRelativeError(out, io16.floats('unet.out_sample'))).toBeLessThan(UNET_BOUND);
  });

  it('AutoencoderKL decoder', async () => {
    const { source, external } = component(name, 'vae');
    const s = await bed.session(vaeGraphs(source, { precision: 'float16' }).decoder, external);
    const out = floats((await s.run({ latent_sample: f32('vae.latent_sample') }))['sample']);
    await s.release();
    expect(normRelativeError(out, io16.floats('vae.decoded'))).toBeLessThan(BOUND);
  });
});

describe('sd2-upcast: attention scores past float16’s range', () => {
  it('stays finite with upcast_attention and matches both references', async () => {
    const name = 'sd2-upcast';
    const io = readTensorFile(`${NETWORKS_DIR}${name}/io.safetensors`);
    const io16 = readTensorFile(`${NETWORKS_DIR}${name}/io-fp16.safetensors`);
    const f32 = (key: string) => new bed.ort.Tensor('float32', io.floats(key), io.shape(key));
    const { source, external } = component(name, 'unet');
    const feeds = {
      sample: f32('unet.sample'),
      timestep: f32('unet.timestep'),
      encoder_hidden_states: f32('unet.encoder_hidden_states'),
    };
    const upcast = await bed.session(
      unetGraph(source, { precision: 'float16', padInputChannels: true }).model,
      external,
    );
    const out = floats((await upcast.run(feeds))['out_sample']);
    await upcast.release();
    expect(allFinite(out)).toBe(true);
    expect(normRelativeError(out, io16.floats('unet.out_sample'))).toBeLessThan(UNET_BOUND);
    expect(normRelativeError(out, io.floats('unet.out_sample'))).toBeLessThan(UNET_BOUND);

    // The reference's peak score is past float16's range, so scores computed in float16 would
    // be Inf there. (The graph without upcast stays finite on lavapipe: WGSL leaves an f32 → f16
    // conversion out of range to the implementation, and lavapipe clamps; real GPUs give Inf.)
    expect(Number(io16.header.metadata['peak_attention_score'])).toBeGreaterThan(65504);
  });
});

describe('the float32 WebGPU form against diffusers float32', () => {
  it.each(['sd1', 'lcm'] as const)('%s UNet with BiasSplitGelu', async (name) => {
    const io = readTensorFile(`${NETWORKS_DIR}${name}/io.safetensors`);
    const form = graphForm('webgpu', 'float32');
    expect(form.fused).toContain('BiasSplitGelu');
    const { source, external } = component(name, 'unet', 'float32');
    const built = unetGraph(source, { ...form, padInputChannels: true });
    expect(Buffer.from(built.model).includes('BiasSplitGelu')).toBe(true);
    const out = await runUnet(built, external, io);
    // The plain float32 graph is 3.4e-6 from diffusers on lavapipe.
    expect(normRelativeError(out, io.floats('unet.out_sample'))).toBeLessThan(1e-4);
  });
});

describe("the safety checker's vision tower on WebGPU", () => {
  const DIR = 'tests/fixtures/safety/sd1-safety/';
  const golden = readTensorFile(`${DIR}checker.safetensors`);
  const hasNsfw = golden.u8('has_nsfw');

  it.each(['float16', 'float32'] as const)(
    'in %s: image_embeds from pixel_values within the bound, and the decision is has_nsfw for all 8',
    async (precision) => {
      const bytes = new Uint8Array(readFileSync(`${DIR}safety_checker/model.safetensors`));
      const part = {
        configPath: 'safety_checker/config.json',
        config: readJson(`${DIR}safety_checker/config.json`),
        weights: [{ path: 'safety_checker/model.safetensors', bytes }],
      };
      const { source, external } = componentSource(part, precision);
      const s = await bed.session(safetyCheckerGraph(source, graphForm('webgpu', precision)), external);
      const concepts = readSafetyConcepts(parseSafetensors('model.safetensors', bytes), bytes);
      for (let i = 0; i < 8; i++) {
        const pixels = new bed.ort.Tensor('float32', golden.floats(`pixel_values.${i}`), [1, 3, 32, 32]);
        const embeds = floats((await s.run({ pixel_values: pixels }))['image_embeds']);
        const error = normRelativeError(embeds, golden.floats(`image_embeds.${i}`));
        expect(error, `picture ${i}`).toBeLessThan(precision === 'float16' ? BOUND : 1e-4);
        expect(safetyVerdict(embeds, concepts).flagged, `picture ${i}`).toBe(hasNsfw[i] === 1);
      }
      await s.release();
    },
    120_000,
  );
});
