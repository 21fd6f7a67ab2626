/**
 * Each network built from a reference checkpoint's config and safetensors equals diffusers' and
 * transformers' own outputs in io.safetensors (onnxruntime-node).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, parseSafetensors, type SafetensorsInput } from '../../../../src/core/formats/safetensors';
import { textEncoderGraph, unetGraph, vaeGraphs, type ComponentSource } from '../../../../src/core/networks';
import { convertWeights } from '../../../../src/core/networks/convert-weights';
import { float32ToFloat16 } from '../../../../src/core/math/float16';
import { onnxUsesFloat16 } from '../../../../src/core/onnx/reader';
import { NETWORK_CASES, NETWORKS_DIR, readTensorFile, type TensorFile } from '../../../helpers/fixtures';
import { normRelativeError } from '../../../helpers/goldens';
import { readJson } from '../../../helpers/node-models';

const WEIGHTS = {
  text_encoder: 'model',
  unet: 'diffusion_pytorch_model',
  vae: 'diffusion_pytorch_model',
} as const;

function load(name: string, part: keyof typeof WEIGHTS, fp16: boolean): { source: ComponentSource; bytes: Uint8Array } {
  const file = `${WEIGHTS[part]}${fp16 ? '.fp16' : ''}.safetensors`;
  const bytes = new Uint8Array(readFileSync(`${NETWORKS_DIR}${name}/${part}/${file}`));
  return {
    bytes,
    source: {
      configPath: `${part}/config.json`,
      config: readJson(`${NETWORKS_DIR}${name}/${part}/config.json`),
      files: [{ header: parseSafetensors(file, bytes), location: 'weights' }],
    },
  };
}

async function session(model: Uint8Array, bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { externalData: [{ path: 'weights', data: bytes }] });
}

const f32 = (io: TensorFile, name: string) => new ort.Tensor('float32', io.floats(name), io.shape(name));
const output = (out: ort.InferenceSession.OnnxValueMapType, name: string) => out[name]!.data as Float32Array;

describe.each(NETWORK_CASES)('%s networks against diffusers', (name) => {
  const io = readTensorFile(`${NETWORKS_DIR}${name}/io.safetensors`);

  describe.each([false, true])('fp16 weights: %s', (fp16) => {
    // float32 weights: 1e-4 (measured ~1e-6); the fp16 variant computed in float32: 1e-3.
    const bound = fp16 ? 1e-3 : 1e-4;
    const key = (part: string, out: string) => `${part}${fp16 ? '_fp16w' : ''}.${out}`;

    it('CLIPTextModel: last_hidden_state and pooler_output', async () => {
      const { source, bytes } = load(name, 'text_encoder', fp16);
      const s = await session(textEncoderGraph(source), bytes);
      const ids = io.floats('text.input_ids');
      const out = await s.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), io.shape('text.input_ids')) });
      expect(
        normRelativeError(output(out, 'last_hidden_state'), io.floats(key('text', 'last_hidden_state'))),
      ).toBeLessThan(bound);
      if (!fp16)
        expect(normRelativeError(output(out, 'pooler_output'), io.floats('text.pooler_output'))).toBeLessThan(bound);
    });

    it.each([false, true])('UNet2DConditionModel (input channels zero-padded to ×4: %s)', async (pad) => {
      const { source, bytes } = load(name, 'unet', fp16);
      const { model } = unetGraph(source, { padInputChannels: pad });
      const s = await session(model, bytes);
      const feeds: Record<string, ort.Tensor> = {
        sample: f32(io, 'unet.sample'),
        timestep: f32(io, 'unet.timestep'),
        encoder_hidden_states: f32(io, 'unet.encoder_hidden_states'),
      };
      if (io.has('unet.timestep_cond')) feeds['timestep_cond'] = f32(io, 'unet.timestep_cond');
      const out = await s.run(feeds);
      expect(normRelativeError(output(out, 'out_sample'), io.floats(key('unet', 'out_sample')))).toBeLessThan(bound);
    });

    it('AutoencoderKL: decoder, and encoder to mean and log-variance', async () => {
      const { source, bytes } = load(name, 'vae', fp16);
      const { encoder, decoder } = vaeGraphs(source);
      const dec = await (await session(decoder, bytes)).run({ latent_sample: f32(io, 'vae.latent_sample') });
      expect(normRelativeError(output(dec, 'sample'), io.floats(key('vae', 'decoded')))).toBeLessThan(bound);
      if (fp16) return; // io.safetensors has the encoder's output for the fp32 weights only.
      const enc = await (await session(encoder, bytes)).run({ sample: f32(io, 'vae.image') });
      expect(normRelativeError(output(enc, 'latent_parameters'), io.floats('vae.latent_parameters'))).toBeLessThan(
        bound,
      );
    });
  });
});

describe.each(['sd1', 'sd2-depth'] as const)('%s: Linear as Gemm (transB) instead of MatMul', (name) => {
  const io = readTensorFile(`${NETWORKS_DIR}${name}/io.safetensors`);
  it('text encoder, UNet and VAE decoder equal diffusers', async () => {
    const options = { linear: 'gemm' } as const;
    const text = load(name, 'text_encoder', false);
    const ids = new ort.Tensor('int32', Int32Array.from(io.floats('text.input_ids')), io.shape('text.input_ids'));
    const t = await (await session(textEncoderGraph(text.source, options), text.bytes)).run({ input_ids: ids });
    expect(normRelativeError(output(t, 'last_hidden_state'), io.floats('text.last_hidden_state'))).toBeLessThan(1e-4);
    const unet = load(name, 'unet', false);
    const u = await (
      await session(unetGraph(unet.source, options).model, unet.bytes)
    ).run({
      sample: f32(io, 'unet.sample'),
      timestep: f32(io, 'unet.timestep'),
      encoder_hidden_states: f32(io, 'unet.encoder_hidden_states'),
    });
    expect(normRelativeError(output(u, 'out_sample'), io.floats('unet.out_sample'))).toBeLessThan(1e-4);
    const vae = load(name, 'vae', false);
    const v = await (
      await session(vaeGraphs(vae.source, options).decoder, vae.bytes)
    ).run({
      latent_sample: f32(io, 'vae.latent_sample'),
    });
    expect(normRelativeError(output(v, 'sample'), io.floats('vae.decoded'))).toBeLessThan(1e-4);
  });
});

describe('weights in other forms', () => {
  const io0 = readTensorFile(`${NETWORKS_DIR}sd1/io.safetensors`);
  it('bf16 weights are cast in the graph: the same outputs as their values stored as float32', async () => {
    const { source } = load('sd1', 'text_encoder', false);
    const file = readTensorFile(`${NETWORKS_DIR}sd1/text_encoder/model.safetensors`);
    const bf16: SafetensorsInput[] = [];
    const asF32: SafetensorsInput[] = [];
    for (const entry of file.header.tensors.values()) {
      const values = file.floats(entry.name);
      const bits = new Uint16Array(new Uint32Array(values.buffer).map((v) => v >>> 16));
      const rounded = new Float32Array(new Uint32Array(bits).map((b) => b << 16).buffer);
      bf16.push({ name: entry.name, dtype: 'BF16', shape: entry.shape, data: new Uint8Array(bits.buffer) });
      asF32.push({ name: entry.name, dtype: 'F32', shape: entry.shape, data: new Uint8Array(rounded.buffer) });
    }
    const run = async (inputs: SafetensorsInput[]) => {
      const bytes = encodeSafetensors(inputs);
      const graph = textEncoderGraph({
        ...source,
        files: [{ header: parseSafetensors('w', bytes), location: 'weights' }],
      });
      const ids = Int32Array.from({ length: 77 }, (_, i) => (i === 0 ? 49406 : i < 5 ? 320 + i : 49407));
      const out = await (await session(graph, bytes)).run({ input_ids: new ort.Tensor('int32', ids, [1, 77]) });
      return output(out, 'last_hidden_state');
    };
    expect(normRelativeError(await run(bf16), await run(asF32))).toBeLessThan(1e-6);
  });

  it("fp16 weights widened to float32 shards give the Cast graph's outputs; float32 files are not copied", async () => {
    const { source, bytes } = load('sd1', 'unet', true);
    const widened = convertWeights([{ file: source.files[0]!, bytes }], 'float32', 1 << 20);
    expect(widened.files.length).toBeGreaterThan(2);
    expect(widened.external.every((e) => e.data.length <= 1 << 20)).toBe(true);
    expect(widened.files.every((f) => [...f.header.tensors.values()].every((e) => e.dtype === 'F32'))).toBe(true);
    const graph = unetGraph({ ...source, files: widened.files }).model;
    const feeds = {
      sample: f32(io0, 'unet.sample'),
      timestep: f32(io0, 'unet.timestep'),
      encoder_hidden_states: f32(io0, 'unet.encoder_hidden_states'),
    };
    const s = await ort.InferenceSession.create(graph, { externalData: widened.external });
    const out = output(await s.run(feeds), 'out_sample');
    expect(normRelativeError(out, io0.floats('unet_fp16w.out_sample'))).toBeLessThan(1e-4);
    const plain = load('sd1', 'unet', false);
    const same = convertWeights([{ file: plain.source.files[0]!, bytes: plain.bytes }], 'float32');
    expect(same.external[0]!.data).toBe(plain.bytes);
  });

  it('a weights file missing a tensor, or with a shape the config does not make, is named', () => {
    const { source } = load('sd1', 'unet', false);
    const file = readTensorFile(`${NETWORKS_DIR}sd1/unet/diffusion_pytorch_model.safetensors`);
    const without = [...file.header.tensors.values()]
      .filter((e) => e.name !== 'conv_in.weight')
      .map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: file.bytes.subarray(e.begin, e.end) }));
    const bytes = encodeSafetensors(without);
    const broken = { ...source, files: [{ header: parseSafetensors('unet.safetensors', bytes), location: 'w' }] };
    const renamed = {
      ...source,
      files: [{ ...source.files[0]!, header: { ...source.files[0]!.header, file: 'unet.safetensors' } }],
    };
    expect(() => unetGraph(broken)).toThrow(
      'unet.safetensors has no tensor "conv_in.weight", which UNet2DConditionModel needs.',
    );
    const wide = { ...renamed, config: { ...(source.config as object), block_out_channels: [64, 64] } };
    expect(() => unetGraph(wide)).toThrow(
      'unet.safetensors: "time_embedding.linear_1.weight" has shape [128, 32], but the config makes UNet2DConditionModel expect [256, 64].',
    );
  });

  it('graphs are kilobytes: the weights stay in their file', () => {
    const { source } = load('sd1', 'unet', false);
    const { model } = unetGraph(source);
    expect(model.length).toBeLessThan(100_000);
    expect(source.files[0]!.header.size).toBeGreaterThan(3_000_000);
  });
});

describe('float16 graphs', () => {
  it('take an fp16 file as it is (no copy) and narrow float32 files as torch’s .half() does', () => {
    const half = load('sd1', 'unet', true);
    const same = convertWeights([{ file: half.source.files[0]!, bytes: half.bytes }], 'float16');
    expect(same.external[0]!.data).toBe(half.bytes);
    const graph = unetGraph({ ...half.source, files: same.files }, { precision: 'float16' }).model;
    expect(onnxUsesFloat16(graph)).toBe(true);

    const full = load('sd1', 'unet', false);
    const narrowed = convertWeights([{ file: full.source.files[0]!, bytes: full.bytes }], 'float16');
    const entry = narrowed.files[0]!.header.tensors.get('conv_in.weight')!;
    expect(entry.dtype).toBe('F16');
    const bits = new Uint16Array(narrowed.external[0]!.data.slice(entry.begin, entry.end).buffer);
    const source = full.source.files[0]!.header.tensors.get('conv_in.weight')!;
    const values = new Float32Array(full.bytes.slice(source.begin, source.end).buffer);
    expect(Array.from(bits)).toEqual(Array.from(float32ToFloat16(values)));
    // The fp16 variant file holds torch's .half() of the same weights: bit for bit the same.
    const fileEntry = half.source.files[0]!.header.tensors.get('conv_in.weight')!;
    expect(Array.from(bits)).toEqual(
      Array.from(new Uint16Array(half.bytes.slice(fileEntry.begin, fileEntry.end).buffer)),
    );
  });
});
