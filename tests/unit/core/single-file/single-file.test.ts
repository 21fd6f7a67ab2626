/**
 * Original single-file checkpoints (LDM key names, as A1111 and ComfyUI users have them): their
 * tensors under diffusers' names are byte for byte the diffusers folder's, what the file's shapes
 * say about the architecture is read right, and loaded with the folder's configs they make
 * diffusers' images.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from '../../../../src/core/formats/safetensors';
import { textEncoderGraph, unetGraph, vaeGraphs } from '../../../../src/core/networks';
import { mapSingleFile, type Component, type MappedTensor } from '../../../../src/core/single-file/keys';
import { describeSingleFile, familyMisfit, singleFileConfigs } from '../../../../src/core/single-file/layout';
import { readSingleFile } from '../../../../src/worker/loading/single-file';
import { readSingleFileHeader } from '../../../../src/core/single-file/header';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { FIXTURES_DIR, NETWORKS_DIR } from '../../../helpers/fixtures';
import { readJson } from '../../../helpers/node-models';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { encodeSafetensors } from '../../../../src/core/formats/safetensors';
import { manifestFromModelIndex } from '../../../../src/models/model-index';
import { planLoad } from '../../../../src/models/plan-load';
import { manifestFromSingleFile, type PredictionType } from '../../../../src/models/single-file';
import { goldenRequest, maxAbsDiff, meanAbsDiff, pipelineGoldens } from '../../../helpers/pipeline-goldens';

const FILES = [
  { name: 'sd1', file: 'model.safetensors', fp16: false },
  { name: 'sd1', file: 'model.fp16.safetensors', fp16: true },
  { name: 'sd2-depth', file: 'model.fp16.safetensors', fp16: true },
] as const;

const FOLDERS: Record<Exclude<Component, 'textEncoder2'>, [string, string]> = {
  unet: ['unet', 'diffusion_pytorch_model'],
  vae: ['vae', 'diffusion_pytorch_model'],
  textEncoder: ['text_encoder', 'model'],
};

const read = (path: string) => {
  const bytes = new Uint8Array(readFileSync(path));
  return { bytes, header: parseSafetensors(path.split('/').pop()!, bytes) };
};

describe.each(FILES)('$name/single-file/$file', ({ name, file, fp16 }) => {
  const dir = `${NETWORKS_DIR}${name}/`;
  const single = read(`${dir}single-file/${file}`);
  const mapped = mapSingleFile(single.header);

  it.each(Object.keys(FOLDERS) as (keyof typeof FOLDERS)[])(
    '%s: every tensor of the diffusers folder, byte for byte',
    (part) => {
      const [folder, stem] = FOLDERS[part];
      const diffusers = read(`${dir}${folder}/${stem}${fp16 ? '.fp16' : ''}.safetensors`);
      const byName = new Map(mapped[part].map((t) => [t.name, t]));
      const names = [...diffusers.header.tensors.keys()].filter((n) => !n.endsWith('position_ids'));
      expect(names.length).toBeGreaterThan(10);
      for (const n of names) {
        const want = diffusers.header.tensors.get(n)!;
        const got = byName.get(n);
        expect(got, n).toBeDefined();
        expect(got!.shape, n).toEqual(want.shape);
        expect(got!.dtype, n).toBe(want.dtype);
        const a = single.bytes.subarray(got!.begin, got!.end);
        const b = diffusers.bytes.subarray(want.begin, want.end);
        expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), n).toBe(0);
      }
      // Nothing extra: the file's own extras (OpenCLIP's last layer and image head) are left out.
      expect(mapped[part].length).toBe(names.length);
    },
  );

  it('is identified from its tensors: family, UNet kind and dtype', () => {
    const layout = describeSingleFile(single.header);
    expect(layout.family).toBe(name === 'sd1' ? 'sd1' : 'sd2');
    expect(layout.kind).toBe(name === 'sd1' ? 'txt2img' : 'depth');
    expect(layout.dtype).toBe(fp16 ? 'fp16' : 'fp32');
    expect(layout.padToken).toBe(name === 'sd1' ? '<|endoftext|>' : '!');
  });

  it('the configs its shapes determine are the folder’s; the head and group counts they cannot are refused', () => {
    const layout = describeSingleFile(single.header);
    const configs = singleFileConfigs(layout, mapped);
    const unet = readJson<Record<string, unknown>>(`${dir}unet/config.json`);
    const vae = readJson<Record<string, unknown>>(`${dir}vae/config.json`);
    const text = readJson<Record<string, unknown>>(`${dir}text_encoder/config.json`);
    const perBlock = (v: unknown, n: number): unknown[] =>
      Array.isArray(v) ? (v as unknown[]) : Array.from({ length: n }, () => v);
    const n = (unet['block_out_channels'] as number[]).length;
    for (const key of [
      'in_channels',
      'out_channels',
      'block_out_channels',
      'down_block_types',
      'up_block_types',
      'cross_attention_dim',
    ]) {
      expect(configs.unet[key], key).toEqual(unet[key]);
    }
    expect(configs.unet['layers_per_block']).toEqual(perBlock(unet['layers_per_block'], n));
    expect(configs.unet['use_linear_projection']).toBe(unet['use_linear_projection'] ?? false);
    for (const key of ['block_out_channels', 'layers_per_block', 'latent_channels', 'in_channels', 'out_channels']) {
      expect(configs.vae[key], key).toEqual(vae[key]);
    }
    for (const key of ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'hidden_act', 'vocab_size']) {
      expect(configs.textEncoder[key], key).toEqual(text[key]);
    }
    // These tiny networks have 8 VAE groups and 8–12 channels per text head: not SD's.
    expect(familyMisfit(file, layout, configs)).toMatch(/is not the size of SD [12]\.x .*Configs from/);
  });

  it.each(pipelineGoldens(name).map((g) => [g.run, g] as const))(
    'with its folder’s configs, %s is diffusers’ image',
    async (_run, golden) => {
      const { models, schedulerConfig } = await loadCheckpoint(dir, { fp16, singleFile: `${dir}single-file/${file}` });
      const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
      // The same bounds as the folder's own weights (checkpoint-pipelines.test.ts).
      expect(meanAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 0.25 : 0.05);
      expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(fp16 ? 2 : 1);
    },
  );
});

describe('files that are not SD 1.x/2.x/XL checkpoints say what they are', () => {
  const header = (names: string[]): SafetensorsHeader =>
    parseSafetensors(
      'x.safetensors',
      encodeSafetensors(names.map((n) => ({ name: n, dtype: 'F16', shape: [1], data: new Uint8Array(2) }))),
    );
  it.each([
    [
      [
        'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight',
        'model.diffusion_model.input_blocks.0.0.weight',
      ],
      /under conditioner\.embedders but not SDXL's two/,
    ],
    [
      [
        'conditioner.embedders.0.model.transformer.resblocks.0.ln_1.weight',
        'model.diffusion_model.input_blocks.0.0.weight',
      ],
      /is the SDXL refiner/,
    ],
    [['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight'], /is a LoRA/],
    [['down_blocks.0.resnets.0.conv1.weight', 'conv_in.weight'], /one diffusers network/],
    [['foo.weight'], /not a Stable Diffusion checkpoint.*foo\.weight/],
    [['model.diffusion_model.input_blocks.0.0.weight'], /no text encoder/],
    [['model.diffusion_model.label_emb.0.0.weight'], /class-conditioned/],
  ])('%j', (names, message) => {
    expect(() => describeSingleFile(header(names))).toThrow(message);
  });

  it('a PyTorch pickle (.ckpt, a zip since torch 1.6) is named as one, not parsed', async () => {
    const zip = new Blob([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0])]);
    await expect(readSingleFileHeader(zip, 'model.ckpt')).rejects.toThrow(/model\.ckpt is a PyTorch pickle/);
    const pickle = new Blob([new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 0, 0])]);
    await expect(readSingleFileHeader(pickle, 'old.ckpt')).rejects.toThrow(/PyTorch pickle/);
  });

  it('a truncated file names the cut', async () => {
    const bytes = readFileSync(`${NETWORKS_DIR}sd1/single-file/model.fp16.safetensors`);
    const cut = new Blob([bytes.subarray(0, bytes.length - 1000)]);
    await expect(readSingleFile(cut, 'cut.safetensors', null)).rejects.toThrow(/cut\.safetensors .*truncated/);
  });

  it('a tiny checkpoint without configs is refused before anything is built', async () => {
    const bytes = readFileSync(`${NETWORKS_DIR}sd1/single-file/model.fp16.safetensors`);
    await expect(readSingleFile(new Blob([bytes]), 'tiny.safetensors', null)).rejects.toThrow(
      /tiny\.safetensors is not the size of SD 1\.x/,
    );
  });
});

describe('a single file becomes a manifest and a load plan', () => {
  const bytes = readFileSync(`${NETWORKS_DIR}sd2-depth/single-file/model.fp16.safetensors`);
  const file = new Blob([bytes]);
  const header = parseSafetensors('depth.safetensors', new Uint8Array(bytes));
  const folder = manifestFromModelIndex(
    'hub:fixtures/sd2-depth@main',
    { kind: 'hub', repo: 'fixtures/sd2-depth', revision: 'main' },
    readJson(`${NETWORKS_DIR}sd2-depth/model_index.json`),
  );

  it('runs the modes its UNet kind runs, reads its configs from the chosen folder, and fetches no weights', () => {
    const m = manifestFromSingleFile(file, 'depth.safetensors', '1', header, {
      prediction: 'epsilon',
      configsFrom: folder,
    });
    expect(m.modes).toEqual(['depth2img']);
    expect(m.name).toBe('depth.safetensors (SD 2.x, depth (5-channel UNet), fp16)');
    const plan = planLoad(m, 'https://hub.example', 'https://app.example');
    expect(plan.cache).toBe(false);
    expect(plan.components.format).toBe('single-file');
    if (plan.components.format !== 'single-file') return;
    expect(plan.components.file).toBe(file);
    expect(plan.components.configs?.unet.url).toBe(
      'https://hub.example/fixtures/sd2-depth/resolve/main/unet/config.json',
    );
    expect(plan.scheduler).toEqual({ config: expect.objectContaining({ prediction_type: 'epsilon' }) as unknown });
  });

  it('gets another id (so it loads again) for another prediction type, configs or file on disk', () => {
    const id = (prediction: PredictionType, identity = '1', configsFrom: typeof folder | null = folder) =>
      manifestFromSingleFile(file, 'depth.safetensors', identity, header, { prediction, configsFrom }).id;
    expect(id('epsilon')).toMatch(/^file:depth\.safetensors#[0-9a-f]{8}$/);
    expect(id('epsilon')).toBe(id('epsilon'));
    expect(new Set([id('epsilon'), id('v_prediction'), id('epsilon', '2')]).size).toBe(3);
    const plan = planLoad(
      manifestFromSingleFile(file, 'depth.safetensors', '1', header, {
        prediction: 'v_prediction',
        configsFrom: folder,
      }),
      'https://hub.example',
      'https://app.example',
    );
    expect(plan.scheduler).toEqual({ config: expect.objectContaining({ prediction_type: 'v_prediction' }) as unknown });
  });

  it('refuses an ONNX export as the source of configs, and the family’s own counts for a tiny file', () => {
    const onnx = manifestFromModelIndex(
      'x',
      { kind: 'hub', repo: 'a/b', revision: 'main' },
      {
        _class_name: 'OnnxStableDiffusionPipeline',
        text_encoder: ['diffusers', 'OnnxRuntimeModel'],
        unet: ['diffusers', 'OnnxRuntimeModel'],
        vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      },
    );
    expect(() =>
      manifestFromSingleFile(file, 'depth.safetensors', '1', header, { prediction: 'epsilon', configsFrom: onnx }),
    ).toThrow(/is not a diffusers checkpoint with config\.json files/);
    expect(() =>
      manifestFromSingleFile(file, 'depth.safetensors', '1', header, { prediction: 'epsilon', configsFrom: null }),
    ).toThrow(/depth\.safetensors is not the size of SD 2\.x/);
  });
});

/**
 * Real checkpoints' layouts (names and shapes of SD 1.5, SD 1.5 inpainting, SD 2.1 and SD 2 depth,
 * checked against diffusers' own single-file loader by python/single_file/real_headers.py): read
 * with Stable Diffusion's own head and group counts, they give the official configs, and the
 * app's graphs build from them using every tensor.
 */
describe.each([
  ['sd15', 'sd1', 'txt2img', 4],
  ['sd15-inpaint', 'sd1', 'inpaint', 9],
  ['sd21', 'sd2', 'txt2img', 4],
  ['sd2-depth', 'sd2', 'depth', 5],
] as const)('the layout of %s', (name, family, kind, channels) => {
  const record = readJson<{
    tensors: Record<string, number[]>;
    diffusers: Record<'unet' | 'vae' | 'text_encoder', Record<string, number[]>>;
  }>(`${FIXTURES_DIR}single-file-headers/${name}.json`);
  // A header without data: fp16 tensors laid end to end.
  const tensors = new Map<string, SafetensorsEntry>();
  let at = 0;
  for (const [n, shape] of Object.entries(record.tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    tensors.set(n, { name: n, dtype: 'F16', shape, begin: at, end: at + bytes });
    at += bytes;
  }
  const header: SafetensorsHeader = { file: `${name}.safetensors`, dataStart: 0, size: at, tensors, metadata: {} };
  const layout = describeSingleFile(header);
  const mapped = mapSingleFile(header);
  const configs = singleFileConfigs(layout, mapped);

  it('is identified: family, UNet kind, padding', () => {
    expect([layout.family, layout.kind, layout.unetInChannels]).toEqual([family, kind, channels]);
    expect(layout.padToken).toBe(family === 'sd2' ? '!' : '<|endoftext|>');
  });

  it.each([
    ['unet', 'unet'],
    ['vae', 'vae'],
    ['textEncoder', 'text_encoder'],
  ] as const)('%s: the names and shapes of diffusers’ own model', (part, key) => {
    const strip = (n: string) => n.replace(/^text_model\./, '');
    const got = Object.fromEntries(mapped[part].map((t) => [strip(t.name), t.shape]));
    const want = Object.fromEntries(Object.entries(record.diffusers[key]).map(([n, s]) => [strip(n), s]));
    expect(got).toEqual(want);
  });

  it('gets the official configs, which fit', () => {
    const sd2 = family === 'sd2';
    expect(configs.unet).toMatchObject({
      in_channels: channels,
      block_out_channels: [320, 640, 1280, 1280],
      layers_per_block: [2, 2, 2, 2],
      attention_head_dim: sd2 ? [5, 10, 20, 20] : 8,
      cross_attention_dim: sd2 ? 1024 : 768,
      use_linear_projection: sd2,
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
      norm_num_groups: 32,
    });
    expect(configs.vae).toMatchObject({
      block_out_channels: [128, 256, 512, 512],
      layers_per_block: 2,
      latent_channels: 4,
    });
    expect(configs.textEncoder).toMatchObject(
      sd2
        ? {
            hidden_size: 1024,
            num_hidden_layers: 23,
            num_attention_heads: 16,
            intermediate_size: 4096,
            hidden_act: 'gelu',
          }
        : {
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: 'quick_gelu',
          },
    );
    expect(familyMisfit(header.file, layout, configs)).toBeNull();
  });

  it('the app’s graphs build from it: every weight they read is there, with the shape they expect', () => {
    const source = (
      part: keyof typeof FOLDERS,
      files = [{ header: mappedHeader(header, mapped[part]), location: 'w' }],
    ) => ({
      configPath: part,
      config: configs[part],
      files,
    });
    const text = source('textEncoder');
    const unet = source('unet');
    const vae = source('vae');
    expect(textEncoderGraph(text).length).toBeGreaterThan(1000);
    expect(unetGraph(unet, { padInputChannels: true }).config.heads).toEqual(
      family === 'sd2' ? [5, 10, 20, 20] : [8, 8, 8, 8],
    );
    expect(vaeGraphs(vae).decoder.length).toBeGreaterThan(1000);
  });
});

/** The mapped tensors as a header of their own (diffusers' names over the file's byte ranges). */
function mappedHeader(file: SafetensorsHeader, tensors: MappedTensor[]): SafetensorsHeader {
  return {
    ...file,
    tensors: new Map(
      tensors.map((t) => [t.name, { name: t.name, dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end }]),
    ),
  };
}
