/**
 * A1111 single-file ControlNets: the names and shapes of real files (SD 1.5's `control_model.*`,
 * an SD 2.1 file without the prefix; tests/fixtures/single-file-headers, checked there with
 * diffusers' own converter) mapped to diffusers' ControlNetModel, their configs, and the tiny
 * reference ControlNet written in that layout giving diffusers' image.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from '../../../../src/core/formats/safetensors';
import { controlNetGraph } from '../../../../src/core/networks';
import { readControlNetConfig } from '../../../../src/core/networks/config';
import { controlNetConfig, mapControlNet } from '../../../../src/core/single-file/controlnet';
import { readControlNetFile } from '../../../../src/worker/loading/single-file';
import { controlNetFrom } from '../../../helpers/checkpoint-models';
import { CONTROLNET_SD1, runControlGolden } from '../../../helpers/controlnet-goldens';
import { FIXTURES_DIR } from '../../../helpers/fixtures';
import { readJson } from '../../../helpers/node-models';
import { maxAbsDiff, meanAbsDiff } from '../../../helpers/pipeline-goldens';

/** A header without data: fp16 tensors laid end to end. */
function headerOf(name: string, shapes: Record<string, number[]>): SafetensorsHeader {
  const tensors = new Map<string, SafetensorsEntry>();
  let at = 0;
  for (const [n, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    tensors.set(n, { name: n, dtype: 'F16', shape, begin: at, end: at + bytes });
    at += bytes;
  }
  return { file: name, dataStart: 0, size: at, tensors, metadata: {} };
}

describe.each([
  ['controlnet-sd15', 768],
  ['controlnet-sd21', 1024],
] as const)('the single-file layout of %s', (name, textWidth) => {
  const record = readJson<{ tensors: Record<string, number[]>; diffusers: Record<string, number[]> }>(
    `${FIXTURES_DIR}single-file-headers/${name}.json`,
  );
  const header = headerOf(`${name}.safetensors`, record.tensors);
  const mapped = mapControlNet(header, header.file);

  it("maps to the names and shapes of diffusers' ControlNetModel", () => {
    expect(Object.fromEntries(mapped.map((t) => [t.name, t.shape]))).toEqual(record.diffusers);
  });

  it('gets the official config, and the graph builds from it using the weights it reads', () => {
    const config = controlNetConfig(mapped);
    const sd2 = textWidth === 1024;
    expect(config).toMatchObject({
      block_out_channels: [320, 640, 1280, 1280],
      layers_per_block: 2,
      attention_head_dim: sd2 ? [5, 10, 20, 20] : 8,
      cross_attention_dim: textWidth,
      use_linear_projection: sd2,
      conditioning_embedding_out_channels: [16, 32, 96, 256],
      conditioning_channels: 3,
    });
    expect(readControlNetConfig(name, config).unet.crossAttentionDim).toBe(textWidth);
    const files = [
      {
        header: {
          ...header,
          tensors: new Map(mapped.map((t) => [t.name, { ...t, name: t.name }])),
        },
        location: 'w',
      },
    ];
    expect(controlNetGraph({ configPath: name, config, files }).model.length).toBeGreaterThan(1000);
  });
});

describe('the tiny ControlNet as an A1111 file', () => {
  const path = `${CONTROLNET_SD1}single-file/control_sd1_canny_tiny.safetensors`;
  const file = new Blob([readFileSync(path)]);

  it("gives the folder's weights bit for bit, and diffusers' image", async () => {
    const part = await readControlNetFile(file, 'control_sd1_canny_tiny.safetensors');
    const folderConfig = readJson<unknown>(`${CONTROLNET_SD1}config.json`);
    expect(readControlNetConfig('file', part.config)).toEqual(readControlNetConfig('folder', folderConfig));
    const folder = new Uint8Array(readFileSync(`${CONTROLNET_SD1}diffusion_pytorch_model.safetensors`));
    const want = parseSafetensors('folder', folder);
    const got = part.weights.map((w) => ({ bytes: w.bytes, header: parseSafetensors(w.path, w.bytes) }));
    expect(got.reduce((n, w) => n + w.header.tensors.size, 0)).toBe(want.tensors.size);
    for (const [name, entry] of want.tensors) {
      const from = got.find((w) => w.header.tensors.has(name));
      const e = from?.header.tensors.get(name);
      expect(e?.shape, name).toEqual(entry.shape);
      const slice = (bytes: Uint8Array, x: SafetensorsEntry) => bytes.subarray(x.begin, x.end);
      expect(slice(from!.bytes, e!), name).toEqual(slice(folder, entry));
    }
    const { result, g } = await runControlGolden('controlnet-canny', await controlNetFrom(part));
    expect(meanAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(0.05);
    expect(maxAbsDiff(result.image.pixels, g.image)).toBeLessThanOrEqual(2);
  }, 60_000);

  it('refuses a whole checkpoint and a file that is no ControlNet, saying what each is', () => {
    const sd15 = readJson<{ tensors: Record<string, number[]> }>(`${FIXTURES_DIR}single-file-headers/sd15.json`);
    expect(() => mapControlNet(headerOf('sd15.safetensors', sd15.tensors), 'sd15.safetensors')).toThrow(
      /sd15\.safetensors is a whole Stable Diffusion checkpoint, not a ControlNet/,
    );
    expect(() =>
      mapControlNet(headerOf('lora.safetensors', { 'lora_unet_x.lora_up.weight': [4, 4] }), 'lora.safetensors'),
    ).toThrow(/not a ControlNet: it has no input_hint_block/);
  });
});
