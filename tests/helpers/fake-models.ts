/** Deterministic stand-ins for the ONNX models, recording how the pipeline calls them. */
import type { ModelInfo, Models } from '../../src/core/pipeline/models';
import { tensor, type Tensor } from '../../src/core/tensor';

export interface UnetCall {
  batch: number;
  t: number;
  text: Float32Array;
}

/** `yieldEachStep` makes each UNet call wait a macrotask, as a real model does, so messages interleave. */
export function fakeModels(info: Partial<ModelInfo> = {}, yieldEachStep = false): Models & { unetCalls: UnetCall[] } {
  const unetCalls: UnetCall[] = [];
  return {
    unetCalls,
    info: {
      vaeScalingFactor: 0.18215,
      latentChannels: 4,
      unetBatch: 'any',
      unetInChannels: 4,
      fixedLatentSize: null,
      ...info,
    },
    async tokenize(text) {
      const ids = new Int32Array(77).fill(49407);
      ids[0] = 49406;
      ids[1] = text.length;
      return { ids, used: 3, truncated: '' };
    },
    async encodeText(ids) {
      // The "embedding" is the prompt length, so the halves are told apart.
      return tensor(new Float32Array(77 * 4).fill(ids[1]!), [1, 77, 4]);
    },
    async unet(sample: Tensor, t: number, text: Tensor) {
      if (yieldEachStep) await new Promise((resolve) => setTimeout(resolve, 0));
      const batch = sample.dims[0]!;
      unetCalls.push({ batch, t, text: text.data });
      const per = sample.data.length / batch;
      const out = new Float32Array(sample.data.length);
      for (let b = 0; b < batch; b++) {
        const cond = text.data[b * (text.data.length / batch)]!;
        for (let i = 0; i < per; i++) out[b * per + i] = 0.1 * sample.data[b * per + i]! + 0.01 * cond;
      }
      return tensor(out, sample.dims);
    },
    async decode(latents: Tensor) {
      const [, , h, w] = latents.dims as [number, number, number, number];
      const out = new Float32Array(3 * h * 8 * w * 8);
      for (let i = 0; i < out.length; i++) out[i] = Math.tanh(latents.data[i % latents.data.length]!);
      return tensor(out, [1, 3, h * 8, w * 8]);
    },
  };
}
