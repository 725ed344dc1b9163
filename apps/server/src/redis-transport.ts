import { createPostgresPairLock, type PairLock } from '@syncengine/db';
import {
  type BullWorker,
  createBullQueue,
  createBullWorker,
  createRedisEventBus,
  createRedisWatchLeases,
  openRedis,
  PRODUCER_OPTIONS,
} from '@syncengine/queue-redis';
import type { EventBus, JobHandlerSet, JobQueue, WatchLeases } from '@syncengine/runs';
import type { Redis } from 'ioredis';

/** How long a shared count may wait for Redis before the process counts on its own (ms). */
const COUNTER_TIMEOUT_MS = 1_000;

type Log = { info(message: string): void; warn(message: string): void; error(message: string): void };

/**
 * The queue and bus on Redis (BullMQ producer, pub/sub bus), for a server whose runs
 * execute on BullMQ workers, a client for the counts all server processes share
 * (failed sign-ins), and the watch leases (whose states the pair status reads). Enqueueing and counting fail fast while Redis is down.
 */
export async function createRedisTransport(options: { redisUrl: string; prefix: string; log: Log }): Promise<{
  queue: JobQueue;
  bus: EventBus;
  counters: { redis: Redis; prefix: string };
  watchLeases: WatchLeases;
}> {
  const bus = createRedisEventBus({ connection: options.redisUrl, prefix: options.prefix, log: options.log });
  await bus.ready();
  const queue = createBullQueue({ connection: options.redisUrl, prefix: options.prefix, log: options.log });
  let lastError = '';
  // A Redis that hangs (connected, answering nothing) must not hold sign-ins up: a count it
  // has not answered within a second is kept in this process instead.
  const counterOptions = { ...PRODUCER_OPTIONS, commandTimeout: COUNTER_TIMEOUT_MS };
  const redis = openRedis(options.redisUrl, counterOptions, (error) => {
    if (error.message !== lastError) options.log.warn(`shared counters: Redis error: ${error.message}`);
    lastError = error.message;
  });
  redis.on('ready', () => {
    lastError = '';
  });
  const watchLeases = createRedisWatchLeases({
    connection: options.redisUrl,
    prefix: options.prefix,
    log: options.log,
  });
  return { queue, bus, counters: { redis, prefix: options.prefix }, watchLeases };
}

/**
 * A BullMQ worker inside the server process (`SYNCENGINE_EMBEDDED_WORKER=true` with
 * REDIS_URL), executing the same job handlers as `apps/worker`. With Postgres, runs hold
 * the pair's advisory lock like on a separate worker.
 */
export async function startEmbeddedBullWorker(options: {
  redisUrl: string;
  prefix: string;
  databaseUrl: string | undefined;
  concurrency: number;
  /** The job handlers, and what records a job that failed for good on its run. */
  jobs: Pick<JobHandlerSet, 'handlers' | 'onFailed'>;
  log: Log;
}): Promise<{ close(): Promise<void> }> {
  const pairLock: PairLock | undefined = options.databaseUrl
    ? createPostgresPairLock({ url: options.databaseUrl })
    : undefined;
  const worker: BullWorker = createBullWorker({
    connection: options.redisUrl,
    prefix: options.prefix,
    handlers: options.jobs.handlers,
    concurrency: options.concurrency,
    ...(pairLock ? { pairLock } : {}),
    log: options.log,
    onFailed: options.jobs.onFailed,
  });
  await worker.ready();
  return {
    async close() {
      await worker.close();
      await pairLock?.close();
    },
  };
}
