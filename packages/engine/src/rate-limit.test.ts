import { describe, expect, it } from 'vitest';
import { RateLimit } from './rate-limit.js';

/** A limit on a clock the test moves, recording each wait instead of making it. */
function recorded(bytesPerSecond: number) {
  let now = 1_000_000;
  const waits: number[] = [];
  const limit = new RateLimit(bytesPerSecond, {
    clock: { now: () => now },
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return {
    limit,
    waits,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('RateLimit', () => {
  it('lets a quarter of a second of bytes through at once, then spaces the rest at the rate', async () => {
    const { limit, waits } = recorded(1000);
    await limit.take(250);
    expect(waits).toEqual([]);
    await limit.take(500);
    await limit.take(1000);
    expect(waits).toEqual([500, 1500]);
  });

  it('makes callers that come together wait in turn, each for the bytes before it and its own', async () => {
    const { limit, waits } = recorded(2000);
    await Promise.all([limit.take(1000), limit.take(1000), limit.take(1000)]);
    expect(waits).toEqual([250, 750, 1250]);
  });

  it('does not bank more than a quarter of a second of idle time', async () => {
    const { limit, waits, advance } = recorded(1000);
    await limit.take(1000);
    advance(60_000);
    await limit.take(2000);
    expect(waits).toEqual([750, 1750]);
  });

  it('counts the time that passed against what is owed', async () => {
    const { limit, waits, advance } = recorded(1000);
    await limit.take(1250);
    advance(600);
    await limit.take(500);
    expect(waits).toEqual([1000, 900]);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RateLimit(rate), String(rate)).toThrow(/positive number of bytes per second/);
    }
  });
});
