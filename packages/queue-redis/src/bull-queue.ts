import { JOBS, type JobName, SYNC_QUEUE } from '@syncengine/contracts';
import { assertValidCron, type JobQueue } from '@syncengine/runs';
import { type JobsOptions, Queue } from 'bullmq';
import {
  closeRedis,
  openRedis,
  PRODUCER_OPTIONS,
  type RedisConnection,
  RedisUnavailableError,
  whenReady,
} from './connection.js';

/** BullMQ's key prefix when none is given. */
export const DEFAULT_PREFIX = 'syncengine';

export interface BullQueueOptions {
  connection: RedisConnection;
  /**
   * Prefix of every BullMQ key. Deployments (and test files) sharing one Redis use
   * different prefixes; workers must use the same one as the API.
   */
  prefix?: string;
  /** How long an enqueue waits for a connection that is still being made (ms). */
  connectTimeoutMs?: number;
  log?: { warn(message: string): void };
}

/** A `JobQueue` on BullMQ, with the underlying queues for inspection (tests, tooling). */
export interface BullJobQueue extends JobQueue {
  readonly driver: 'bullmq';
  readonly prefix: string;
  /** The BullMQ queue a job name goes to. */
  queueFor(name: JobName): Queue;
}

/** The id of the job scheduler that fires a pair's cron schedule. */
export const scheduleId = (pairId: string) => `pair-schedule:${pairId}`;

/** Retry and retention settings of a job, from the catalog. */
export function jobOptions(name: JobName): JobsOptions {
  const definition = JOBS[name];
  return {
    attempts: definition.attempts,
    backoff: { type: definition.backoff.type, delay: definition.backoff.delayMs },
    // Finished jobs are history in Postgres; Redis keeps a little for inspection.
    removeOnComplete: { age: 3_600, count: 1_000 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
  };
}

/**
 * The producer side of BullMQ: the API enqueues here and never consumes. Its Redis
 * connection has the offline queue disabled, so while Redis is down `enqueue` rejects
 * with a RedisUnavailableError instead of hanging; the caller fails the run visibly.
 * Cron schedules are BullMQ job schedulers, one per pair.
 */
export function createBullQueue(options: BullQueueOptions): BullJobQueue {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  let lastError = '';
  const client = openRedis(options.connection, PRODUCER_OPTIONS, (error) => {
    if (error.message !== lastError) options.log?.warn(`job queue: Redis error: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => {
    lastError = '';
  });
  const queues = new Map<string, Queue>();
  let isClosed = false;

  const queueFor = (name: JobName): Queue => {
    const queueName = JOBS[name].queue;
    let queue = queues.get(queueName);
    if (!queue) {
      queue = new Queue(queueName, { connection: client, prefix });
      queue.on('error', () => {
        // Reported once through the client's error listener.
      });
      queues.set(queueName, queue);
    }
    return queue;
  };

  const ready = async (what: string) => {
    if (isClosed) throw new RedisUnavailableError(`${what}: the job queue is closed`);
    await whenReady(client, what, connectTimeoutMs);
  };

  return {
    driver: 'bullmq',
    prefix,
    queueFor,
    async enqueue(name, payload, enqueueOptions = {}) {
      const data = JOBS[name].payload.parse(payload);
      await ready(`cannot enqueue ${name}`);
      await queueFor(name).add(name, data, {
        ...jobOptions(name),
        ...(enqueueOptions.jobId !== undefined ? { jobId: enqueueOptions.jobId } : {}),
      });
    },
    async upsertSchedule(pairId, cron) {
      assertValidCron(cron);
      await ready('cannot schedule the pair');
      await queueFor('scheduled-sync').upsertJobScheduler(
        scheduleId(pairId),
        { pattern: cron },
        { name: 'scheduled-sync', data: { pairId }, opts: jobOptions('scheduled-sync') },
      );
    },
    async removeSchedule(pairId) {
      await ready('cannot remove the schedule');
      await queueFor('scheduled-sync').removeJobScheduler(scheduleId(pairId));
    },
    async isHealthy() {
      try {
        await ready('health check');
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async countWorkers() {
      await ready('cannot count the workers');
      return queueFor('sync-run').getWorkersCount();
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      for (const queue of queues.values()) await queue.close().catch(() => {});
      await closeRedis(client);
    },
  };
}

/** Queue names of the catalog (each BullMQ worker consumes one). */
export const QUEUE_NAMES: string[] = [...new Set(Object.values(JOBS).map((job) => job.queue))];
export { SYNC_QUEUE };
