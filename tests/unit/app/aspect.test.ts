import { describe, expect, it } from 'vitest';
import { ASPECT_RATIOS, aspectSize } from '../../../src/app/aspect';

describe('aspect-ratio presets', () => {
  it('keep about the native area in multiples of 64, landscape', () => {
    expect(ASPECT_RATIOS.map((r) => aspectSize(512, r))).toEqual([
      { width: 512, height: 512 },
      { width: 576, height: 448 },
      { width: 640, height: 448 },
      { width: 704, height: 384 },
    ]);
    expect(aspectSize(768, [16, 9])).toEqual({ width: 1024, height: 576 });
    expect(aspectSize(64, [16, 9])).toEqual({ width: 64, height: 64 });
  });
});
