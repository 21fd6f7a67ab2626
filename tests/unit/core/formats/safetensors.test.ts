import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  encodeSafetensors,
  MAX_HEADER_BYTES,
  parseSafetensors,
  readFloat32,
  safetensorsHeaderLength,
  SafetensorsError,
} from '../../../../src/core/formats/safetensors';
import { readClipTextConfig, readUnetConfig, readVaeConfig } from '../../../../src/core/networks/config';
import { NETWORKS_DIR } from '../../../helpers/fixtures';
import { readJson } from '../../../helpers/node-models';

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/** A file from a raw header object and a data section, for malformed cases. */
function rawFile(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe('safetensors header', () => {
  it('reads dtype, shape, absolute byte ranges and metadata of a real checkpoint', () => {
    const bytes = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/unet/diffusion_pytorch_model.fp16.safetensors`));
    const header = parseSafetensors('unet.fp16.safetensors', bytes);
    const conv = header.tensors.get('conv_in.weight')!;
    expect(conv).toMatchObject({ dtype: 'F16', shape: [32, 4, 3, 3] });
    expect(conv.end - conv.begin).toBe(32 * 4 * 9 * 2);
    expect(conv.begin).toBeGreaterThanOrEqual(header.dataStart);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.size).toBe(bytes.length);
  });

  it('round-trips F32, F16 and BF16 values and metadata', () => {
    const bf16 = new Uint16Array([0x3f80, 0xc040]); // 1, −3
    const f16 = new Uint16Array([0x3c00, 0x4000]); // 1, 2
    const file = encodeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2], data: f32([0.5, -2]) },
        { name: 'b', dtype: 'F16', shape: [2, 1], data: new Uint8Array(f16.buffer) },
        { name: 'c', dtype: 'BF16', shape: [2], data: new Uint8Array(bf16.buffer) },
      ],
      { note: 'x' },
    );
    const header = parseSafetensors('t', file);
    expect(header.dataStart % 8).toBe(0);
    expect(Array.from(readFloat32(header, file, 'a'))).toEqual([0.5, -2]);
    expect(Array.from(readFloat32(header, file, 'b'))).toEqual([1, 2]);
    expect(Array.from(readFloat32(header, file, 'c'))).toEqual([1, -3]);
    expect(header.metadata).toEqual({ note: 'x' });
  });

  it('describes a file too big to hold from its first bytes and its size', () => {
    const file = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1000], data: new Uint8Array(4000) }]);
    const length = safetensorsHeaderLength('big', file.subarray(0, 8), file.length);
    const header = parseSafetensors('big', file.subarray(0, length), file.length);
    expect(header.tensors.get('w')).toMatchObject({ begin: length, end: length + 4000 });
    expect(() => parseSafetensors('big', file.subarray(0, length - 1), file.length)).toThrow(
      `big is not a usable safetensors file: only ${length - 1} bytes were given, the header needs ${length}.`,
    );
  });

  const bad: [string, Uint8Array, string][] = [
    ['fewer than 8 bytes', new Uint8Array(5), 'it has 5 bytes, fewer than the 8 of the header length.'],
    [
      'a header past the end (truncated)',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).subarray(0, 20),
      'but the file has only 20 (truncated?)',
    ],
    [
      'a header over 100 MB',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
        return b;
      })(),
      'over the 100 MB limit',
    ],
    [
      'a header that is not JSON',
      (() => {
        const b = rawFile({});
        b.set(new TextEncoder().encode('<!'), 8);
        return b;
      })(),
      'its header is not valid JSON.',
    ],
    [
      'an HTML page',
      new TextEncoder().encode('<!doctype html><html><body>Not found</body></html>'),
      'over the 100 MB limit',
    ],
    ['a header that is a list', rawFile([1, 2]), 'its header is not a JSON object.'],
    [
      'an unknown dtype',
      rawFile({ a: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      'tensor "a" has an unknown dtype "F8".',
    ],
    [
      'a bad shape',
      rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      'tensor "a" has a shape that is not a list of whole numbers.',
    ],
    [
      'bad offsets',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)),
      'tensor "a" has data_offsets that are not two whole numbers.',
    ],
    [
      'offsets that disagree with the shape',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(8)),
      'tensor "a" has 4 bytes in data_offsets but its shape [2] and F32 need 8.',
    ],
    [
      'a tensor out of range (truncated data)',
      rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
      'past the end of the file',
    ],
    [
      'overlapping tensors',
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
      'tensors "a" and "b" overlap.',
    ],
    ['metadata that is not strings', rawFile({ __metadata__: { a: 1 } }), '__metadata__ must map names to strings.'],
  ];
  it.each(bad)('%s: a named error that says which file and why', (_what, bytes, why) => {
    let error: unknown;
    try {
      parseSafetensors('unet/diffusion_pytorch_model.safetensors', bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(
      /^unet\/diffusion_pytorch_model\.safetensors is not a usable safetensors file: /,
    );
    expect((error as Error).message).toContain(why);
  });
});

describe('component configs, read as diffusers and transformers read them', () => {
  const unet = readJson<Record<string, unknown>>(`${NETWORKS_DIR}sd2-depth/unet/config.json`);
  const sd1Unet = readJson<Record<string, unknown>>(`${NETWORKS_DIR}sd1/unet/config.json`);

  it('SD 1.5-style configs with only the old keys take diffusers defaults', () => {
    const c = readUnetConfig('unet/config.json', sd1Unet);
    expect(c).toMatchObject({
      midBlock: true,
      linearProjection: false,
      heads: [8, 8],
      timeCondProjDim: null,
      transformerLayers: [1, 1],
    });
    expect(readVaeConfig('vae/config.json', readJson(`${NETWORKS_DIR}sd1/vae/config.json`)).scalingFactor).toBe(
      0.18215,
    );
  });

  it('attention_head_dim as a list is the head count per block; mid_block_type null drops the mid block', () => {
    expect(readUnetConfig('c', unet).heads).toEqual([2, 4]);
    expect(readUnetConfig('c', { ...unet, mid_block_type: null }).midBlock).toBe(false);
  });

  const refused: [string, Record<string, unknown>, string][] = [
    [
      "Kandinsky's image addition embedding",
      { addition_embed_type: 'image' },
      'unet/config.json: addition_embed_type = "image" is not supported',
    ],
    ['class embeddings', { class_embed_type: 'timestep' }, 'class_embed_type = "timestep" is not supported'],
    ['dual cross-attention', { dual_cross_attention: true }, 'dual_cross_attention = true is not supported'],
    ['num_attention_heads', { num_attention_heads: 8 }, 'num_attention_heads = 8 is not supported'],
    [
      'an unknown block',
      { down_block_types: ['SimpleCrossAttnDownBlock2D', 'DownBlock2D'] },
      'down_block_types has "SimpleCrossAttnDownBlock2D", which this app does not build',
    ],
    [
      'another mid block',
      { mid_block_type: 'UNetMidBlock2DSimpleCrossAttn' },
      'mid_block_type = "UNetMidBlock2DSimpleCrossAttn" is not supported',
    ],
    [
      'a per-block cross_attention_dim',
      { cross_attention_dim: [24, 24] },
      'cross_attention_dim = [24,24] is per block',
    ],
    ['an unknown key', { attention_sink: 4 }, 'attention_sink = 4 is a key this app does not know'],
    [
      'mismatched block lists',
      { up_block_types: ['UpBlock2D'] },
      'up_block_types = ["UpBlock2D"] has 1 blocks but down_block_types has 2.',
    ],
    ['a non-silu activation', { act_fn: 'mish' }, 'act_fn = "mish" is not supported'],
  ];
  it.each(refused)('refuses %s with the key and its value', (_what, change, message) => {
    expect(() => readUnetConfig('unet/config.json', { ...unet, ...change })).toThrow(message);
  });

  it('refuses text encoders and VAEs it would build wrong', () => {
    const text = readJson<Record<string, unknown>>(`${NETWORKS_DIR}sd1/text_encoder/config.json`);
    expect(() => readClipTextConfig('text_encoder/config.json', { ...text, hidden_act: 'relu' })).toThrow(
      'text_encoder/config.json: hidden_act = "relu" is not supported (this app builds quick_gelu, gelu).',
    );
    expect(() => readClipTextConfig('t', { ...text, architectures: ['T5EncoderModel'] })).toThrow(
      'is not a CLIP text model',
    );
    const vae = readJson<Record<string, unknown>>(`${NETWORKS_DIR}sd2-depth/vae/config.json`);
    expect(() => readVaeConfig('vae/config.json', { ...vae, latents_mean: [0, 0, 0, 0] })).toThrow(
      'latents_mean = [0,0,0,0] is not supported',
    );
    expect(() => readVaeConfig('vae/config.json', { ...vae, down_block_types: ['DownEncoderBlock2D'] })).toThrow(
      'has 4 blocks but down_block_types has 1',
    );
  });
});

describe('what arrives is checked before it is parsed', () => {
  it('names an HTML page, a non-ONNX file and a non-safetensors file', async () => {
    const { checkArrived } = await import('../../../../src/worker/loading/download');
    const ref = (path: string) => ({ url: `http://x/${path}`, path });
    const html = new TextEncoder().encode('\n<!doctype html><html><body>Not found</body></html>');
    expect(() => checkArrived(ref('unet/model.onnx'), html, null)).toThrow(
      /^The server sent an HTML page \(\d+ bytes\) instead of unet\/model\.onnx: it begins "<!doctype html><html><body>Not found/,
    );
    expect(() => checkArrived(ref('a.onnx'), new Uint8Array([1, 2, 3]), 'text/html')).toThrow(/text\/html/);
    expect(() => checkArrived(ref('unet/model.onnx'), new TextEncoder().encode('{"a": 1}'), null)).toThrow(
      'unet/model.onnx is not an ONNX model (8 bytes beginning "{"a": 1}").',
    );
    expect(() => checkArrived(ref('w.safetensors'), new Uint8Array(20), null)).toThrow(
      /w\.safetensors is not a safetensors file/,
    );
    const good = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: f32([1]) }]);
    expect(() => checkArrived(ref('w.safetensors'), good, 'application/octet-stream')).not.toThrow();
    expect(() => checkArrived(ref('m.onnx'), new Uint8Array([0x08, 0x08]), null)).not.toThrow();
  });
});

describe('the element types an ONNX graph uses, read before the runtime sees it', () => {
  it('tells float16 graphs from float32 ones, and says nothing of bytes that are not ONNX', async () => {
    const { onnxElementTypes, onnxUsesFloat16 } = await import('../../../../src/core/onnx/reader');
    const { stepGraph } = await import('../../../../src/core/pipeline/step-graph');
    expect(onnxUsesFloat16(stepGraph('float16'))).toBe(true);
    expect(onnxUsesFloat16(stepGraph('float32'))).toBe(false);
    expect([...onnxElementTypes(stepGraph('float32'))].sort()).toEqual([1, 7]);
    expect(onnxUsesFloat16(new TextEncoder().encode('<!doctype html>'))).toBe(false);
  });
});
