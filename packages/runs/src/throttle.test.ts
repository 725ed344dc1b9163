import { afterEach, describe, expect, it, vi } from 'vitest';
import { createThrottle } from './throttle.js';

describe('createThrottle', () => {
  afterEach(() => vi.useRealTimers());

  it('sends at most once per interval, and the latest value at the end of it', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const throttle = createThrottle<number>(100, (value) => sent.push(value));
    for (let i = 1; i <= 50; i += 1) throttle.push(i);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([1, 50]);
    for (let i = 0; i < 10; i += 1) {
      throttle.push(100 + i);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(200);
    expect(sent.length).toBeLessThanOrEqual(4);
    expect(sent.at(-1)).toBe(109);
  });

  it('waits a whole interval after a send that went another way', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const throttle = createThrottle<number>(100, (value) => sent.push(value));
    throttle.markSent();
    throttle.push(1);
    throttle.push(2);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([2]);
  });
});
