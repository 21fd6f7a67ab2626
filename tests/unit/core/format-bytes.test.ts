/** Byte counts as the page shows them. */
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src/core/format-bytes';

describe('formatBytes', () => {
  it('says GiB, MiB or KiB, and nothing as 0', () => {
    expect(formatBytes(0)).toBe('0 KiB');
    expect(formatBytes(10)).toBe('1 KiB');
    expect(formatBytes(5 * 1024)).toBe('5 KiB');
    expect(formatBytes(3 * 2 ** 20)).toBe('3 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
  });
});
