/**
 * diffusers' pipeline runs (pipelines/*.json) made in float16 on the test bed through
 * `npm run generate`'s own loader, within 3/255 mean of diffusers' float32 image; and the command
 * itself: its JSON line, its PNG with the parameters chunk, its exit code and message on bad input.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../src/core/formats/png-text';
import { runPipeline } from '../../src/core/pipeline/generate';
import { loadNodeModel, type LoadedNodeModel } from '../../scripts/generate/load-model';
import { decodePng } from '../../scripts/node-gpu/png';
import { NETWORKS_DIR, type NetworkCase } from '../helpers/fixtures';
import { goldenRequest, meanAbsDiff, pipelineGoldens } from '../helpers/pipeline-goldens';
import { testBed } from '../helpers/test-bed';
import { loadCheckpoint } from '../helpers/checkpoint-models';

/** Every case: all seven runs take about a minute on lavapipe, sessions included. */
const CASES: NetworkCase[] = ['sd1', 'sd1-inpaint', 'sd2-depth', 'lcm'];

describe.each(CASES)('%s pipelines in float16 on WebGPU', (name) => {
  let model: LoadedNodeModel;
  beforeAll(async () => {
    const bed = await testBed();
    model = await loadNodeModel(`${NETWORKS_DIR}${name}`, {
      ort: bed.ort,
      create: bed.session,
      backend: 'webgpu',
      precision: 'float16',
    });
    expect(model.precision.unet).toBe('float16');
  }, 300_000);

  it.each(pipelineGoldens(name).map((g) => [g.run, g] as const))(
    '%s within 3/255 of diffusers',
    async (_run, golden) => {
      const result = await runPipeline(model.models, goldenRequest(golden), { schedulerConfig: model.schedulerConfig });
      const mean = meanAbsDiff(result.image.pixels, golden.image);
      console.log(`${name}/${golden.run}: fp16 on lavapipe ${mean.toFixed(3)}/255 mean from diffusers`);
      expect(mean).toBeLessThanOrEqual(3);
    },
  );
});

describe("A1111's long prompts on WebGPU", () => {
  it('a two-chunk prompt (154 tokens of context) runs in float16, within 3/255 of float32 on the CPU', async () => {
    const bed = await testBed();
    const model = await loadNodeModel(`${NETWORKS_DIR}sd1`, {
      ort: bed.ort,
      create: bed.session,
      backend: 'webgpu',
      precision: 'float16',
    });
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    const request = { ...goldenRequest(golden), prompt: `${'red '.repeat(90)}bicycle`, negativePrompt: 'blue' };
    const gpu = await runPipeline(model.models, request, { schedulerConfig: model.schedulerConfig });
    const cpu = await loadCheckpoint(`${NETWORKS_DIR}sd1/`);
    const reference = await runPipeline(cpu.models, request, { schedulerConfig: cpu.schedulerConfig });
    const rgb = Uint8Array.from(
      { length: (reference.image.pixels.length / 4) * 3 },
      (_, i) => reference.image.pixels[Math.floor(i / 3) * 4 + (i % 3)]!,
    );
    expect(meanAbsDiff(gpu.image.pixels, rgb)).toBeLessThanOrEqual(3);
  }, 300_000);
});

describe('sizes past one buffer binding', () => {
  it('are refused before anything runs, with the tensor and the limit in words', async () => {
    const bed = await testBed();
    const limit = bed.adapter.maxStorageBufferBindingSize;
    const model = await loadNodeModel(`${NETWORKS_DIR}sd1`, {
      ort: bed.ort,
      create: bed.session,
      backend: 'webgpu',
      precision: 'float16',
      maxBindingBytes: limit,
    });
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    // 1024×1024: the UNet's self-attention scores at 128×128 latents are 2·8·16384² float16 = 8 GiB,
    // past lavapipe's 128 MiB (run anyway, the VAE decoder alone came out 1.30 max relative off).
    const big = { ...goldenRequest(golden), width: 1024, height: 1024 };
    await expect(runPipeline(model.models, big, { schedulerConfig: model.schedulerConfig })).rejects.toThrow(
      /^At 1024×1024, the UNet's attention scores at 128×128 latents would be one 8\.0 GiB tensor, more than this GPU binds at once \(128 MiB, its maxStorageBufferBindingSize\)/,
    );
  }, 300_000);
});

const run = promisify(execFile);
const generate = (args: string[]) =>
  run('npx', ['tsx', 'scripts/generate/main.ts', ...args], { env: { ...process.env, LATENT_LAVAPIPE: '1' } });

describe('npm run generate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-'));
  const sd1 = `${NETWORKS_DIR}sd1`;
  const settings = `${sd1}/pipelines/txt2img-default.json`;

  it('writes the PNG with its parameters and prints one JSON line', async () => {
    const out = join(dir, 'a.png');
    const { stdout } = await generate(['--model', sd1, '--settings', settings, '--out', out, '--backend', 'wasm']);
    const line = JSON.parse(stdout.trim()) as { precision: { unet: string }; timings: { denoiseMs: number } };
    expect(line.precision.unet).toBe('float32');
    expect(line.timings.denoiseMs).toBeGreaterThan(0);
    const bytes = new Uint8Array(readFileSync(out));
    expect(readPngText(bytes).get('parameters')).toContain('Steps: 6, Sampler: PNDM, CFG scale: 7.5, Seed: 1012');
    const golden = pipelineGoldens('sd1').find((g) => g.run === 'txt2img-default')!;
    // onnxruntime-web's WASM in float32: measured 0.059/255 mean from diffusers.
    expect(meanAbsDiff(decodePng(bytes, out).rgba, golden.image)).toBeLessThanOrEqual(0.1);
  }, 120_000);

  it.each([
    ['a missing model folder', ['--model', join(dir, 'nowhere')], /nowhere does not exist/],
    ['an unknown scheduler', ['--settings', 'bad-scheduler'], /Scheduler must be one of/],
    ['fp16 on WASM', ['--backend', 'wasm', '--precision', 'fp16'], /needs --backend webgpu/],
  ])(
    '%s exits 1 with the reason',
    async (_what, change, message) => {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ prompt: 'x', num_inference_steps: 2, seed: 1, scheduler: 'plms' }));
      const args = {
        '--model': sd1,
        '--settings': settings,
        '--out': join(dir, 'b.png'),
        '--backend': 'wasm',
      } as Record<string, string>;
      for (let i = 0; i < change.length; i += 2)
        args[change[i]!] = change[i + 1] === 'bad-scheduler' ? bad : change[i + 1]!;
      const failed = await generate(Object.entries(args).flat()).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toMatch(message);
    },
    120_000,
  );
});
