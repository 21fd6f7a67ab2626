/** Canny edges against OpenCV 4's cv2.Canny (tests/fixtures/controlnet/sd1-canny/pipelines/canny.safetensors). */
import { describe, expect, it } from 'vitest';
import { canny, cannyPicture } from '../../../../src/core/image/canny';
import { CONTROLNET_DIR, readTensorFile } from '../../../helpers/fixtures';
import { rgbToRgba } from '../../../helpers/pipeline-goldens';

const file = readTensorFile(`${CONTROLNET_DIR}sd1-canny/pipelines/canny.safetensors`);
const pictures = [0, 1, 2].map((i) => {
  const [height, width] = file.shape(`picture.${i}`) as [number, number];
  return { width, height, pixels: rgbToRgba(file.u8(`picture.${i}`)) };
});
const cases = pictures.flatMap((_, i) =>
  [
    [100, 200],
    [50, 120],
  ].map(([low, high]) => ({ i, low: low!, high: high! })),
);

describe('canny', () => {
  it.each(cases)('picture $i at $low-$high equals cv2.Canny', ({ i, low, high }) => {
    const expected = file.u8(`edges.${i}.${low}-${high}`);
    const edges = canny(pictures[i]!, low, high);
    let same = 0;
    for (let k = 0; k < edges.length; k++) if (edges[k] === expected[k]) same++;
    const edgeCount = expected.reduce((n, v) => n + (v ? 1 : 0), 0);
    expect(edgeCount).toBeGreaterThan(0);
    expect(same / edges.length).toBeGreaterThanOrEqual(0.995);
    // Measured: every pixel of all six, in integers as OpenCV computes them.
    expect(edges.length - same).toBe(0);
  });

  it("makes the control picture of diffusers' controlnet-canny run from its source picture", () => {
    const run = readTensorFile(`${CONTROLNET_DIR}sd1-canny/pipelines/controlnet-canny.safetensors`);
    const [height, width] = run.shape('source_image') as [number, number];
    const source = { width, height, pixels: rgbToRgba(run.u8('source_image')) };
    expect(cannyPicture(source, 100, 200).pixels).toEqual(rgbToRgba(run.u8('control_image')));
  });

  it('swaps thresholds given the wrong way round, as OpenCV does, and gives a three-channel picture', () => {
    const p = pictures[0]!;
    expect(canny(p, 200, 100)).toEqual(canny(p, 100, 200));
    const picture = cannyPicture(p, 100, 200);
    const edges = canny(p, 100, 200);
    expect(picture.pixels[4 * 7 + 1]).toBe(edges[7]);
    expect(picture.pixels[3]).toBe(255);
  });
});
