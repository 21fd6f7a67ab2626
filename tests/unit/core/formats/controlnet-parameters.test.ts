/** ControlNets in the PNG parameters text, as A1111's ControlNet extension writes and reads them. */
import { describe, expect, it } from 'vitest';
import type { GenerationSettings } from '../../../../src/core/generation-settings';
import { formatParameters, parseParameters } from '../../../../src/core/formats/parameters-text';

const base: GenerationSettings = {
  prompt: 'a house',
  negativePrompt: '',
  guidanceScale: 7.5,
  steps: 20,
  seed: '42',
  width: 512,
  height: 512,
  scheduler: 'euler',
  model: 'sd15',
  mode: 'txt2img',
};

describe('ControlNet parameters', () => {
  it('writes each ControlNet as A1111 does and reads it back', () => {
    const settings: GenerationSettings = {
      ...base,
      controlnets: [
        {
          module: 'canny',
          model: 'lllyasviel/control_v11p_sd15_canny',
          weight: 0.8,
          start: 0,
          end: 0.5,
          cannyLow: 50,
          cannyHigh: 120,
        },
        { module: 'depth', model: 'control_depth', weight: 1, start: 0.1, end: 1 },
      ],
      guessMode: true,
    };
    const text = formatParameters(settings);
    expect(text).toContain(
      'ControlNet 0: "Module: canny, Model: lllyasviel/control_v11p_sd15_canny, Weight: 0.8, Threshold A: 50, Threshold B: 120, Guidance Start: 0, Guidance End: 0.5, Control Mode: ControlNet is more important"',
    );
    expect(text).toContain('ControlNet 1: "Module: depth_midas, Model: control_depth, Weight: 1, Guidance Start: 0.1');
    const parsed = parseParameters(text)!;
    expect(parsed.controlnets).toEqual(settings.controlnets);
    expect(parsed.guessMode).toBe(true);
    expect(parsed.notRestored).toBeUndefined();
  });

  it("reads A1111's own text: the model's hash kept in its name, other modules noted, empty units skipped", () => {
    const text = [
      'a house',
      'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, ' +
        'ControlNet 0: "Module: openpose_full, Model: control_v11p_sd15_openpose [cab727d4], Weight: 1, Resize Mode: Crop and Resize, Low Vram: False, Processor Res: 512, Guidance Start: 0, Guidance End: 1, Pixel Perfect: False, Control Mode: Balanced", ' +
        'ControlNet 1: "Module: none, Model: None, Weight: 1, Guidance Start: 0, Guidance End: 1"',
    ].join('\n');
    const parsed = parseParameters(text)!;
    expect(parsed.controlnets).toEqual([
      { module: 'none', model: 'control_v11p_sd15_openpose [cab727d4]', weight: 1, start: 0, end: 1 },
    ]);
    expect(parsed.guessMode).toBeUndefined();
    expect(parsed.notRestored).toEqual(['ControlNet 0 module: openpose_full (the picture is used as it is here)']);
  });
});
