import { describe, expect, it } from 'vitest';
import { MAX_SEED, parseSeed, TorchGenerator } from '../../../../src/core/math/random';
import { readGolden } from '../../../helpers/goldens';

interface RandnCase {
  seed_str: string;
  shape: number[];
  kind?: 'rand';
  values?: number[];
  head?: number[];
  tail?: number[];
  sum?: number;
  then_randn_5?: number[];
}

const golden = readGolden<{ cases: RandnCase[] }>('torch-randn.json');

function maxAbs(actual: ArrayLike<number>, expected: ArrayLike<number>, offset = 0): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[offset + i]! - expected[i]!));
  return worst;
}

describe('TorchGenerator matches torch.Generator().manual_seed(seed)', () => {
  it.each(
    golden.cases.map((c) => [`${c.kind ?? 'randn'} seed ${c.seed_str} shape [${c.shape.join(',')}]`, c] as const),
  )('%s', (_label, c) => {
    const count = c.shape.reduce((a, b) => a * b, 1);
    const generator = new TorchGenerator(BigInt(c.seed_str));
    const values = c.kind === 'rand' ? generator.rand(count) : generator.randn(count);
    expect(values).toHaveLength(count);
    if (c.values) expect(maxAbs(values, c.values)).toBeLessThanOrEqual(1e-6);
    if (c.head) expect(maxAbs(values, c.head)).toBeLessThanOrEqual(1e-6);
    if (c.tail) expect(maxAbs(values, c.tail, count - c.tail.length)).toBeLessThanOrEqual(1e-6);
    if (c.sum !== undefined) expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(c.sum, 2);
    // The state advances as torch's does: the next draw continues the same stream.
    if (c.then_randn_5) expect(maxAbs(generator.randn(5), c.then_randn_5)).toBeLessThanOrEqual(1e-6);
  });

  it('keeps only the low 32 bits of a 64-bit seed, as torch does', () => {
    expect(new TorchGenerator(2n ** 32n + 7n).randn(20)).toEqual(new TorchGenerator(7).randn(20));
    expect(new TorchGenerator(MAX_SEED).randn(3)).toEqual(new TorchGenerator(0xffffffff).randn(3));
  });

  it('rejects seeds it cannot represent', () => {
    expect(() => new TorchGenerator(-1)).toThrow(RangeError);
    expect(() => new TorchGenerator(MAX_SEED + 1n)).toThrow(RangeError);
    expect(() => new TorchGenerator(2 ** 60)).toThrow(/bigint/);
    expect(parseSeed('18446744073709551615')).toBe(MAX_SEED);
    expect(parseSeed('18446744073709551616')).toBeNull();
    expect(parseSeed('12a')).toBeNull();
  });
});
