/** ControlNets as a person names them, made into the worker's plan; and the worker's check of a run's ControlNets. */
import { describe, expect, it } from 'vitest';
import { parseHubListing } from '../../../src/models/hub-listing';
import { planBytes, planControlNet, planControlNetFile } from '../../../src/models/controlnet';
import { parseControlNetPlan } from '../../../src/protocol/parse-plan';
import { parseControl } from '../../../src/protocol/requests';

const HUB = 'https://huggingface.co';
const listing = (files: Record<string, number>) =>
  parseHubListing({
    sha: 'a'.repeat(40),
    siblings: Object.entries(files).map(([rfilename, size]) => ({ rfilename, size })),
  });

describe('ControlNet plans', () => {
  it('a hub repo: pinned to the listed commit, the fp16 variant with its size', () => {
    const plan = planControlNet(
      'lllyasviel/control_v11p_sd15_canny',
      HUB,
      listing({
        'config.json': 1_000,
        'diffusion_pytorch_model.fp16.safetensors': 722_598_616,
        'diffusion_pytorch_model.safetensors': 1_445_157_120,
      }),
    );
    expect(plan.id).toBe('controlnet:lllyasviel/control_v11p_sd15_canny@main');
    expect(plan.source.format).toBe('folder');
    if (plan.source.format !== 'folder') return;
    expect(plan.source.part.weights.map((w) => [w.path, w.size, w.convert])).toEqual([
      ['diffusion_pytorch_model.fp16.safetensors', 722_598_616, undefined],
    ]);
    expect(plan.source.part.config.url).toBe(
      `${HUB}/lllyasviel/control_v11p_sd15_canny/resolve/${'a'.repeat(40)}/config.json`,
    );
    expect(planBytes(plan)).toBe(722_598_616);
    // The plan crosses to the worker and is read there field by field.
    expect(parseControlNetPlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('a repo with float32 weights only: converted to fp16 as they download', () => {
    const plan = planControlNet(
      'lllyasviel/sd-controlnet-canny',
      HUB,
      listing({ 'config.json': 900, 'diffusion_pytorch_model.safetensors': 1_445_157_124 }),
    );
    if (plan.source.format !== 'folder') throw new Error('folder expected');
    expect(plan.source.part.weights[0]).toMatchObject({ path: 'diffusion_pytorch_model.safetensors', convert: 'fp16' });
  });

  it('a repo without safetensors weights, a folder URL, a file that is not safetensors', () => {
    expect(() =>
      planControlNet('someone/controlnet-bin', HUB, listing({ 'config.json': 1, 'diffusion_pytorch_model.bin': 2 })),
    ).toThrow(/no diffusion_pytorch_model\.safetensors/);
    const url = planControlNet('http://127.0.0.1:4173/cn/my-controlnet/', HUB, null);
    if (url.source.format !== 'folder') throw new Error('folder expected');
    expect(url.name).toBe('my-controlnet');
    expect(url.source.part.weights.map((w) => w.url)).toEqual([
      'http://127.0.0.1:4173/cn/my-controlnet/diffusion_pytorch_model.fp16.safetensors',
      'http://127.0.0.1:4173/cn/my-controlnet/diffusion_pytorch_model.safetensors',
    ]);
    expect(url.hosts).toContain('http://127.0.0.1:4173');
    expect(() => planControlNet('not a repo', HUB, null)).toThrow(/Enter a ControlNet repo id/);
    expect(() => planControlNetFile(new File([new Uint8Array(4)], 'control_sd15_canny.pth'))).toThrow(
      /not a \.safetensors file/,
    );
  });
});

describe("a run's ControlNets, checked at the worker's edge", () => {
  const image = { width: 8, height: 8, pixels: new Uint8ClampedArray(8 * 8 * 4).buffer };
  const good = { controlnet: 'c', image, scale: 1, start: 0, end: 1, preprocessor: 'canny' };
  it('names the setting at fault', () => {
    expect(parseControl([good])[0]).toMatchObject({ cannyLow: 100, cannyHigh: 200, preprocessor: 'canny' });
    expect(() => parseControl([{ ...good, scale: 3 }])).toThrow(/weight must be from 0 to 2/);
    expect(() => parseControl([{ ...good, start: 0.6, end: 0.5 }])).toThrow(/start \(0\.6\) must come before its end/);
    expect(() => parseControl([{ ...good, cannyLow: 210 }])).toThrow(/low threshold \(210\) is above its high one/);
    expect(() => parseControl([{ ...good, preprocessor: 'openpose' }])).toThrow(
      /preprocessor must be one of none, canny/,
    );
    expect(() => parseControl([good, good, good, good])).toThrow(/at most 3 ControlNets/);
  });
});
