/** What will not fit is refused from the plan's sizes before anything downloads, with the reason. */
import { describe, expect, it } from 'vitest';
import { checkFit } from '../../../../src/worker/loading/fit';
import type { CheckpointPartRef, LoadPlan } from '../../../../src/protocol/load-plan';
import type { AdapterInfo } from '../../../../src/protocol/messages';

const part = (path: string, size: number): CheckpointPartRef => ({
  config: { url: `https://h/${path}/config.json`, path: `${path}/config.json` },
  weights: [{ url: `https://h/${path}/w.fp16.safetensors`, path: `${path}/w.fp16.safetensors`, size }],
});

/** SDXL base 1.0's fp16 files, about their hub sizes. */
const SDXL: LoadPlan = {
  modelId: 'sdxl',
  name: 'SDXL base',
  cache: true,
  components: {
    format: 'safetensors',
    textEncoder: part('text_encoder', 2.46e8),
    textEncoder2: part('text_encoder_2', 1.39e9),
    unet: part('unet', 5.14e9),
    vae: part('vae', 1.67e8),
  },
  scheduler: { config: {} },
  tokenizerConfig: { url: 'https://h/t', path: 't' },
  specialTokensMap: { url: 'https://h/s', path: 's' },
  dtype: 'fp16',
};

const gpu = (shaderF16: boolean): AdapterInfo => ({
  vendor: 'v',
  architecture: 'a',
  description: '',
  shaderF16,
  software: false,
  maxBufferSize: 2 ** 32,
  maxStorageBufferBindingSize: 2 ** 31,
});

describe('checkFit', () => {
  it('SDXL on WASM: refused, its float32 size and what would run it in words', () => {
    expect(() => checkFit(SDXL, 'wasm', null)).toThrow(
      /SDXL base is an SDXL model: its weights are about 12\.9 GiB in float32.*WebGPU on a GPU with shader-f16, where its weights are about 6\.5 GiB/,
    );
  });

  it('SDXL on a GPU without shader-f16: refused; with shader-f16 it fits, its 5.1 GB UNet file arriving in parts', () => {
    expect(() => checkFit(SDXL, 'webgpu', gpu(false))).toThrow(
      /has no shader-f16: its weights would compute in float32/,
    );
    expect(() => checkFit(SDXL, 'webgpu', gpu(true))).not.toThrow();
  });

  it('an ONNX file past one buffer is still refused (the runtime takes it whole)', () => {
    const onnx: LoadPlan = {
      ...SDXL,
      dtype: 'fp32',
      components: {
        format: 'onnx',
        textEncoder: { url: 'https://h/t.onnx', path: 'text_encoder/model.onnx', size: 1e8 },
        unet: { url: 'https://h/u.onnx', path: 'unet/model.onnx', size: 3e9 },
        vaeDecoder: { url: 'https://h/v.onnx', path: 'vae_decoder/model.onnx', size: 1e8 },
      },
    };
    expect(() => checkFit(onnx, 'webgpu', gpu(true))).toThrow(/unet\/model\.onnx is 2\.79 GiB, more than the ~2 GiB/);
  });

  it('the tiny reference SDXL fits on WASM', () => {
    const tiny: LoadPlan = {
      ...SDXL,
      components: {
        format: 'safetensors',
        textEncoder: part('text_encoder', 2.3e6),
        textEncoder2: part('text_encoder_2', 3.5e6),
        unet: part('unet', 6e6),
        vae: part('vae', 8e5),
      },
    };
    expect(() => checkFit(tiny, 'wasm', null)).not.toThrow();
  });
});
