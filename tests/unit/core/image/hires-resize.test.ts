/** Hires fix's upscalers against torch's bilinear interpolate and PIL's Lanczos (tests/fixtures/goldens/hires-resize.json). */
import { describe, expect, it } from 'vitest';
import { interpolateBilinear } from '../../../../src/core/math/interpolate';
import { tensor } from '../../../../src/core/math/tensor';
import { resizePil } from '../../../../src/core/image/resample';
import { readGolden } from '../../../helpers/goldens';

interface Golden {
  latentInput: { dims: number[]; data: number[] };
  latent: { dims: number[]; data: number[] }[];
  lanczosInput: { width: number; height: number; pixels: number[] };
  lanczos: { width: number; height: number; pixels: number[] }[];
}
const golden = readGolden<Golden>('hires-resize.json');

describe('hires fix upscalers', () => {
  it.each(golden.latent.map((g) => [g.dims.slice(2).join('×'), g] as const))(
    'latents resized bilinearly to %s equal torch.nn.functional.interpolate',
    (_, g) => {
      const x = tensor(Float32Array.from(golden.latentInput.data), golden.latentInput.dims);
      const out = interpolateBilinear(x, g.dims[2]!, g.dims[3]!);
      expect(out.dims).toEqual(g.dims);
      const worst = Math.max(...Array.from(out.data, (v, i) => Math.abs(v - g.data[i]!)));
      expect(worst).toBeLessThan(1e-6);
    },
  );

  it.each(golden.lanczos.map((g) => [`${g.width}×${g.height}`, g] as const))(
    "a picture resized with Lanczos to %s is PIL's within one level",
    (_, g) => {
      const input = golden.lanczosInput;
      const out = resizePil(
        { width: input.width, height: input.height, pixels: Uint8ClampedArray.from(input.pixels) },
        g.width,
        g.height,
        'lanczos',
      );
      const diffs = Array.from(out.pixels, (v, i) => Math.abs(v - g.pixels[i]!));
      // PIL works in fixed point (22 fraction bits), so a value can round the other way.
      expect(Math.max(...diffs)).toBeLessThanOrEqual(1);
      expect(diffs.reduce((a, b) => a + b, 0) / diffs.length).toBeLessThan(0.05);
    },
  );
});
