import { describe, expect, it } from 'vitest';
import { createInProcessWatchLeases } from './watch-leases.js';

describe('in-process watch leases', () => {
  it('gives a pair to one holder until its lease is released or runs out', async () => {
    let now = 1_000;
    const leases = createInProcessWatchLeases(() => now);
    expect(await leases.acquire('p', 'a', 100)).toBe(true);
    expect(await leases.acquire('p', 'b', 100)).toBe(false);
    expect(await leases.renew('p', 'b', 100)).toBe(false);
    now += 50;
    expect(await leases.renew('p', 'a', 100)).toBe(true);
    now += 90;
    expect(await leases.holder('p')).toBe('a');
    now += 20;
    expect(await leases.holder('p')).toBeNull();
    expect(await leases.acquire('p', 'b', 100)).toBe(true);
    expect(await leases.renew('p', 'a', 100)).toBe(false);
    await leases.release('p', 'a');
    expect(await leases.holder('p')).toBe('b');
    await leases.release('p', 'b');
    expect(await leases.holder('p')).toBeNull();
  });
});
