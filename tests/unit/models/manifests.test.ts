import { readFixtureJson } from '../../helpers/fixtures';
import type { LoadPlan } from '../../../src/protocol/load-plan';
import { describe, expect, it } from 'vitest';
import type { InferenceSession } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import { manifestFromModelIndex } from '../../../src/models/model-index';
import { parseModelInput } from '../../../src/models/model-input';
import { planLoad } from '../../../src/models/plan-load';
import { hubFileUrl } from '../../../src/models/urls';
import { HUB_CHECKPOINTS } from '../../../src/models/hub-catalog';
import { parseHubListing, withListing } from '../../../src/models/hub-listing';
import { DEFAULT_MODEL, findModel, modelForMode, SHAPES_DEPTH_MODEL } from '../../../src/models/catalog';
import { createOnnxModels } from '../../../src/worker/runtime/onnx-models';
import { timestepTensor } from '../../../src/worker/runtime/ort-io';
import { tensor } from '../../../src/core/math/tensor';
import { float16ToFloat32 } from '../../../src/core/math/float16';

const SD15_INDEX = {
  _class_name: 'OnnxStableDiffusionPipeline',
  _diffusers_version: '0.31.0',
  feature_extractor: ['transformers', 'CLIPImageProcessor'],
  safety_checker: [null, null],
  scheduler: ['diffusers', 'PNDMScheduler'],
  text_encoder: ['diffusers', 'OnnxRuntimeModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'OnnxRuntimeModel'],
  vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
  vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
};

function onnxParts(plan: LoadPlan) {
  if (plan.components.format !== 'onnx') throw new Error('an ONNX plan was expected');
  return plan.components;
}

describe('model manifests', () => {
  it("reads a diffusers checkpoint's model_index.json: config.json + safetensors per component", () => {
    const index = readFixtureJson<Record<string, unknown>>('networks/sd2-depth/model_index.json');
    const source = parseModelInput('http://127.0.0.1:4181/sd2-depth');
    const m = manifestFromModelIndex('url:x', source, index);
    expect([m.kind, m.modes]).toEqual(['depth', ['depth2img']]);
    expect(m.components).toEqual({
      format: 'safetensors',
      textEncoder: {
        config: 'text_encoder/config.json',
        weights: ['text_encoder/model.safetensors', 'text_encoder/model.fp16.safetensors'],
      },
      unet: {
        config: 'unet/config.json',
        weights: ['unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.fp16.safetensors'],
      },
      vae: {
        config: 'vae/config.json',
        weights: ['vae/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.fp16.safetensors'],
      },
    });
    // The repo has vocab.json + merges.txt only: the bundled CLIP tokenizer.json, its own padding config.
    expect(m.tokenizer).toEqual({ dir: 'tokenizer/', hasTokenizerJson: false });
    const plan = planLoad(m, 'https://huggingface.co', 'http://127.0.0.1:4173');
    expect(plan.components.format === 'safetensors' && plan.components.unet.weights[1]!.url).toBe(
      'http://127.0.0.1:4181/sd2-depth/unet/diffusion_pytorch_model.fp16.safetensors',
    );
    const lcm = manifestFromModelIndex('a', source, readFixtureJson('networks/lcm/model_index.json'));
    expect([lcm.kind, lcm.defaults.steps, lcm.defaults.guidanceScale]).toEqual(['txt2img', 4, 8]);
    expect(manifestFromModelIndex('a', source, readFixtureJson('networks/sd1/model_index.json')).modes).toEqual([
      'txt2img',
      'img2img',
      'inpaint',
      'compare',
      'explore',
    ]);
  });

  it("reads an SDXL repo's model_index.json: both text encoders and tokenizers, force_zeros_for_empty_prompt", () => {
    const source = { kind: 'url' as const, baseUrl: 'http://127.0.0.1:4181/sdxl' };
    const m = manifestFromModelIndex('a', source, readFixtureJson('sdxl/sdxl/model_index.json'));
    expect(m.components.format === 'safetensors' && m.components.textEncoder2).toEqual({
      config: 'text_encoder_2/config.json',
      weights: ['text_encoder_2/model.safetensors', 'text_encoder_2/model.fp16.safetensors'],
    });
    expect([m.tokenizer2, m.zerosForEmptyNegative, m.nativeSize, m.defaults.guidanceScale]).toEqual([
      { dir: 'tokenizer_2/' },
      true,
      1024,
      5,
    ]);
    expect(m.modes).toEqual(['txt2img', 'img2img', 'inpaint', 'compare', 'explore']);
    const plan = planLoad(m, 'http://127.0.0.1:9/', 'http://127.0.0.1:4173');
    expect(plan.secondTokenizer?.tokenizerConfig.url).toBe(
      'http://127.0.0.1:4181/sdxl/tokenizer_2/tokenizer_config.json',
    );
    expect(plan.zerosForEmptyNegative).toBe(true);
    const inpaint = manifestFromModelIndex('a', source, readFixtureJson('sdxl/sdxl-inpaint/model_index.json'));
    expect([inpaint.kind, inpaint.modes]).toEqual(['inpaint', ['inpaint']]);
  });

  it('refuses the SDXL refiner, SDXL ONNX exports, SD 3 and Flux with what they are', () => {
    const xl = readFixtureJson<Record<string, unknown>>('sdxl/sdxl/model_index.json');
    const refiner = { ...xl, _class_name: 'StableDiffusionXLImg2ImgPipeline', text_encoder: [null, null] };
    const input = parseModelInput('a/b');
    expect(() => manifestFromModelIndex('a', input, refiner)).toThrow('This repo is the SDXL refiner');
    const aesthetic = { ...xl, _class_name: 'StableDiffusionXLImg2ImgPipeline', requires_aesthetics_score: true };
    expect(() => manifestFromModelIndex('a', input, aesthetic)).toThrow('This repo is the SDXL refiner');
    const onnx = { ...xl, vae: [null, null], vae_decoder: ['onnx', 'folder'] };
    expect(() => manifestFromModelIndex('a', input, onnx)).toThrow('is an ONNX export of StableDiffusionXLPipeline');
    const sd3 = { ...xl, _class_name: 'StableDiffusion3Pipeline', text_encoder_3: ['transformers', 'T5EncoderModel'] };
    expect(() => manifestFromModelIndex('a', input, sd3)).toThrow(
      'This repo is a StableDiffusion3Pipeline (SD 3, Flux or another family with more text encoders)',
    );
  });

  it("reads a diffusers ONNX repo's model_index.json into the standard layout", () => {
    const source = parseModelInput('someone/sd15-onnx@fp16');
    expect(source).toEqual({ kind: 'hub', repo: 'someone/sd15-onnx', revision: 'fp16' });
    const m = manifestFromModelIndex('hub:someone/sd15-onnx@fp16', source, SD15_INDEX);
    expect(m.components).toEqual({
      format: 'onnx',
      textEncoder: { path: 'text_encoder/model.onnx' },
      unet: { path: 'unet/model.onnx' },
      vaeDecoder: { path: 'vae_decoder/model.onnx' },
      vaeEncoder: { path: 'vae_encoder/model.onnx' },
    });
    expect(m.modes).toEqual(['txt2img', 'img2img', 'inpaint', 'compare', 'explore']);
    expect(m.verified).toBe(false);
    const plan = planLoad(m, 'http://127.0.0.1:9/', 'http://127.0.0.1:4173');
    expect(onnxParts(plan).unet.url).toBe('http://127.0.0.1:9/someone/sd15-onnx/resolve/fp16/unet/model.onnx');
    expect(plan.cache).toBe(true);
    expect(plan.scheduler).toEqual({
      url: 'http://127.0.0.1:9/someone/sd15-onnx/resolve/fp16/scheduler/scheduler_config.json',
      path: 'scheduler/scheduler_config.json',
    });
  });

  it('tells inpainting and depth pipelines apart, and drops image modes without a VAE encoder', () => {
    const inpaint = manifestFromModelIndex('a', parseModelInput('a/b'), {
      ...SD15_INDEX,
      _class_name: 'OnnxStableDiffusionInpaintPipeline',
    });
    expect([inpaint.kind, inpaint.modes]).toEqual(['inpaint', ['inpaint']]);
    const noEncoder = manifestFromModelIndex('a', parseModelInput('a/b'), { ...SD15_INDEX, vae_encoder: [null, null] });
    expect(noEncoder.modes).toEqual(['txt2img', 'compare', 'explore']);
    expect(noEncoder.components).not.toHaveProperty('vaeEncoder');
  });

  it('rejects what is not an SD export, and input that is neither a repo id nor a URL', () => {
    expect(() =>
      manifestFromModelIndex('a', parseModelInput('a/b'), { _class_name: 'FluxPipeline', transformer: ['x', 'y'] }),
    ).toThrow(/This repo is a FluxPipeline .* which this app does not run/);
    expect(() =>
      manifestFromModelIndex('a', parseModelInput('a/b'), { _class_name: 'KandinskyPipeline', unet: ['x', 'y'] }),
    ).toThrow(/has no text_encoder/);
    expect(() => parseModelInput('not a repo')).toThrow(/owner\/name/);
    expect(parseModelInput('https://example.org/models/sd')).toEqual({
      kind: 'url',
      baseUrl: 'https://example.org/models/sd/',
    });
    expect(hubFileUrl('https://huggingface.co/', 'o/n', 'main', 'unet/model.onnx')).toBe(
      'https://huggingface.co/o/n/resolve/main/unet/model.onnx',
    );
  });
});

/** A stand-in session with the given input metadata that records its feeds. */
function fakeSession(
  inputs: { name: string; type: string; shape: (number | string)[] }[],
  outputs: Record<string, { type: string; dims: number[] }>,
): InferenceSession & { feeds: Record<string, ort.Tensor>[] } {
  const feeds: Record<string, ort.Tensor>[] = [];
  return {
    feeds,
    inputNames: inputs.map((i) => i.name),
    outputNames: Object.keys(outputs),
    inputMetadata: inputs.map((i) => ({ ...i, isTensor: true })),
    async run(feed: Record<string, ort.Tensor>) {
      feeds.push(feed);
      const out: Record<string, ort.Tensor> = {};
      for (const [name, o] of Object.entries(outputs)) {
        const n = o.dims.reduce((a, b) => a * b, 1);
        out[name] =
          o.type === 'float16'
            ? new ort.Tensor('float16', new Uint16Array(n).fill(0x3c00), o.dims) // 1.0
            : new ort.Tensor('float32', new Float32Array(n).fill(0.5), o.dims);
      }
      return out;
    },
  } as unknown as InferenceSession & { feeds: Record<string, ort.Tensor>[] };
}

describe('where a model loads from, and which model a mode switches to', () => {
  it("lets a folder URL's files come from its own origin and the hub's, nowhere else", () => {
    const source = parseModelInput('http://127.0.0.1:4180/cdn/fixtures/sd1/');
    const manifest = manifestFromModelIndex('url:x', source, { ...SD15_INDEX });
    const plan = planLoad(manifest, 'https://huggingface.co', 'http://127.0.0.1:4173');
    expect(plan.hosts).toEqual([
      'https://huggingface.co',
      'https://*.huggingface.co',
      'https://*.hf.co',
      'http://127.0.0.1:4180',
    ]);
    const hub = manifestFromModelIndex('hub:x', parseModelInput('owner/name'), { ...SD15_INDEX });
    expect(planLoad(hub, 'https://mirror.example', 'http://127.0.0.1:4173').hosts).toEqual(['https://mirror.example']);
  });

  it('switches to the same family first: Shapes to its inpainting and depth UNets, tiny to tiny', () => {
    expect(modelForMode('shapes-sd', 'inpaint', [])?.id).toBe('shapes-sd-inpaint');
    expect(modelForMode('shapes-sd', 'depth2img', [])?.id).toBe('shapes-sd-depth');
    expect(modelForMode('shapes-sd-depth', 'txt2img', [])?.id).toBe('shapes-sd');
    expect(modelForMode('tiny-sd', 'depth2img', [])?.id).toBe('tiny-sd-depth');
    expect(modelForMode('tiny-sd-inpaint', 'compare', [])?.id).toBe('tiny-sd');
    expect(modelForMode('tiny-sd', 'inpaint', [])).toBeNull();
    expect(modelForMode('sd-turbo', 'inpaint', [])?.id).toBe('shapes-sd-inpaint');
    expect(DEFAULT_MODEL.id).toBe('shapes-sd');
  });

  it("points the Shapes variants at the base's shared text encoder, VAE, tokenizer and scheduler", () => {
    const plan = planLoad(SHAPES_DEPTH_MODEL, 'https://huggingface.co', 'http://127.0.0.1:4173');
    if (plan.components.format !== 'safetensors') throw new Error('a safetensors plan was expected');
    expect(plan.components.unet.weights[0]!.url).toBe(
      'http://127.0.0.1:4173/models/shapes-sd-depth/unet/diffusion_pytorch_model.safetensors',
    );
    expect(plan.components.textEncoder.weights[0]!.url).toBe(
      'http://127.0.0.1:4173/models/shapes-sd/text_encoder/model.safetensors',
    );
    expect(plan.components.vae.config.url).toBe('http://127.0.0.1:4173/models/shapes-sd/vae/config.json');
    expect(plan.tokenizerJson?.url).toBe('http://127.0.0.1:4173/models/shapes-sd/tokenizer/tokenizer.json');
  });
});

describe('I/O adapters read dtypes and shapes from session metadata', () => {
  const tokenize = async () => ({ ids: new Int32Array(77), used: 2, truncated: '' });

  it('feeds int64 ids, a float16 0-dim timestep and fp16 latents, and reads fp16 outputs', async () => {
    const textEncoder = fakeSession([{ name: 'input_ids', type: 'int64', shape: [1, 77] }], {
      last_hidden_state: { type: 'float16', dims: [1, 77, 4] },
    });
    const unet = fakeSession(
      [
        { name: 'sample', type: 'float16', shape: [2, 4, 64, 64] },
        { name: 'timestep', type: 'float16', shape: [] },
        { name: 'encoder_hidden_states', type: 'float16', shape: [2, 77, 4] },
      ],
      { out_sample: { type: 'float16', dims: [2, 4, 64, 64] } },
    );
    const vaeDecoder = fakeSession([{ name: 'latent_sample', type: 'float16', shape: ['b', 4, 'h', 'w'] }], {
      sample: { type: 'float16', dims: [1, 3, 16, 16] },
    });
    const models = createOnnxModels(ort, { textEncoder, unet, vaeDecoder }, { tokenize });
    expect(models.info).toMatchObject({ unetBatch: 2, unetInChannels: 4, fixedLatentSize: { height: 64, width: 64 } });
    const text = await models.encodeText(new Int32Array(77).fill(7));
    expect(textEncoder.feeds[0]!['input_ids']!.type).toBe('int64');
    expect(text.hidden.data[0]).toBe(1);
    await models.unet(
      tensor(new Float32Array(2 * 4 * 64 * 64), [2, 4, 64, 64]),
      999,
      tensor(new Float32Array(2 * 77 * 4), [2, 77, 4]),
    );
    const t = unet.feeds[0]!['timestep']!;
    expect([t.type, t.dims]).toEqual(['float16', []]);
    expect(float16ToFloat32(t.data as Uint16Array)[0]).toBe(999);
    expect(unet.feeds[0]!['sample']!.type).toBe('float16');
  });

  it('feeds int32 ids and an int64 timestep per batch item, as the SD 1.5 WebNN export wants', () => {
    expect(timestepTensor(ort, { name: 'timestep', type: 'int64', shape: [2] }, 981).data).toEqual(
      BigInt64Array.of(981n, 981n),
    );
    expect(timestepTensor(ort, { name: 'timestep', type: 'int64', shape: ['steps'] }, 1).dims).toEqual([1]);
    expect(timestepTensor(ort, { name: 'timestep', type: 'float32', shape: [1] }, 500.5).data).toEqual(
      Float32Array.of(500.5),
    );
    expect(() => timestepTensor(ort, { name: 'timestep', type: 'string', shape: [1] }, 1)).toThrow(/cannot feed/);
  });

  it('names the missing input when an export does not have it', () => {
    const bad = fakeSession([{ name: 'ids', type: 'int32', shape: [1, 77] }], {
      last_hidden_state: { type: 'float32', dims: [1, 77, 4] },
    });
    const unet = fakeSession([{ name: 'sample', type: 'float32', shape: [1, 4, 8, 8] }], {
      out_sample: { type: 'float32', dims: [1, 4, 8, 8] },
    });
    expect(() => createOnnxModels(ort, { textEncoder: bad, unet, vaeDecoder: unet }, { tokenize })).toThrow(
      /text encoder model has no input named "input_ids" \(it has ids\)/,
    );
  });
});

describe('the SD-Turbo catalog entry', () => {
  it('runs one Euler step at t = 999, σ = 14.6146, as the onnxruntime-web demo does', async () => {
    const { SD_TURBO } = await import('../../../src/models/catalog');
    const { createScheduler } = await import('../../../src/core/schedulers');
    if (!('config' in SD_TURBO.scheduler)) throw new Error('SD-Turbo carries its scheduler config');
    const euler = createScheduler('euler', SD_TURBO.scheduler.config);
    euler.setTimesteps(1);
    expect(euler.timesteps).toEqual([999]);
    expect(euler.initNoiseSigma).toBeCloseTo(14.6146, 3);
    const plan = planLoad(SD_TURBO, 'https://huggingface.co', 'http://127.0.0.1');
    expect(onnxParts(plan).unet.url).toBe(
      'https://huggingface.co/schmuell/sd-turbo-ort-web/resolve/main/unet/model.onnx',
    );
    expect(plan.tokenizerJson).toBeUndefined();
    expect(plan.padToken).toBe('!');
  });
});

describe('the faster model suggested for capable GPUs', () => {
  it('suggests SD-Turbo only on a real GPU with shader-f16', async () => {
    const { suggestedModel } = await import('../../../src/models/suggest');
    const gpu = {
      vendor: 'acme',
      architecture: 'x',
      description: '',
      shaderF16: true,
      software: false,
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 30,
    };
    expect(suggestedModel(gpu)?.id).toBe('sd-turbo');
    expect(suggestedModel({ ...gpu, shaderF16: false })).toBeNull();
    expect(suggestedModel({ ...gpu, software: true })).toBeNull();
    expect(suggestedModel(null)).toBeNull();
  });
});

describe('the catalog of hub checkpoints', () => {
  const byRepo = new Map(HUB_CHECKPOINTS.map((m) => [m.source.kind === 'hub' ? m.source.repo : '', m]));

  it('has the official checkpoints, each with a licence, kind, modes, native size and defaults', () => {
    expect([...byRepo.keys()]).toEqual([
      'stable-diffusion-v1-5/stable-diffusion-v1-5',
      'stable-diffusion-v1-5/stable-diffusion-inpainting',
      'stabilityai/stable-diffusion-2-depth',
      'stabilityai/stable-diffusion-2-1-base',
      'stabilityai/sd-turbo',
      'stabilityai/stable-diffusion-xl-base-1.0',
      'diffusers/stable-diffusion-xl-1.0-inpainting-0.1',
      'stabilityai/sdxl-turbo',
      'SimianLuo/LCM_Dreamshaper_v7',
      'nota-ai/bk-sdm-tiny',
    ]);
    for (const m of HUB_CHECKPOINTS) {
      expect(m.licence.length, m.id).toBeGreaterThan(5);
      expect(m.components.format, m.id).toBe('safetensors');
      const sdxl = m.components.format === 'safetensors' && m.components.textEncoder2 !== undefined;
      expect(m.nativeSize, m.id).toBe(sdxl && m.kind !== 'turbo' ? 1024 : 512);
      if (sdxl) expect([m.tokenizer2, m.zerosForEmptyNegative], m.id).toEqual([{ dir: 'tokenizer_2/' }, true]);
      expect(m.verifiedBy, m.id).toMatch(/hub's listing/);
      expect(findModel(m.id, []), m.id).toBe(m);
    }
    expect(byRepo.get('stabilityai/sd-turbo')!.defaults).toMatchObject({ steps: 1, guidanceScale: 0 });
    expect(byRepo.get('stabilityai/sdxl-turbo')!.defaults).toMatchObject({ steps: 1, guidanceScale: 0 });
    expect(byRepo.get('stabilityai/stable-diffusion-xl-base-1.0')!.defaults).toMatchObject({ guidanceScale: 5 });
    expect(byRepo.get('SimianLuo/LCM_Dreamshaper_v7')!.defaults).toMatchObject({ steps: 4 });
    expect(byRepo.get('stabilityai/stable-diffusion-2-depth')!.depthEstimator).toEqual({
      kind: 'hub',
      modelId: 'Xenova/dpt-hybrid-midas',
      revision: 'main',
    });
  });

  it('sends each mode to the right model: inpainting and depth from SD 1.5 to their own models', () => {
    expect(modelForMode('sd15', 'inpaint', [])?.id).toBe('sd15-inpaint');
    expect(modelForMode('sd15', 'depth2img', [])?.id).toBe('sd2-depth');
    expect(modelForMode('sd21-base', 'depth2img', [])?.id).toBe('sd2-depth');
    expect(modelForMode('sd15-inpaint', 'txt2img', [])?.id).toBe('sd15');
    expect(modelForMode('sd15', 'compare', [])).toBeNull();
    expect(modelForMode('sdxl-base', 'inpaint', [])?.id).toBe('sdxl-inpaint');
    expect(modelForMode('sdxl-inpaint', 'txt2img', [])?.id).toBe('sdxl-base');
  });

  it('takes its files from the listing: the fp16 variant, shards, or float32 converted, sizes attached, pinned', () => {
    const sd15 = byRepo.get('stable-diffusion-v1-5/stable-diffusion-v1-5')!;
    const sha = 'a'.repeat(40);
    const files = (names: [string, number][]) => ({ sha, files: new Map(names.map(([n, size]) => [n, { size }])) });
    const listed = withListing(
      sd15,
      files([
        ['text_encoder/model.fp16.safetensors', 246e6],
        ['text_encoder/model.safetensors', 492e6],
        ['unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors', 1e9],
        ['unet/diffusion_pytorch_model.fp16-00002-of-00002.safetensors', 0.72e9],
        ['vae/diffusion_pytorch_model.safetensors', 334e6],
      ]),
    );
    const plan = planLoad(listed, 'https://hub.example', 'https://app.example');
    if (plan.components.format !== 'safetensors') throw new Error('safetensors expected');
    expect(plan.components.textEncoder.weights.map((w) => [w.path, w.size])).toEqual([
      ['text_encoder/model.fp16.safetensors', 246e6],
    ]);
    expect(plan.components.unet.shards?.map((w) => w.path)).toEqual([
      'unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors',
      'unet/diffusion_pytorch_model.fp16-00002-of-00002.safetensors',
    ]);
    expect(plan.components.vae.weights[0]).toMatchObject({ convert: 'fp16', size: 334e6 });
    expect(plan.components.vae.weights[0]!.url).toContain(`/resolve/${sha}/`);
    expect(listed.approxBytes).toBe(246e6 + 1.72e9 + 167e6);
    expect(listed.description).toMatch(/converted to fp16 as they download/);
    expect(() =>
      withListing(
        sd15,
        files([
          ['text_encoder/model.safetensors', 1],
          ['unet/diffusion_pytorch_model.fp16-00001-of-00002.safetensors', 1],
        ]),
      ),
    ).toThrow(/only 1 of the 2 shards/);
    expect(() => withListing(sd15, files([]))).toThrow(
      /has no text_encoder\/model\.fp16\.safetensors or text_encoder\/model\.safetensors/,
    );
  });

  it('reads the hub API’s answer, leaving out what is not well formed', () => {
    const listing = parseHubListing({
      sha: 'b'.repeat(40),
      siblings: [
        {
          rfilename: 'unet/diffusion_pytorch_model.fp16.safetensors',
          size: 10,
          lfs: { sha256: 'c'.repeat(64), size: 10 },
        },
        { rfilename: 'model_index.json', size: 5 },
        { rfilename: 7 },
        { rfilename: 'x.bin', size: -1, lfs: { sha256: 'not a hash' } },
      ],
    });
    expect(listing.sha).toBe('b'.repeat(40));
    expect([...listing.files.entries()]).toEqual([
      ['unet/diffusion_pytorch_model.fp16.safetensors', { size: 10, sha256: 'c'.repeat(64) }],
      ['model_index.json', { size: 5 }],
      ['x.bin', {}],
    ]);
    expect(() => parseHubListing({ error: 'Repository not found' })).toThrow(/has no siblings/);
  });
});
