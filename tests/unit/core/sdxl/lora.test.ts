/**
 * SDXL LoRAs and embeddings: a kohya SDXL LoRA (SGM block names, lora_te1_/lora_te2_) and the same
 * update in diffusers/PEFT names give diffusers' images (python/goldens/sdxl_lora.py); an SDXL
 * embedding's clip_l and clip_g rows are read for their encoders; files for the other family say so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, parseSafetensors } from '../../../../src/core/formats/safetensors';
import { readEmbedding } from '../../../../src/core/networks/embedding';
import { readLora, sgmUnetModule } from '../../../../src/core/networks/lora';
import { runPipeline } from '../../../../src/core/pipeline/generate';
import { FIXTURES_DIR, NETWORKS_DIR, SDXL_DIR, readTensorFile } from '../../../helpers/fixtures';
import { loadCheckpoint } from '../../../helpers/checkpoint-models';
import { goldenRequest, goldensIn, maxAbsDiff, meanAbsDiff } from '../../../helpers/pipeline-goldens';

const DIR = `${FIXTURES_DIR}goldens/sdxl-lora/`;
const names = (path: string) => [...parseSafetensors(path, new Uint8Array(readFileSync(path))).tensors.keys()];
const modules = {
  unet: names(`${SDXL_DIR}sdxl/unet/diffusion_pytorch_model.safetensors`),
  text_encoder: names(`${SDXL_DIR}sdxl/text_encoder/model.safetensors`),
  text_encoder_2: names(`${SDXL_DIR}sdxl/text_encoder_2/model.safetensors`),
};
const file = (name: string) => {
  const bytes = new Uint8Array(readFileSync(`${DIR}${name}`));
  return { bytes, header: parseSafetensors(name, bytes) };
};

describe('SDXL LoRA', () => {
  it('SGM block names are diffusers’ modules', () => {
    expect(sgmUnetModule('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q', 2)).toBe(
      'input_blocks.4.1.transformer_blocks.0.attn1.to_q',
    );
    expect(sgmUnetModule('down_blocks.2.attentions.1.proj_in', 2)).toBe('input_blocks.8.1.proj_in');
    expect(sgmUnetModule('up_blocks.1.attentions.2.proj_out', 2)).toBe('output_blocks.5.1.proj_out');
    expect(sgmUnetModule('mid_block.attentions.0.transformer_blocks.9.ff.net.2', 2)).toBe(
      'middle_block.1.transformer_blocks.9.ff.net.2',
    );
    expect(sgmUnetModule('down_blocks.0.resnets.0.conv1', 2)).toBeNull();
  });

  it('kohya and PEFT layouts read to the same 168 layers, in the UNet and both text encoders', () => {
    const kohya = readLora(
      'style-xl.kohya.safetensors',
      file('style-xl.kohya.safetensors').header,
      file('style-xl.kohya.safetensors').bytes,
      modules,
    );
    const peft = readLora(
      'style-xl.peft.safetensors',
      file('style-xl.peft.safetensors').header,
      file('style-xl.peft.safetensors').bytes,
      modules,
    );
    expect(kohya).toHaveLength(168);
    expect(peft).toHaveLength(168);
    const count = (target: string) => kohya.filter((l) => l.target === target).length;
    expect([count('unet'), count('text_encoder'), count('text_encoder_2')]).toEqual([
      kohya.length - count('text_encoder') - count('text_encoder_2'),
      18,
      18,
    ]);
    expect(count('unet')).toBeGreaterThan(100);
    expect(new Set(peft.map((l) => `${l.target}:${l.weight}`))).toEqual(
      new Set(kohya.map((l) => `${l.target}:${l.weight}`)),
    );
  });

  it.each([
    ['style-xl.kohya.safetensors', 0.8],
    ['style-xl.kohya.safetensors', 0.3],
    ['style-xl.peft.safetensors', 0.8],
  ] as const)('%s at %f gives diffusers’ image', async (name, scale) => {
    const golden = goldensIn(DIR, 'sdxl-lora').find((g) => g.run === `lora-${scale}`)!;
    const { models, schedulerConfig } = await loadCheckpoint(`${SDXL_DIR}sdxl/`, {
      loras: [{ path: `${DIR}${name}`, scale }],
    });
    const result = await runPipeline(models, goldenRequest(golden), { schedulerConfig });
    const mean = meanAbsDiff(result.image.pixels, golden.image);
    expect(mean).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, golden.image)).toBeLessThanOrEqual(1);
    // Without the LoRA the picture is far off: the test can fail.
    const plain = await loadCheckpoint(`${SDXL_DIR}sdxl/`);
    const without = await runPipeline(plain.models, goldenRequest(golden), { schedulerConfig });
    expect(meanAbsDiff(without.image.pixels, golden.image)).toBeGreaterThan(10);
  });

  it('an SD 1.x LoRA on SDXL, and an SDXL LoRA on SD 1.x, say they do not fit', () => {
    const sd1 = new Uint8Array(readFileSync(`${NETWORKS_DIR}sd1/lora/style.kohya.safetensors`));
    expect(() => readLora('style.kohya.safetensors', parseSafetensors('s', sd1), sd1, modules)).toThrow(
      /does not fit this model/,
    );
    const sd1Modules = {
      unet: names(`${NETWORKS_DIR}sd1/unet/diffusion_pytorch_model.safetensors`),
      text_encoder: names(`${NETWORKS_DIR}sd1/text_encoder/model.safetensors`),
    };
    const xl = file('style-xl.kohya.safetensors');
    expect(() => readLora('style-xl.kohya.safetensors', xl.header, xl.bytes, sd1Modules)).toThrow(
      /is an SDXL LoRA \(two text encoders\), which does not fit this Stable Diffusion 1\.x\/2\.x model/,
    );
  });
});

describe('SDXL embeddings', () => {
  it('clip_l rows go to the first encoder, clip_g rows to the second', () => {
    const { header, bytes } = file('style-xl-embedding.safetensors');
    const e = readEmbedding('style-xl-embedding.safetensors', header, bytes, 16, 24);
    const stored = readTensorFile(`${DIR}style-xl-embedding.safetensors`);
    expect(e.count).toBe(2);
    expect(e.vectors).toEqual(stored.floats('clip_l'));
    expect(e.second).toEqual(stored.floats('clip_g'));
  });

  it('each family refuses the other’s embeddings, and mismatched widths', () => {
    const { header, bytes } = file('style-xl-embedding.safetensors');
    expect(() => readEmbedding('x.safetensors', header, bytes, 16)).toThrow(/is an SDXL embedding/);
    expect(() => readEmbedding('x.safetensors', header, bytes, 16, 32)).toThrow(/take 16 and 32/);
    const sd = encodeSafetensors([{ name: 'emb_params', dtype: 'F32', shape: [1, 16], data: new Uint8Array(64) }]);
    expect(() => readEmbedding('sd.safetensors', parseSafetensors('sd', sd), sd, 16, 24)).toThrow(
      /an SDXL model takes SDXL embeddings, with clip_l and clip_g vectors/,
    );
  });
});
