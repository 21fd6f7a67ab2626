import { describe, expect, it } from 'vitest';
import { centroidOf, colourName, fractionOf, shapeAndBackground, type ColourName } from '../../helpers/colour-names';

/** The colours python/train/scenes.py paints with: each must read back as its own name. */
const PALETTE: Record<ColourName, [number, number, number]> = {
  red: [220, 30, 30],
  orange: [245, 140, 20],
  yellow: [245, 225, 30],
  green: [40, 170, 50],
  blue: [30, 70, 220],
  purple: [140, 50, 190],
  pink: [245, 130, 190],
  white: [245, 245, 245],
  black: [20, 20, 20],
  grey: [128, 128, 128],
};

function image(width: number, height: number, paint: (x: number, y: number) => [number, number, number]) {
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set([...paint(x, y), 255], (y * width + x) * 4);
  return { width, height, pixels };
}

describe('colour names for the tests of meaning', () => {
  it('names every training colour as itself', () => {
    for (const [name, [r, g, b]] of Object.entries(PALETTE)) expect(colourName(r, g, b)).toBe(name);
  });

  it('tells neighbours apart: dark red is not black, light grey is white, cyan is blue', () => {
    expect(colourName(150, 20, 20)).toBe('red');
    expect(colourName(225, 225, 225)).toBe('white');
    expect(colourName(40, 200, 220)).toBe('blue');
    expect(colourName(200, 200, 40)).toBe('yellow');
  });

  it('measures regions: a yellow square in the top left of green', () => {
    const img = image(64, 64, (x, y) => (x < 24 && y < 24 ? PALETTE.yellow : PALETTE.green));
    expect(fractionOf(img, 'yellow', [0, 0, 0.5, 0.5])).toBeCloseTo(576 / 1024, 5);
    expect(fractionOf(img, 'yellow', [0.5, 0.5, 1, 1])).toBe(0);
    const c = centroidOf(img, 'yellow')!;
    expect(c.x).toBeCloseTo(12 / 64, 5);
    expect(c.y).toBeCloseTo(12 / 64, 5);
    expect(shapeAndBackground(img)).toMatchObject({ shape: 'yellow', background: 'green' });
    expect(centroidOf(img, 'red')).toBeNull();
  });

  it('reads a picture as a shape on a background', () => {
    const img = image(64, 64, (x, y) => (Math.hypot(x - 40, y - 20) < 12 ? PALETTE.red : PALETTE.blue));
    const seen = shapeAndBackground(img);
    expect(seen).toMatchObject({ shape: 'red', background: 'blue' });
    expect(seen.share).toBeCloseTo((Math.PI * 144) / 4096, 1);
  });
});
