/**
 * A float16 overflow never becomes a black image without explanation: NaN latents and NaN pixels
 * give messages that name the cause, and a float16 VAE decoder or encoder that overflows is run
 * again in float32 where the model has that cure (diffusers' force_upcast).
 */
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { NumericalError } from '../../../../src/core/errors';
import { decodeStep } from '../../../../src/core/pipeline/decode';
import { encodeImageLatents } from '../../../../src/core/pipeline/image-latents';
import { TorchGenerator } from '../../../../src/core/math/random';
import { tensor } from '../../../../src/core/math/tensor';
import { createOnnxModels, type OnnxModelSet, type VaePart } from '../../../../src/worker/runtime/onnx-models';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { fakeModels } from '../../../helpers/fake-models';
import { NETWORKS_DIR } from '../../../helpers/fixtures';

const latents = (value: number) => tensor(new Float32Array(4 * 8 * 12).fill(value), [1, 4, 8, 12]);
const picture = { width: 96, height: 64, data: new Float32Array(3 * 64 * 96).fill(0.2) };
const options = {
  tokenize: () => ({ ids: new Int32Array(77), used: 2, truncated: '' }),
  unetPrecision: 'float16' as const,
};

/** A session whose every output is NaN: what a float16 overflow gives. */
function nanSession(like: InferenceSession): InferenceSession {
  return new Proxy(like, {
    get(target, key, receiver) {
      if (key !== 'run') return Reflect.get(target, key, receiver) as unknown;
      return async (feeds: InferenceSession.FeedsType) => {
        const out = await target.run(feeds);
        const [name, value] = Object.entries(out)[0]!;
        return { [name]: new ort.Tensor('float32', new Float32Array(value.size).fill(Number.NaN), value.dims) };
      };
    },
  });
}

/** sd1's sessions with both VAE sessions overflowing, and a float32 build that counts its uses. */
async function overflowingVae(): Promise<{
  broken: OnnxModelSet;
  float32Vae: (part: VaePart) => Promise<InferenceSession>;
  made: VaePart[];
}> {
  const { models } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
  const good = models.sessions;
  const broken = { ...good, vaeDecoder: nanSession(good.vaeDecoder), vaeEncoder: nanSession(good.vaeEncoder!) };
  const made: VaePart[] = [];
  const float32Vae = (part: VaePart) => {
    made.push(part);
    return Promise.resolve(part === 'vae_decoder' ? good.vaeDecoder : good.vaeEncoder!);
  };
  return { broken, float32Vae, made };
}

describe('numerical failures in float16', () => {
  it('NaN latents from a float16 UNet say so and name the cure', async () => {
    const models = fakeModels({ unetPrecision: 'float16' });
    const failed = decodeStep(models, latents(Number.NaN), { schedulerConfig: {} }, 1);
    await expect(failed).rejects.toThrow(NumericalError);
    await expect(failed).rejects.toThrow(/float16 .*choose WASM as the backend/);
  });

  it('a VAE decode that overflows is decoded again in float32 where the model allows it', async () => {
    const { broken, float32Vae, made } = await overflowingVae();
    const cured = createOnnxModels(ort, broken, { ...options, float32Vae });
    const first = await decodeStep(cured, latents(0.1), { schedulerConfig: {} }, 1);
    const second = await decodeStep(cured, latents(0.1), { schedulerConfig: {} }, 1);
    expect(made).toEqual(['vae_decoder']);
    expect(first.image.pixels).toEqual(second.image.pixels);
    expect(first.image.pixels.some((v) => v > 0)).toBe(true);

    const uncured = createOnnxModels(ort, broken, options);
    await expect(decodeStep(uncured, latents(0.1), { schedulerConfig: {} }, 1)).rejects.toThrow(
      /VAE decoder produced NaN/,
    );
  });

  it('a VAE encode that overflows is encoded again in float32, or named', async () => {
    const { broken, float32Vae, made } = await overflowingVae();
    const cured = createOnnxModels(ort, broken, { ...options, float32Vae });
    const { latents: encoded } = await encodeImageLatents(cured, picture, new TorchGenerator(1n));
    expect(made).toEqual(['vae_encoder']);
    expect(encoded.every((v) => Number.isFinite(v))).toBe(true);

    const uncured = createOnnxModels(ort, broken, options);
    await expect(encodeImageLatents(uncured, picture, new TorchGenerator(1n))).rejects.toThrow(
      /VAE encoder produced NaN/,
    );
  });
});
