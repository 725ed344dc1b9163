import { JOB_ANSWERS, JOBS, type JobAnswer, type JobName, SYNC_QUEUE } from '@syncengine/contracts';
import { assertValidCron, formatDuration, JobNotAnsweredError, type JobQueue } from '@syncengine/runs';
import { type JobsOptions, Queue, QueueEvents } from 'bullmq';
import {
  CONSUMER_OPTIONS,
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
  /** How long `request` waits for an answer, where it differs from the job's `timeoutMs` (tests). */
  answerTimeoutMs?: number;
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
  /** Where answers arrive: one listener per queue, on its own (blocking) connection, made on first use. */
  const answerStreams = new Map<string, QueueEvents>();
  let isClosed = false;

  const answersOf = (name: JobName): QueueEvents => {
    const queueName = JOBS[name].queue;
    let events = answerStreams.get(queueName);
    if (!events) {
      const connection = openRedis(options.connection, CONSUMER_OPTIONS, () => {
        // Reported once through the client's error listener.
      });
      events = new QueueEvents(queueName, { connection, prefix });
      events.on('error', () => {});
      answerStreams.set(queueName, events);
    }
    return events;
  };

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
    // The job's return value is the answer; a job nobody answers in time is removed, so a
    // worker that comes later does not work for nobody.
    async request(name, payload) {
      const data = JOBS[name].payload.parse(payload);
      await ready(`cannot request ${name}`);
      const queue = queueFor(name);
      if ((await queue.getWorkersCount()) === 0) {
        throw new JobNotAnsweredError(`no worker is connected to answer ${name} jobs`);
      }
      const events = answersOf(name);
      const waitMs = options.answerTimeoutMs ?? JOBS[name].timeoutMs;
      const job = await queue.add(name, data, {
        ...jobOptions(name),
        removeOnComplete: { age: 60 },
        removeOnFail: { age: 3_600 },
      });
      let answer: unknown;
      try {
        answer = await job.waitUntilFinished(events, waitMs);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('Job wait')) throw error;
        await job.remove().catch(() => {});
        throw new JobNotAnsweredError(`no worker answered the ${name} job within ${formatDuration(waitMs)}`);
      }
      return JOB_ANSWERS[name].parse(answer) as JobAnswer<typeof name>;
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
      for (const events of answerStreams.values()) await events.close().catch(() => {});
      for (const queue of queues.values()) await queue.close().catch(() => {});
      await closeRedis(client);
    },
  };
}

/** Queue names of the catalog (each BullMQ worker consumes one). */
export const QUEUE_NAMES: string[] = [...new Set(Object.values(JOBS).map((job) => job.queue))];
export { SYNC_QUEUE };
