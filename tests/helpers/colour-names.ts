/**
 * Names of colours as the Shapes model's captions use them, read off pixels by hue, saturation and
 * value, and region statistics over RGBA images: what the tests of meaning look at.
 */
export const COLOUR_NAMES = [
  'red',
  'orange',
  'yellow',
  'green',
  'blue',
  'purple',
  'pink',
  'white',
  'black',
  'grey',
] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/** The colour a person would call this pixel (0..255 RGB). */
export function colourName(r: number, g: number, b: number): ColourName {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (s < 0.25) return v > 0.75 ? 'white' : v < 0.3 ? 'black' : 'grey';
  if (v < 0.2) return 'black';
  const d = max - min;
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h = (h * 60 + 360) % 360;
  // Pink is a light, less saturated red or a red-purple.
  // Red (hue 0) and orange (hue 32) as the captions paint them meet at 18.
  if ((h >= 300 && h < 345) || ((h >= 345 || h < 18) && s < 0.6 && v > 0.75)) return 'pink';
  if (h >= 345 || h < 18) return 'red';
  if (h < 45) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 170) return 'green';
  if (h < 255) return 'blue';
  return 'purple';
}

export interface Region {
  /** Fractions of the width and height: [x0, y0, x1, y1]. */
  box: readonly [number, number, number, number];
}

export const REGIONS = {
  leftHalf: [0, 0, 0.5, 1],
  rightHalf: [0.5, 0, 1, 1],
  whole: [0, 0, 1, 1],
} as const satisfies Record<string, Region['box']>;

/** The four corner squares, each `size` of the side. */
export function cornerBoxes(size = 0.12): [number, number, number, number][] {
  const f = 1 - size;
  return [
    [0, 0, size, size],
    [f, 0, 1, size],
    [0, f, size, 1],
    [f, f, 1, 1],
  ];
}

/** The fraction of the pixels in `box` whose colour is `name`. */
export function fractionOf(
  image: { width: number; height: number; pixels: Uint8Array },
  name: ColourName,
  box: readonly [number, number, number, number],
): number {
  const { width, height, pixels } = image;
  const [x0, y0, x1, y1] = [
    Math.floor(box[0] * width),
    Math.floor(box[1] * height),
    Math.ceil(box[2] * width),
    Math.ceil(box[3] * height),
  ];
  let hits = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * width + x) * 4;
      if (colourName(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!) === name) hits++;
    }
  }
  return hits / ((x1 - x0) * (y1 - y0));
}

/** The centre of mass of the pixels of one colour, as fractions of the side (null if none). */
export function centroidOf(
  image: { width: number; height: number; pixels: Uint8Array },
  name: ColourName,
): { x: number; y: number; count: number } | null {
  const { width, height, pixels } = image;
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (colourName(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!) === name) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  return n === 0 ? null : { x: (sx / n + 0.5) / width, y: (sy / n + 0.5) / height, count: n };
}

/**
 * How much of its bounding box one colour's pixels fill: a disc fills π/4 of it, an upright
 * square all of it, a triangle about half (0 if the colour is absent).
 */
export function fillOf(image: { width: number; height: number; pixels: Uint8Array }, name: ColourName): number {
  const { width, height, pixels } = image;
  let [x0, y0, x1, y1, n] = [width, height, -1, -1, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (colourName(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!) !== name) continue;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      n++;
    }
  }
  return n === 0 ? 0 : n / ((x1 - x0 + 1) * (y1 - y0 + 1));
}

/**
 * What a picture of one shape on a plain background shows: the background is the commonest colour
 * of the four corners, the shape the commonest other colour of the whole picture, with its share.
 */
export function shapeAndBackground(image: { width: number; height: number; pixels: Uint8Array }): {
  background: ColourName;
  shape: ColourName;
  share: number;
} {
  const corner = (name: ColourName) => cornerBoxes().reduce((sum, box) => sum + fractionOf(image, name, box), 0);
  const background = COLOUR_NAMES.reduce((a, b) => (corner(b) > corner(a) ? b : a));
  let shape: ColourName = background === 'grey' ? 'white' : 'grey';
  let share = -1;
  for (const name of COLOUR_NAMES) {
    if (name === background) continue;
    const f = fractionOf(image, name, REGIONS.whole);
    if (f > share) [shape, share] = [name, f];
  }
  return { background, shape, share };
}
