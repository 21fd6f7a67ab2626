/** A depth map as a depth ControlNet's picture: transformers' depth-estimation image (value × 255 / max, truncated). */
import { describe, expect, it } from 'vitest';
import { depthControlPicture } from '../../../../src/core/image/planes';

describe('depthControlPicture', () => {
  it('scales by the largest value and truncates, grey in three channels, nearer brighter', () => {
    const picture = depthControlPicture({ width: 4, height: 1, data: Float32Array.from([0, 1, 2, 4]) });
    const grey = Array.from({ length: 4 }, (_, i) => picture.pixels[4 * i]);
    expect(grey).toEqual([0, 63, 127, 255]);
    expect(Array.from(picture.pixels.subarray(4, 8))).toEqual([63, 63, 63, 255]);
  });
});
