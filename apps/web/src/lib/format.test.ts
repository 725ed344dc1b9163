import { describe, expect, it } from 'vitest';
import { durationBetween, formatBytes, formatDuration, formatRate, percent } from './format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
    [150 * 1024 * 1024, '150 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows a dash for values that are not byte counts', () => {
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats a rate per second', () => {
    expect(formatRate(2 * 1024 * 1024)).toBe('2.0 MiB/s');
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [5_000, '5s'],
    [65_000, '1m 5s'],
    [3_600_000, '1h 0m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('measures between two timestamps and waits for the end', () => {
    expect(durationBetween('2025-01-01T00:00:00.000Z', '2025-01-01T00:01:00.000Z')).toBe(60_000);
    expect(durationBetween('2025-01-01T00:00:00.000Z', null)).toBeNull();
  });
});

describe('percent', () => {
  it('is bounded and safe for an empty total', () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(20, 10)).toBe(100);
    expect(percent(0, 0)).toBe(0);
    expect(percent(3, 0)).toBe(100);
  });
});
