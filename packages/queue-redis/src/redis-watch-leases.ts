import { type PairWatchState, PairWatchStateSchema } from '@syncengine/contracts';
import type { WatchLeases } from '@syncengine/runs';
import { DEFAULT_PREFIX } from './bull-queue.js';
import { closeRedis, openRedis, type RedisConnection } from './connection.js';

/** Extends the lease only while `holder` still holds it (a compare-and-expire). */
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lease only while `holder` still holds it. */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RedisWatchLeasesOptions {
  connection: RedisConnection;
  /** Key prefix; the processes of one deployment share it (default as the job queue's). */
  prefix?: string;
  log?: { warn(message: string): void };
}

/**
 * Watch leases in Redis: one key per watched pair holding its holder's name, with the
 * lease time as its expiry (`SET NX PX`); renewing and releasing check the holder first,
 * in one script, so a holder that lost its lease cannot extend or delete its successor's.
 * Each holder's report of the watch is a key with the same lifetime.
 */
export function createRedisWatchLeases(options: RedisWatchLeasesOptions): WatchLeases {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  let lastError = '';
  const client = openRedis(options.connection, { maxRetriesPerRequest: 1 }, (error) => {
    if (error.message !== lastError) options.log?.warn(`watch leases: Redis error: ${error.message}`);
    lastError = error.message;
  });
  const leaseKey = (pairId: string) => `${prefix}:watch:lease:${pairId}`;
  const stateKey = (pairId: string) => `${prefix}:watch:state:${pairId}`;
  return {
    async acquire(pairId, holder, ttlMs) {
      const set = await client.set(leaseKey(pairId), holder, 'PX', ttlMs, 'NX');
      if (set === 'OK') return true;
      return (await client.eval(RENEW_SCRIPT, 1, leaseKey(pairId), holder, String(ttlMs))) === 1;
    },
    async renew(pairId, holder, ttlMs) {
      return (await client.eval(RENEW_SCRIPT, 1, leaseKey(pairId), holder, String(ttlMs))) === 1;
    },
    async release(pairId, holder) {
      await client.eval(RELEASE_SCRIPT, 1, leaseKey(pairId), holder);
    },
    async holder(pairId) {
      return client.get(leaseKey(pairId));
    },
    async putState(pairId, state, ttlMs) {
      await client.set(stateKey(pairId), JSON.stringify(state), 'PX', ttlMs);
    },
    async getState(pairId): Promise<PairWatchState | null> {
      const raw = await client.get(stateKey(pairId));
      if (raw === null) return null;
      try {
        const parsed = PairWatchStateSchema.safeParse(JSON.parse(raw));
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    async deleteState(pairId) {
      await client.del(stateKey(pairId));
    },
    async close() {
      await closeRedis(client);
    },
  };
}
