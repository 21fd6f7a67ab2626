/** LoRA files in both layouts, merged into a checkpoint's networks: diffusers' images. */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { readLora, mergeLoras } from '../../../../src/core/networks/lora';
import { readEmbedding } from '../../../../src/core/networks/embedding';
import { encodeSafetensors, parseSafetensors } from '../../../../src/core/formats/safetensors';
import { NETWORKS_DIR, readTensorFile } from '../../../helpers/fixtures';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { goldenRequest, maxAbsDiff, meanAbsDiff, type PipelineGolden } from '../../../helpers/pipeline-goldens';
import { readJson } from '../../../helpers/node-models';

const DIR = `${NETWORKS_DIR}sd1/`;
const LORA = `${DIR}lora/`;

function golden(run: string): PipelineGolden {
  const file = readTensorFile(`${LORA}${run}.safetensors`);
  const [height, width] = file.shape('image') as [number, number];
  return { case: 'sd1', run, settings: readJson(`${LORA}${run}.json`), image: file.u8('image'), width, height };
}

const modules = () => ({
  unet: [...readTensorFile(`${DIR}unet/diffusion_pytorch_model.safetensors`).header.tensors.keys()],
  text_encoder: [...readTensorFile(`${DIR}text_encoder/model.safetensors`).header.tensors.keys()],
});

describe('LoRA on a checkpoint', () => {
  for (const layout of ['kohya', 'peft'] as const) {
    for (const scale of [0.8, 0.3]) {
      it(`the ${layout} layout at ${scale} gives diffusers' image`, async () => {
        const g = golden(`lora-${scale}`);
        const { models, schedulerConfig } = await loadCheckpoint(DIR, {
          loras: [{ path: `${LORA}style.${layout}.safetensors`, scale }],
        });
        const result = await runPipeline(models, goldenRequest(g), { schedulerConfig });
        const mean = meanAbsDiff(result.image.pixels, g.image);
        console.info(
          `${layout} ${scale}: ${mean.toFixed(4)}/255 mean, ${maxAbsDiff(result.image.pixels, g.image)} max`,
        );
        expect(mean).toBeLessThanOrEqual(0.05);
      });
    }
  }

  it('matches every kohya layer to a checkpoint weight (unet and text encoder, 1×1 proj_in/proj_out included)', () => {
    const file = readTensorFile(`${LORA}style.kohya.safetensors`);
    const layers = readLora('style.kohya.safetensors', file.header, file.bytes, modules());
    expect(layers).toHaveLength(60);
    expect(layers.some((l) => l.weight === 'down_blocks.0.attentions.0.proj_in.weight')).toBe(true);
    expect(layers.some((l) => l.weight === 'text_model.encoder.layers.0.mlp.fc1.weight')).toBe(true);
    expect(layers.every((l) => l.rank === 4 && l.alpha === 2)).toBe(true);
    const peft = readTensorFile(`${LORA}style.peft.safetensors`);
    const peftLayers = readLora('style.peft.safetensors', peft.header, peft.bytes, modules());
    expect(peftLayers.map((l) => l.weight).sort()).toEqual(layers.map((l) => l.weight).sort());
    // PEFT has alpha/rank baked into lora_B: alpha = rank.
    expect(peftLayers.every((l) => l.alpha === l.rank)).toBe(true);
  });

  it('merges W + s·(alpha/rank)·up·down, by hand', () => {
    const layer = {
      target: 'unet' as const,
      weight: 'w',
      down: new Float32Array([1, 2, 3, 4, 5, 6]),
      up: new Float32Array([1, 0, 0, 1]),
      rank: 2,
      alpha: 1,
    };
    const merged = mergeLoras(
      [{ layers: [layer], scale: 0.5 }],
      'unet',
      () => ({ values: new Float32Array(6), shape: [2, 3] }),
      'p',
    )!;
    // up·down = down (up is the identity); × 0.5 × alpha/rank (0.5) = 0.25·down.
    expect(Array.from(new Float32Array(merged.bytes.buffer))).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  });

  it('names LoRAs it does not merge: LoCon, LyCORIS, SDXL, another architecture', () => {
    const t = (name: string, shape: number[]) => ({
      name,
      dtype: 'F32' as const,
      shape,
      data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4),
    });
    const fileOf = (tensors: ReturnType<typeof t>[]) => {
      const bytes = encodeSafetensors(tensors);
      return () => readLora('x.safetensors', parseSafetensors('x', bytes), bytes, modules());
    };
    expect(
      fileOf([
        t('lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight', [4, 32, 3, 3]),
        t('lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight', [32, 4, 1, 1]),
      ]),
    ).toThrow(/x\.safetensors is a LoCon file \(LoRA on 3×3 convolutions, e\.g\. down_blocks\.0\.resnets\.0\.conv1\)/);
    expect(fileOf([t('lora_unet_x.hada_w1_a', [4, 4])])).toThrow(/is a LyCORIS file/);
    expect(fileOf([t('lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight', [4, 16])])).toThrow(
      /is an SDXL LoRA/,
    );
    expect(fileOf([t('lora_unet_mid_block_attentions_9_proj_in.lora_down.weight', [4, 64])])).toThrow(
      /does not fit this model: 1 of its tensors .* It is probably a LoRA for another architecture/,
    );
  });
});

describe('several LoRAs at once', () => {
  it('add their updates: W + Σ s·(alpha/rank)·up·down', () => {
    const a = {
      target: 'unet' as const,
      weight: 'w',
      down: new Float32Array([1, 0]),
      up: new Float32Array([2]),
      rank: 1,
      alpha: 1,
    };
    const b = {
      target: 'unet' as const,
      weight: 'w',
      down: new Float32Array([0, 1]),
      up: new Float32Array([4]),
      rank: 1,
      alpha: 0.5,
    };
    const merged = mergeLoras(
      [
        { layers: [a], scale: 1 },
        { layers: [b], scale: -1 },
      ],
      'unet',
      () => ({ values: new Float32Array([10, 10]), shape: [1, 2] }),
      'p',
    )!;
    // 10 + 1·1·2·1 = 12; 10 − 1·0.5·4·1 = 8.
    expect(Array.from(new Float32Array(merged.bytes.buffer))).toEqual([12, 8]);
    expect(
      mergeLoras(
        [{ layers: [a], scale: 1 }],
        'text_encoder',
        () => ({ values: new Float32Array(2), shape: [1, 2] }),
        'p',
      ),
    ).toBeNull();
  });
});

describe('textual-inversion files', () => {
  const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
  const read = (tensors: { name: string; shape: number[]; values: number[] }[], hidden = 2) => {
    const bytes = encodeSafetensors(
      tensors.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: f32(t.values) })),
    );
    return readEmbedding('e.safetensors', parseSafetensors('e', bytes), bytes, hidden);
  };

  it("reads A1111's emb_params and diffusers' {token: vector}, one vector or several", () => {
    expect(read([{ name: 'emb_params', shape: [2, 2], values: [1, 2, 3, 4] }])).toEqual({
      vectors: new Float32Array([1, 2, 3, 4]),
      count: 2,
    });
    expect(read([{ name: '<cat-toy>', shape: [2], values: [5, 6] }])).toEqual({
      vectors: new Float32Array([5, 6]),
      count: 1,
    });
  });

  it('names what it cannot use: SDXL embeddings, another width, no embedding at all', () => {
    expect(() => read([{ name: 'clip_l', shape: [1, 2], values: [0, 0] }])).toThrow(/is an SDXL embedding/);
    expect(() => read([{ name: 'emb_params', shape: [1, 3], values: [0, 0, 0] }])).toThrow(
      "e.safetensors holds vectors of shape [1, 3], but this model's text encoder takes 2: it is an embedding for another model.",
    );
    expect(() =>
      read([
        { name: 'a', shape: [2], values: [0, 0] },
        { name: 'b', shape: [2], values: [0, 0] },
      ]),
    ).toThrow(/is not a textual-inversion embedding/);
  });
});
