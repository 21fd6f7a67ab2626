/**
 * SDXL's networks built from the reference checkpoints' configs and safetensors equal diffusers'
 * and transformers' own outputs in io.safetensors (onnxruntime-node): both text encoders (the
 * second with its projection), the UNet with text_time conditioning, the VAE.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../../../src/core/formats/safetensors';
import { textEncoderGraph, unetGraph, vaeGraphs, type ComponentSource } from '../../../../src/core/networks';
import { HIDDEN_STATES, TEXT_EMBEDS } from '../../../../src/core/networks/clip-text';
import { readUnetConfig } from '../../../../src/core/networks/config';
import { FIXTURES_DIR, SDXL_DIR, SDXL_CASES, readTensorFile, type TensorFile } from '../../../helpers/fixtures';
import { normRelativeError } from '../../../helpers/goldens';
import { readJson } from '../../../helpers/node-models';

const WEIGHTS = {
  text_encoder: 'model',
  text_encoder_2: 'model',
  unet: 'diffusion_pytorch_model',
  vae: 'diffusion_pytorch_model',
} as const;

function load(name: string, part: keyof typeof WEIGHTS, fp16: boolean): { source: ComponentSource; bytes: Uint8Array } {
  const file = `${WEIGHTS[part]}${fp16 ? '.fp16' : ''}.safetensors`;
  const bytes = new Uint8Array(readFileSync(`${SDXL_DIR}${name}/${part}/${file}`));
  return {
    bytes,
    source: {
      configPath: `${part}/config.json`,
      config: readJson(`${SDXL_DIR}${name}/${part}/config.json`),
      files: [{ header: parseSafetensors(file, bytes), location: 'weights' }],
    },
  };
}

const session = (model: Uint8Array, bytes: Uint8Array) =>
  ort.InferenceSession.create(model, { externalData: [{ path: 'weights', data: bytes }] });
const f32 = (io: TensorFile, name: string) => new ort.Tensor('float32', io.floats(name), io.shape(name));
const output = (out: ort.InferenceSession.OnnxValueMapType, name: string) => out[name]!.data as Float32Array;

/** Layer `index` of a [layers, B, T, d] stack. */
function layer(stack: ort.Tensor, index: number): Float32Array {
  const size = stack.dims.slice(1).reduce((a, b) => a * b, 1);
  return (stack.data as Float32Array).slice(index * size, (index + 1) * size);
}

describe.each(SDXL_CASES)('%s networks against diffusers', (name) => {
  const io = readTensorFile(`${SDXL_DIR}${name}/io.safetensors`);

  describe.each([false, true])('fp16 weights: %s', (fp16) => {
    // float32 weights: 1e-4; the fp16 variant computed in float32 (against diffusers with the same
    // weights, python/goldens/sdxl_fp16w.py): 1e-3. The float32 and fp16 weights' own outputs
    // differ by 1.05e-3 to 1.4e-3 (measured), so each is held against its own reference.
    const bound = fp16 ? 1e-3 : 1e-4;
    const expected = fp16 ? readTensorFile(`${FIXTURES_DIR}goldens/sdxl-fp16w/${name}.safetensors`) : io;

    it.each([
      ['text_encoder', 'text'],
      ['text_encoder_2', 'text_2'],
    ] as const)('%s: last and penultimate hidden states (and the projection)', async (part, key) => {
      const { source, bytes } = load(name, part, fp16);
      const s = await session(textEncoderGraph(source), bytes);
      const ids = io.floats(`${key}.input_ids`);
      const out = await s.run({
        input_ids: new ort.Tensor('int32', Int32Array.from(ids), io.shape(`${key}.input_ids`)),
      });
      const stack = out[HIDDEN_STATES]!;
      const layers = stack.dims[0]!;
      expect(
        normRelativeError(output(out, 'last_hidden_state'), expected.floats(`${key}.last_hidden_state`)),
      ).toBeLessThan(bound);
      // hidden_states[-2]: the second-to-last layer's output, without the final norm.
      expect(
        normRelativeError(layer(stack, layers - 2), expected.floats(`${key}.penultimate_hidden_state`)),
      ).toBeLessThan(bound);
      if (key === 'text_2') {
        expect(normRelativeError(output(out, TEXT_EMBEDS), expected.floats('text_2.text_embeds'))).toBeLessThan(bound);
      } else {
        expect(s.outputNames).not.toContain(TEXT_EMBEDS);
      }
    });

    it('UNet2DConditionModel with text_time: out_sample', async () => {
      const { source, bytes } = load(name, 'unet', fp16);
      const { model } = unetGraph(source);
      const s = await session(model, bytes);
      const out = await s.run({
        sample: f32(io, 'unet.sample'),
        timestep: f32(io, 'unet.timestep'),
        encoder_hidden_states: f32(io, 'unet.encoder_hidden_states'),
        text_embeds: f32(io, 'unet.text_embeds'),
        time_ids: f32(io, 'unet.time_ids'),
      });
      expect(normRelativeError(output(out, 'out_sample'), expected.floats('unet.out_sample'))).toBeLessThan(bound);
    });

    it('AutoencoderKL: decoder, and encoder to mean and log-variance', async () => {
      const { source, bytes } = load(name, 'vae', fp16);
      const { encoder, decoder, config } = vaeGraphs(source);
      expect(config.scalingFactor).toBe(0.13025);
      const dec = await (await session(decoder, bytes)).run({ latent_sample: f32(io, 'vae.latent_sample') });
      expect(normRelativeError(output(dec, 'sample'), expected.floats('vae.decoded'))).toBeLessThan(bound);
      const enc = await (await session(encoder, bytes)).run({ sample: f32(io, 'vae.image') });
      expect(
        normRelativeError(output(enc, 'latent_parameters'), expected.floats('vae.latent_parameters')),
      ).toBeLessThan(bound);
    });
  });

  it('the time ids matter: the second row (not the default) changes the output', async () => {
    const { source, bytes } = load(name, 'unet', false);
    const s = await session(unetGraph(source).model, bytes);
    const ids = io.floats('unet.time_ids');
    const swapped = new Float32Array(ids.length);
    swapped.set(ids.subarray(6), 0);
    swapped.set(ids.subarray(0, 6), 6);
    const out = await s.run({
      sample: f32(io, 'unet.sample'),
      timestep: f32(io, 'unet.timestep'),
      encoder_hidden_states: f32(io, 'unet.encoder_hidden_states'),
      text_embeds: f32(io, 'unet.text_embeds'),
      time_ids: new ort.Tensor('float32', swapped, [2, 6]),
    });
    expect(normRelativeError(output(out, 'out_sample'), io.floats('unet.out_sample'))).toBeGreaterThan(1e-2);
  });
});

describe('SDXL UNet config', () => {
  const config = readJson<Record<string, unknown>>(`${SDXL_DIR}sdxl/unet/config.json`);

  it('reads text_time and the per-block transformer depth', () => {
    const c = readUnetConfig('unet/config.json', config);
    expect(c.textTime).toEqual({ timeEmbedDim: 8, inputDim: 68 });
    expect(c.transformerLayers).toEqual([1, 2]);
  });

  it.each([
    [{ addition_embed_type: 'image' }, 'addition_embed_type = "image" is not supported'],
    [{ projection_class_embeddings_input_dim: 48 }, 'leaves no room for the pooled text beside 6 time ids'],
    [{ addition_time_embed_dim: 7 }, 'addition_time_embed_dim = 7 must be even'],
  ])('refuses %j by key and value', (change, message) => {
    expect(() => readUnetConfig('unet/config.json', { ...config, ...change })).toThrow(message);
  });
});
