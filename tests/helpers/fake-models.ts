/** Deterministic stand-ins for the ONNX models, recording how the pipeline calls them. */
import type { ModelInfo, Models, UnetExtras } from '../../src/core/pipeline/models';
import { tensor, type Tensor } from '../../src/core/math/tensor';
import type { Capabilities } from '../../src/protocol/messages';
import type { LoadedModel } from '../../src/worker/loaded-model';

export interface UnetCall {
  batch: number;
  t: number;
  text: Float32Array;
  /** The whole `sample` input, conditioning channels included. */
  sample: Float32Array;
  channels: number;
  /** An LCM UNet's guidance embedding, when the pipeline passed one. */
  timestepCond?: Float32Array;
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
      guidanceEmbedDim: null,
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
      return { hidden: tensor(new Float32Array(77 * 4).fill(ids[1]!), [1, 77, 4]), pooled: null };
    },
    async unet(sample: Tensor, t: number, text: Tensor, extras: UnetExtras = {}) {
      const { timestepCond } = extras;
      if (yieldEachStep) await new Promise((resolve) => setTimeout(resolve, 0));
      const [batch, channels, h, w] = sample.dims as [number, number, number, number];
      unetCalls.push({
        batch,
        t,
        text: text.data,
        sample: sample.data.slice(),
        channels,
        ...(timestepCond ? { timestepCond: timestepCond.data } : {}),
      });
      // The prediction has the latent channels only, whatever conditioning rode along.
      const perIn = channels * h * w;
      const perOut = 4 * h * w;
      const out = new Float32Array(batch * perOut);
      for (let b = 0; b < batch; b++) {
        const cond = text.data[b * (text.data.length / batch)]!;
        for (let i = 0; i < perOut; i++) out[b * perOut + i] = 0.1 * sample.data[b * perIn + i]! + 0.01 * cond;
      }
      return tensor(out, [batch, 4, h, w]);
    },
    /** 8×8 average of each colour, the fourth channel their mean: enough to tell images apart. */
    async encode(image: Tensor) {
      const [, , H, W] = image.dims as [number, number, number, number];
      const h = H / 8;
      const w = W / 8;
      const out = new Float32Array(4 * h * w);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            let sum = 0;
            for (let dy = 0; dy < 8; dy++)
              for (let dx = 0; dx < 8; dx++) sum += image.data[c * H * W + (y * 8 + dy) * W + x * 8 + dx]!;
            out[c * h * w + y * w + x] = sum / 64;
            out[3 * h * w + y * w + x] = out[3 * h * w + y * w + x]! + sum / 64 / 3;
          }
        }
      }
      return tensor(out, [1, 4, h, w]);
    },
    async decode(latents: Tensor) {
      const [, , h, w] = latents.dims as [number, number, number, number];
      const out = new Float32Array(3 * h * 8 * w * 8);
      for (let i = 0; i < out.length; i++) out[i] = Math.tanh(latents.data[i % latents.data.length]!);
      return tensor(out, [1, 3, h * 8, w * 8]);
    },
  };
}

/** The fake models as the worker's handler holds a loaded model (PNDM, as the tiny exports have). */
export function fakeLoadedModel(info: Partial<ModelInfo> = {}, extra: Partial<LoadedModel> = {}): LoadedModel {
  const models = fakeModels(info, true);
  const schedulerConfig = { _class_name: 'PNDMScheduler', skip_prk_steps: true, steps_offset: 1 };
  return {
    models,
    schedulerConfig,
    result: {
      modelId: 'fake',
      backend: 'wasm',
      fallbackReason: null,
      adapter: null,
      defaultScheduler: 'pndm',
      schedulerConfig,
      info: models.info,
      precision: { textEncoder: 'float32', unet: 'float32', vae: 'float32' },
      loadMs: 0,
      bytes: 0,
      safetyChecker: extra.safety ? { source: extra.safety.source, required: extra.safety.required } : null,
    },
    ...extra,
  };
}

/** What a machine without WebGPU reports, as the fake worker's capabilities. */
export const NO_GPU: Capabilities = {
  webgpu: false,
  webgpuUnavailableReason: 'test',
  adapter: null,
  crossOriginIsolated: false,
  wasmThreads: 1,
};
