/**
 * An ONNX inpainting UNet's 9-channel input Conv rewritten to 12 channels (see
 * src/core/onnx-conv-pad.ts): the same outputs on onnxruntime's CPU backend, for the built-in tiny
 * export and for an export-style UNet of the reference inpainting checkpoint with external weights.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { padInputConv } from '../../../../src/core/onnx/conv-pad';
import { parseSafetensors } from '../../../../src/core/formats/safetensors';
import { unetGraph } from '../../../../src/core/networks';
import { NETWORKS_DIR } from '../../../helpers/fixtures';
import { MODELS_DIR, readJson } from '../../../helpers/node-models';
import { normRelativeError } from '../../../helpers/goldens';
import { TEXT_HIDDEN } from '../../../../scripts/tiny-models/sd-components';

/** Deterministic inputs in [-1, 1). */
const noise = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 31 - 1);
};

async function run(
  model: Uint8Array,
  external: { path: string; data: Uint8Array }[],
  feeds: Record<string, ort.Tensor>,
) {
  const session = await ort.InferenceSession.create(model, external.length ? { externalData: external } : {});
  const out = await session.run(feeds);
  await session.release();
  return out[session.outputNames[0]!]!.data as Float32Array;
}

describe('the 9-channel input Conv of an ONNX inpainting UNet, padded to 12', () => {
  it('the built-in tiny inpainting export: the same outputs', async () => {
    const model = new Uint8Array(readFileSync(`${MODELS_DIR}tiny-sd-inpaint/unet/model.onnx`));
    const padded = padInputConv(model, () => undefined);
    expect(padded?.changed).toMatch(/: 9 → 12 input channels$/);
    const session = await ort.InferenceSession.create(model);
    const meta = session.inputNames;
    await session.release();
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of meta) {
      if (name === 'sample') feeds[name] = new ort.Tensor('float32', noise(2 * 9 * 8 * 12, 1), [2, 9, 8, 12]);
      else if (name === 'timestep') feeds[name] = new ort.Tensor('int64', BigInt64Array.from([500n, 500n]), [2]);
      else feeds[name] = new ort.Tensor('float32', noise(2 * 77 * TEXT_HIDDEN, 2), [2, 77, TEXT_HIDDEN]);
    }
    const [a, b] = [await run(model, [], feeds), await run(padded!.model, [], feeds)];
    expect(normRelativeError(b, a)).toBeLessThan(1e-6);
  });

  it('an export-style UNet of the sd1-inpaint checkpoint, weights in weights.pb: the same outputs', async () => {
    const file = `${NETWORKS_DIR}sd1-inpaint/unet/diffusion_pytorch_model.safetensors`;
    const bytes = new Uint8Array(readFileSync(file));
    const { model } = unetGraph(
      {
        configPath: 'unet/config.json',
        config: readJson(`${NETWORKS_DIR}sd1-inpaint/unet/config.json`),
        files: [{ header: parseSafetensors('weights.pb', bytes), location: 'weights.pb' }],
      },
      { padInputChannels: false },
    );
    const external = [{ path: 'weights.pb', data: bytes }];
    expect(padInputConv(model, () => undefined)).toBeNull();
    const padded = padInputConv(model, (location) => (location === 'weights.pb' ? bytes : undefined));
    expect(padded?.changed).toMatch(/conv_in\.weight: 9 → 12 input channels/);
    const feeds = {
      sample: new ort.Tensor('float32', noise(2 * 9 * 8 * 12, 3), [2, 9, 8, 12]),
      timestep: new ort.Tensor('float32', Float32Array.from([999, 20]), [2]),
      encoder_hidden_states: new ort.Tensor('float32', noise(2 * 77 * 16, 4), [2, 77, 16]),
    };
    const [a, b] = [await run(model, external, feeds), await run(padded!.model, external, feeds)];
    expect(normRelativeError(b, a)).toBeLessThan(1e-6);
  });

  it('leaves a 4-channel UNet alone', () => {
    const model = new Uint8Array(readFileSync(`${MODELS_DIR}tiny-sd/unet/model.onnx`));
    expect(padInputConv(model, () => undefined)).toBeNull();
  });
});
