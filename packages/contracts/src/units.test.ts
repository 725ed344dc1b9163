import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatRate, plural } from './units.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [150 * 1024 * 1024, '150 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows a dash for values that are not byte counts', () => {
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('—');
  });

  it('formats a rate per second', () => {
    expect(formatRate(2 * 1024 * 1024)).toBe('2.0 MiB/s');
  });
});

describe('figures shared by the dashboard and the command line', () => {
  it('groups digits and picks the singular for one', () => {
    expect(formatCount(1_234_567)).toBe('1 234 567');
    expect(plural(1, 'conflict')).toBe('1 conflict');
    expect(plural(0, 'conflict')).toBe('0 conflicts');
    expect(plural(2_000, 'entry', 'entries')).toBe('2 000 entries');
  });
});
