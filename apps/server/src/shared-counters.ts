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

class SharedCounters implements CounterStore {
  constructor(
    private readonly shared: CounterStore,
    private readonly local: CounterStore,
  ) {}
  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.shared.incr(
      key,
      (error, result) => (error ? this.local.incr(key, callback, timeWindow, max) : callback(null, result)),
      timeWindow,
      max,
    );
  }
  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.shared.read(
      key,
      (error, result) => (error ? this.local.read(key, callback, timeWindow, max) : callback(null, result)),
      timeWindow,
      max,
    );
  }
  child(options: unknown): CounterStore {
    return new SharedCounters(this.shared.child(options), this.local.child(options));
  }
}

/**
 * A `@fastify/rate-limit` store whose counts live in Redis under `keyPrefix`, so that every
 * server process of a deployment counts the same attempts (N API replicas do not allow N
 * times as many). While Redis cannot answer, each process counts on its own rather than
 * not at all, and rather than refusing every request.
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
