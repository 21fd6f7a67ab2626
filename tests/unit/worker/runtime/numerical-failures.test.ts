/**
 * A float16 overflow never becomes a black image without explanation: NaN latents and NaN pixels
 * give messages that name the cause, and a float16 VAE decode that overflows is done again in
 * float32 where the model has that cure (diffusers' force_upcast).
 */
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { NumericalError } from '../../../../src/core/errors';
import { decodeStep } from '../../../../src/core/pipeline/decode';
import { tensor } from '../../../../src/core/math/tensor';
import { createOnnxModels } from '../../../../src/worker/runtime/onnx-models';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { fakeModels } from '../../../helpers/fake-models';
import { NETWORKS_DIR } from '../../../helpers/fixtures';

const latents = (value: number) => tensor(new Float32Array(4 * 8 * 12).fill(value), [1, 4, 8, 12]);

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

describe('numerical failures in float16', () => {
  it('NaN latents from a float16 UNet say so and name the cure', async () => {
    const models = fakeModels({ unetPrecision: 'float16' });
    const failed = decodeStep(models, latents(Number.NaN), { schedulerConfig: {} }, 1);
    await expect(failed).rejects.toThrow(NumericalError);
    await expect(failed).rejects.toThrow(/float16 .*choose WASM as the backend/);
  });

  it('a VAE decode that overflows is decoded again in float32 where the model allows it', async () => {
    const { models } = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const sessions = (models as unknown as { sessions: Parameters<typeof createOnnxModels>[1] }).sessions;
    const broken = { ...sessions, vaeDecoder: nanSession(sessions.vaeDecoder) };
    const options = {
      tokenize: () => ({ ids: new Int32Array(77), used: 2, truncated: '' }),
      unetPrecision: 'float16' as const,
    };
    let made = 0;
    const cured = createOnnxModels(ort, broken, {
      ...options,
      float32Decoder: () => {
        made++;
        return Promise.resolve(sessions.vaeDecoder);
      },
    });
    const first = await decodeStep(cured, latents(0.1), { schedulerConfig: {} }, 1);
    const second = await decodeStep(cured, latents(0.1), { schedulerConfig: {} }, 1);
    expect(made).toBe(1);
    expect(first.image.pixels).toEqual(second.image.pixels);
    expect(first.image.pixels.some((v) => v > 0)).toBe(true);

    const uncured = createOnnxModels(ort, broken, options);
    await expect(decodeStep(uncured, latents(0.1), { schedulerConfig: {} }, 1)).rejects.toThrow(
      /VAE decoder produced NaN/,
    );
  });
});
