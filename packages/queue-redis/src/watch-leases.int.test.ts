import { randomBytes, randomUUID } from 'node:crypto';
import type { PairWatchState } from '@syncengine/contracts';
import { canReachRedis, requireService, TEST_REDIS_URL } from '@syncengine/db/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisWatchLeases } from './redis-watch-leases.js';

const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));
const prefix = `watch-leases-test-${randomBytes(4).toString('hex')}`;

const state: PairWatchState = {
  isWatching: true,
  watchedBy: 'worker a',
  modes: { source: 'notify', destination: 'poll' },
  lastChangeAt: '2026-01-01T00:00:00.000Z',
  pendingChanges: 3,
  fallbackReason: null,
  lastRunAt: null,
  problem: null,
};

describe.skipIf(!hasRedis)('Redis watch leases', () => {
  // Two handles with their own connections, as two worker processes have.
  const first = createRedisWatchLeases({ connection: TEST_REDIS_URL, prefix });
  const second = createRedisWatchLeases({ connection: TEST_REDIS_URL, prefix });

  afterAll(async () => {
    const client = new Redis(TEST_REDIS_URL);
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
    await first.close();
    await second.close();
  });

  it('gives a pair to one holder at a time, and to another once the lease is released', async () => {
    const pairId = randomUUID();
    expect(await first.acquire(pairId, 'worker a', 30_000)).toBe(true);
    expect(await second.acquire(pairId, 'worker b', 30_000)).toBe(false);
    expect(await second.holder(pairId)).toBe('worker a');
    // Taking it again as its holder extends it.
    expect(await first.acquire(pairId, 'worker a', 30_000)).toBe(true);
    expect(await second.renew(pairId, 'worker b', 30_000)).toBe(false);
    expect(await first.renew(pairId, 'worker a', 30_000)).toBe(true);
    // Only the holder can release it.
    await second.release(pairId, 'worker b');
    expect(await first.holder(pairId)).toBe('worker a');
    await first.release(pairId, 'worker a');
    expect(await first.holder(pairId)).toBeNull();
    expect(await second.acquire(pairId, 'worker b', 30_000)).toBe(true);
  });

  it('lets another holder take a lease that was not renewed in time, and the old holder cannot renew it', async () => {
    const pairId = randomUUID();
    expect(await first.acquire(pairId, 'worker a', 300)).toBe(true);
    expect(await second.acquire(pairId, 'worker b', 300)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await second.acquire(pairId, 'worker b', 30_000)).toBe(true);
    expect(await first.renew(pairId, 'worker a', 30_000)).toBe(false);
    await first.release(pairId, 'worker a');
    expect(await first.holder(pairId)).toBe('worker b');
  });

  it("keeps a holder's watch state readable by other processes until it expires", async () => {
    const pairId = randomUUID();
    expect(await second.getState(pairId)).toBeNull();
    await first.putState(pairId, state, 30_000);
    expect(await second.getState(pairId)).toEqual(state);
    await first.putState(pairId, { ...state, pendingChanges: 0 }, 300);
    expect((await second.getState(pairId))?.pendingChanges).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await second.getState(pairId)).toBeNull();
    await first.putState(pairId, state, 30_000);
    await second.deleteState(pairId);
    expect(await first.getState(pairId)).toBeNull();
  });
});
