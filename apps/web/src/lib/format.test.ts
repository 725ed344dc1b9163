import { describe, expect, it } from 'vitest';
import { durationBetween, formatDuration, percent } from './format.js';

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
