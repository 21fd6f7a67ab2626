/** The run's seeds: A1111's −1 and batch counts. */
import { describe, expect, it } from 'vitest';
import { batchSeeds, seedForRun } from '../../../src/app/generation';

describe('seedForRun', () => {
  it('draws a new seed for −1 and keeps any other text as typed', () => {
    expect(seedForRun('-1', () => 123456789012345n)).toBe('123456789012345');
    expect(seedForRun(' -1 ', () => 5n)).toBe('5');
    expect(seedForRun('42', () => 5n)).toBe('42');
    // Anything else is the seed check's to refuse, with its own message.
    expect(seedForRun('-2', () => 5n)).toBe('-2');
  });
});

describe('batchSeeds', () => {
  it('counts up from the first seed, wrapping past 2^64 − 1 to 0', () => {
    expect(batchSeeds('7', 3)).toEqual(['7', '8', '9']);
    expect(batchSeeds('18446744073709551614', 3)).toEqual(['18446744073709551614', '18446744073709551615', '0']);
    expect(batchSeeds('5', 1)).toEqual(['5']);
  });
});
