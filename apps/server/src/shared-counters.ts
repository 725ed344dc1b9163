import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

type Counted = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Counted) => void;
/** A counter store as `@fastify/rate-limit` uses it. */
interface CounterStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(options: unknown): CounterStore;
}
type StoreConstructor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  ...rest: unknown[]
) => CounterStore;

// The plugin's own two stores: counts kept in Redis (shared by every server process), and
// counts kept in this process.
const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreConstructor;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreConstructor;

/** After Redis failed to answer a count, counts skip it for this long (ms). */
const SHARED_RETRY_AFTER_MS = 5_000;

class SharedCounters implements CounterStore {
  constructor(
    private readonly shared: CounterStore,
    private readonly local: CounterStore,
    /**
     * Until when Redis is passed over, shared by a store and its children. A Redis that hangs
     * costs one timed-out count every few seconds rather than every request a wait.
     */
    private readonly outage = { until: 0 },
  ) {}
  private count(call: (store: CounterStore, callback: Callback) => void, callback: Callback): void {
    if (Date.now() < this.outage.until) {
      call(this.local, callback);
      return;
    }
    call(this.shared, (error, result) => {
      if (!error) {
        callback(null, result);
        return;
      }
      this.outage.until = Date.now() + SHARED_RETRY_AFTER_MS;
      call(this.local, callback);
    });
  }
  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.count((store, done) => store.incr(key, done, timeWindow, max), callback);
  }
  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.count((store, done) => store.read(key, done, timeWindow, max), callback);
  }
  child(options: unknown): CounterStore {
    return new SharedCounters(this.shared.child(options), this.local.child(options), this.outage);
  }
}

/**
 * A `@fastify/rate-limit` store whose counts live in Redis under `keyPrefix`, so that every
 * server process of a deployment counts the same attempts (N API replicas do not allow N
 * times as many). While Redis cannot answer (down, or not answering within the client's
 * command timeout), each process counts on its own rather than not at all, and rather than
 * refusing every request; it tries Redis again a few seconds later.
 */
export function sharedCounterStore(
  redis: Redis,
  keyPrefix: string,
): new (params: {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
}) => CounterStore {
  return class extends SharedCounters {
    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const { continueExceeding = false, exponentialBackoff = false } = params;
      super(
        new RedisStore(continueExceeding, exponentialBackoff, redis, keyPrefix),
        new LocalStore(continueExceeding, exponentialBackoff),
      );
    }
  };
}
