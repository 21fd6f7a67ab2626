/**
 * SDXL single files (the sgm layout SDXL fine-tunes are published in): real SDXL base and
 * inpainting layouts map to diffusers' own names and shapes and give the official configs, and the
 * tiny `sdxl` checkpoint written as a single file (python/single_file/sdxl_file.py, checked with
 * diffusers' own from_single_file) gives the folder's weights and diffusers' images.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from '../../../../src/core/formats/safetensors';
import { textEncoderGraph, unetGraph, vaeGraphs } from '../../../../src/core/networks';
import { mapSingleFile, type MappedTensor } from '../../../../src/core/single-file/keys';
import { describeSingleFile, familyMisfit, singleFileConfigs } from '../../../../src/core/single-file/layout';
import { readSingleFile } from '../../../../src/worker/loading/single-file';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { FIXTURES_DIR, SDXL_DIR } from '../../../helpers/fixtures';
import { readJson } from '../../../helpers/node-models';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { goldenRequest, goldensIn, maxAbsDiff, meanAbsDiff } from '../../../helpers/pipeline-goldens';

type Part = 'unet' | 'vae' | 'textEncoder' | 'textEncoder2';
const DIFFUSERS: Record<Part, string> = {
  unet: 'unet',
  vae: 'vae',
  textEncoder: 'text_encoder',
  textEncoder2: 'text_encoder_2',
};
const strip = (n: string) => n.replace(/^text_model\./, '');

/** A header without data: fp16 tensors laid end to end. */
function headerOf(file: string, tensors: Record<string, number[]>): SafetensorsHeader {
  const entries = new Map<string, SafetensorsEntry>();
  let at = 0;
  for (const [n, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    entries.set(n, { name: n, dtype: 'F16', shape, begin: at, end: at + bytes });
    at += bytes;
  }
  return { file, dataStart: 0, size: at, tensors: entries, metadata: {} };
}

describe.each([
  ['sdxl', 'txt2img', 4],
  ['sdxl-inpaint', 'inpaint', 9],
] as const)('the layout of %s (real SDXL names and shapes)', (name, kind, channels) => {
  const record = readJson<{
    diffusers_model_type: string;
    tensors: Record<string, number[]>;
    diffusers: Record<'unet' | 'vae' | 'text_encoder' | 'text_encoder_2', Record<string, number[]>>;
  }>(`${FIXTURES_DIR}single-file-headers/${name}.json`);
  const header = headerOf(`${name}.safetensors`, record.tensors);
  const layout = describeSingleFile(header);
  const mapped = mapSingleFile(header);
  const configs = singleFileConfigs(layout, mapped);

  it('is identified: SDXL, its UNet kind, both paddings', () => {
    expect(record.diffusers_model_type).toBe(name === 'sdxl' ? 'xl_base' : 'xl_inpaint');
    expect([layout.family, layout.kind, layout.unetInChannels]).toEqual(['sdxl', kind, channels]);
    expect([layout.padToken, layout.secondPadToken]).toEqual(['<|endoftext|>', '!']);
    expect(layout.summary).toMatch(/^SDXL, /);
  });

  it.each(Object.keys(DIFFUSERS) as Part[])('%s: the names and shapes of diffusers’ own model', (part) => {
    const got = Object.fromEntries((mapped[part] ?? []).map((t) => [strip(t.name), t.shape]));
    const want = Object.fromEntries(
      Object.entries(record.diffusers[DIFFUSERS[part] as keyof typeof record.diffusers]).map(([n, s]) => [strip(n), s]),
    );
    expect(got).toEqual(want);
  });

  it('gets the official configs, which fit, and the graphs build from every tensor', () => {
    expect(configs.unet).toMatchObject({
      in_channels: channels,
      block_out_channels: [320, 640, 1280],
      layers_per_block: [2, 2, 2],
      attention_head_dim: [5, 10, 20],
      transformer_layers_per_block: [1, 2, 10],
      cross_attention_dim: 2048,
      use_linear_projection: true,
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
      addition_embed_type: 'text_time',
      addition_time_embed_dim: 256,
      projection_class_embeddings_input_dim: 2816,
    });
    expect(configs.vae).toMatchObject({ block_out_channels: [128, 256, 512, 512], scaling_factor: 0.13025 });
    expect(configs.textEncoder).toMatchObject({
      architectures: ['CLIPTextModel'],
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      hidden_act: 'quick_gelu',
    });
    expect(configs.textEncoder2).toMatchObject({
      architectures: ['CLIPTextModelWithProjection'],
      hidden_size: 1280,
      intermediate_size: 5120,
      num_hidden_layers: 32,
      num_attention_heads: 20,
      hidden_act: 'gelu',
      projection_dim: 1280,
    });
    expect(familyMisfit(header.file, layout, configs)).toBeNull();
    const source = (part: Part) => ({
      configPath: part,
      config: configs[part],
      files: [{ header: mappedHeader(mapped[part]!), location: 'w' }],
    });
    expect(unetGraph(source('unet'), { padInputChannels: true }).config.textTime).toEqual({
      timeEmbedDim: 256,
      inputDim: 2816,
    });
    expect(textEncoderGraph(source('textEncoder2')).length).toBeGreaterThan(1000);
    expect(textEncoderGraph(source('textEncoder')).length).toBeGreaterThan(1000);
    expect(vaeGraphs(source('vae')).decoder.length).toBeGreaterThan(1000);
  });
});

/** A component's mapped tensors as a header of their own (names and shapes, no bytes). */
function mappedHeader(tensors: MappedTensor[]): SafetensorsHeader {
  return headerOf('mapped', Object.fromEntries(tensors.map((t) => [t.name, t.shape])));
}

describe('the tiny sdxl checkpoint as a single file', () => {
  const path = `${FIXTURES_DIR}sdxl-single-file/sdxl.fp16.safetensors`;
  const bytes = new Uint8Array(readFileSync(path));
  const header = parseSafetensors('sdxl.fp16.safetensors', bytes);

  it('every network is the folder’s fp16 weights, byte for byte (the projection transposed back)', async () => {
    const configs = (folder: string) => ({
      path: `${folder}/config.json`,
      json: readJson(`${SDXL_DIR}sdxl/${folder}/config.json`),
    });
    const parts = await readSingleFile(new Blob([bytes]), 'sdxl.fp16.safetensors', {
      textEncoder: configs('text_encoder'),
      textEncoder2: configs('text_encoder_2'),
      unet: configs('unet'),
      vae: configs('vae'),
    });
    const stems: Record<Part, string> = {
      unet: 'unet/diffusion_pytorch_model',
      vae: 'vae/diffusion_pytorch_model',
      textEncoder: 'text_encoder/model',
      textEncoder2: 'text_encoder_2/model',
    };
    for (const part of Object.keys(stems) as Part[]) {
      const folderBytes = new Uint8Array(readFileSync(`${SDXL_DIR}sdxl/${stems[part]}.fp16.safetensors`));
      const folder = parseSafetensors(part, folderBytes);
      const packed = parts[part]!.weights.map((w) => ({ w, h: parseSafetensors(w.path, w.bytes) }));
      const names = [...folder.tensors.keys()].filter((n) => !n.endsWith('position_ids'));
      expect(
        packed.reduce((n, p) => n + p.h.tensors.size, 0),
        part,
      ).toBe(names.length);
      for (const n of names) {
        const want = folder.tensors.get(n)!;
        const hit = packed.find((p) => p.h.tensors.has(n));
        expect(hit, `${part} ${n}`).toBeDefined();
        const got = hit!.h.tensors.get(n)!;
        expect(got.shape, n).toEqual(want.shape);
        const a = Buffer.from(hit!.w.bytes.subarray(got.begin, got.end));
        const b = Buffer.from(folderBytes.subarray(want.begin, want.end));
        expect(Buffer.compare(a, b), `${part} ${n}`).toBe(0);
      }
    }
  });

  it('is SDXL from its tensors; its own shapes are too small for SDXL’s head counts, so it asks for configs', async () => {
    const layout = describeSingleFile(header);
    expect([layout.family, layout.kind, layout.dtype]).toEqual(['sdxl', 'txt2img', 'fp16']);
    await expect(readSingleFile(new Blob([bytes]), 'tiny-xl.safetensors', null)).rejects.toThrow(
      /tiny-xl\.safetensors is not the size of SDXL .*Configs from/,
    );
  });

  it.each(
    goldensIn(`${FIXTURES_DIR}goldens/sdxl-zeros/`, 'sdxl-zeros')
      .filter((g) => !g.run.startsWith('sdxl-inpaint'))
      .concat(goldensIn(`${SDXL_DIR}sdxl/pipelines/`, 'sdxl').filter((g) => g.run === 'txt2img-negative'))
      .map((g) => [g.run, g] as const),
  )('with the folder’s configs, %s is diffusers’ image', async (_run, golden) => {
    const { models, schedulerConfig } = await loadCheckpoint(`${SDXL_DIR}sdxl/`, { fp16: true, singleFile: path });
    const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
    // The folder's fp16 weights' bounds (pipelines.test.ts).
    expect(meanAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(0.5);
    expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(2);
  });
});
