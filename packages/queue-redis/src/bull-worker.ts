import { isJobName, JOBS, type JobName, PREVIEW_QUEUE, SYNC_QUEUE } from '@syncengine/contracts';
import { type HeldPairLock, isDatabaseUnavailable, type PairLock, PairLockLostError } from '@syncengine/db';
import { scrubbedMessage, scrubSecrets } from '@syncengine/engine';
import {
  type JobContext,
  type JobHandlers,
  type JobTimeouts,
  startJobTimer,
  UnrecoverableJobError,
} from '@syncengine/runs';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { z } from 'zod';
import { DEFAULT_PREFIX } from './bull-queue.js';
import { CONSUMER_OPTIONS, closeRedis, openRedis, type RedisConnection } from './connection.js';

export interface BullWorkerOptions {
  connection: RedisConnection;
  /** Must match the producer's prefix. */
  prefix?: string;
  handlers: JobHandlers;
  /** Jobs executed at once by this worker. */
  concurrency: number;
  /** Previews answered at once by this worker, beside its runs (default 2). */
  previewConcurrency?: number;
  /**
   * Keeps two workers from running the same pair at once (a stalled job picked up while
   * its first worker still runs it, racing deliveries). Without one, only the database's
   * one-active-run-per-pair rule applies.
   */
  pairLock?: PairLock;
  /** How long a job waits before trying again when its pair is busy (ms). */
  busyRetryDelayMs?: number;
  /**
   * How long a job waits before trying again when the database is unreachable or its run
   * lost its pair lock (ms). Such tries use up no attempt: the run resumes once it can.
   */
  outageRetryDelayMs?: number;
  /** Time limits that differ from the catalog's `timeoutMs`. */
  timeouts?: JobTimeouts;
  /**
   * How long a worker's claim on a job lasts without renewal (ms). A worker that dies is
   * noticed after this long, and its job handed to another worker.
   */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (ms). */
  stalledIntervalMs?: number;
  /**
   * Called when a job has failed for good (no retries left, or unrecoverable), with its
   * parsed payload when there is one, so the caller can record the failure on the run.
   */
  onFailed?: (failure: { name: string; payload: unknown; error: Error }) => Promise<void> | void;
  log?: { info?(message: string): void; warn(message: string): void; error(message: string): void };
}

export interface BullWorker {
  /** The consumer of the sync jobs (runs, schedules, restores). */
  readonly worker: Worker;
  /** The consumer of the previews, apart so a preview never waits behind runs. */
  readonly previewWorker: Worker;
  /** Resolves once the worker is connected and taking jobs. */
  ready(): Promise<void>;
  /** Stops taking jobs and waits for the running ones to finish (`worker.close()`). */
  close(): Promise<void>;
  /**
   * Stops at once and hands the running jobs back to the queue, so another worker resumes
   * them without waiting for the stalled-job check. Their handlers are not stopped: the
   * caller must end the process right after (which also drops its pair locks), or another
   * worker could resume a run still executing here.
   */
  abandon(): Promise<{ handedBack: number }>;
}

/**
 * `error` with the secrets of its message and stack removed, as BullMQ may keep it: BullMQ
 * stores a failed job's `message` (its `failedReason`) and `stack` in Redis, where anyone
 * with access to Redis reads them. The error itself is scrubbed, so its class (which tells
 * BullMQ whether to retry) and the error that `onFailed` receives stay the same.
 */
function scrubbedForQueue(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(scrubSecrets(String(error)));
  if (error instanceof DelayedError) return error;
  try {
    error.message = scrubSecrets(error.message);
    if (error.stack) error.stack = scrubSecrets(error.stack);
    return error;
  } catch {
    // A frozen error: a plain copy under the same name keeps BullMQ's name checks working.
    const copy = new Error(scrubSecrets(error.message));
    copy.name = error.name;
    copy.stack = error.stack ? scrubSecrets(error.stack) : copy.stack;
    return copy;
  }
}

/** The pair a job is about, when it must run alone for its pair. */
function exclusiveKey(name: JobName, payload: unknown): string | null {
  return name === 'sync-run' ? (payload as { pairId: string }).pairId : null;
}

/**
 * A BullMQ consumer of the job catalog. Payloads are parsed again here (a job that does not
 * parse fails without retries, as does an UnrecoverableJobError from a handler); other
 * errors are retried as the catalog says. Sync runs hold their pair's lock while they run;
 * a run whose pair is busy waits, without using up an attempt.
 */
export function createBullWorker(options: BullWorkerOptions): BullWorker {
  const log = options.log;
  const busyRetryDelayMs = options.busyRetryDelayMs ?? 500;
  const outageRetryDelayMs = options.outageRetryDelayMs ?? 2_000;
  let lastError = '';
  const client = openRedis(options.connection, CONSUMER_OPTIONS, (error) => {
    if (error.message !== lastError) log?.warn(`worker: Redis error: ${error.message}`);
    lastError = error.message;
  });

  /** Jobs being processed now, with the lock token each was taken with. */
  const active = new Map<string, { job: Job; token: string | undefined }>();

  /** Runs the job's handler; its answer (a preview's) is the job's return value. */
  const process = async (job: Job, token?: string): Promise<unknown> => {
    const name = job.name;
    if (!isJobName(name)) throw new UnrecoverableError(`unknown job "${name}"`);
    const parsed = JOBS[name].payload.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`invalid ${name} payload: ${z.prettifyError(parsed.error)}`);
    }
    const payload = parsed.data;
    /** Tries again after `delayMs` without spending an attempt. */
    const later = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    };
    const key = exclusiveKey(name, payload);
    let held: HeldPairLock | null = null;
    if (key !== null && options.pairLock) {
      try {
        held = await options.pairLock.tryAcquire(key);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        log?.warn(`job ${job.id}: the database is unreachable (${scrubbedMessage(error)}); trying again`);
        return later(outageRetryDelayMs);
      }
      // Someone else is running this pair; look again shortly.
      if (held === null) return later(busyRetryDelayMs);
    }
    const activeKey = job.id ?? String(job.timestamp);
    active.set(activeKey, { job, token });
    const timer = startJobTimer(name, options.timeouts);
    const context: JobContext = held
      ? { signal: AbortSignal.any([timer.signal, held.signal]), lockEpoch: held.epoch }
      : { signal: timer.signal };
    try {
      const handler = options.handlers[name] as (payload: unknown, context: JobContext) => Promise<unknown>;
      return await handler(payload, context);
    } catch (error) {
      if (error instanceof UnrecoverableJobError) throw new UnrecoverableError(error.message);
      // Not the job's fault: it resumes once the database is back and the pair is free.
      if (error instanceof PairLockLostError || isDatabaseUnavailable(error)) {
        log?.warn(`job ${job.id} stopped: ${scrubbedMessage(error)}; trying again`);
        await later(outageRetryDelayMs);
      }
      throw error;
    } finally {
      timer.stop();
      active.delete(activeKey);
      await held
        ?.release()
        .catch((error: Error) => log?.warn(`could not release the lock of pair ${key}: ${error.message}`));
    }
  };

  // The one way out of a handler to BullMQ: nothing it stores may hold a secret.
  const processScrubbed = (job: Job, token?: string): Promise<unknown> =>
    process(job, token).catch((error: unknown) => {
      throw scrubbedForQueue(error);
    });

  const consumerOptions = {
    connection: client,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledInterval: options.stalledIntervalMs } : {}),
  };
  const worker = new Worker(SYNC_QUEUE, processScrubbed, {
    ...consumerOptions,
    concurrency: options.concurrency,
    // A job whose worker died twice is failed rather than handed around forever.
    maxStalledCount: 2,
  });
  // A preview whose worker died is not handed on: its caller has stopped waiting by then.
  const previewWorker = new Worker(PREVIEW_QUEUE, processScrubbed, {
    ...consumerOptions,
    concurrency: options.previewConcurrency ?? 2,
    maxStalledCount: 0,
  });
  for (const consumer of [worker, previewWorker]) {
    consumer.on('error', (error) => {
      if (error.message !== lastError) log?.warn(`worker: ${error.message}`);
    });
  }
  worker.on('failed', (job, error) => {
    if (!job || error instanceof DelayedError) return;
    void (async () => {
      const isFinal = error instanceof UnrecoverableError || (await job.isFailed().catch(() => false));
      log?.warn(`job ${job.name} ${job.id} failed${isFinal ? '' : ', will retry'}: ${error.message}`);
      if (!isFinal || !options.onFailed) return;
      const parsed = isJobName(job.name) ? JOBS[job.name].payload.safeParse(job.data) : null;
      await options.onFailed({ name: job.name, payload: parsed?.success ? parsed.data : null, error });
    })().catch((failure: Error) =>
      log?.error(`could not record the failure of job ${job.id}: ${failure.message}`),
    );
  });

  let isClosed = false;
  return {
    worker,
    previewWorker,
    ready: () => Promise.all([worker.waitUntilReady(), previewWorker.waitUntilReady()]).then(() => {}),
    async close() {
      if (isClosed) return;
      isClosed = true;
      await Promise.all([worker.close(), previewWorker.close()]);
      await closeRedis(client);
    },
    async abandon() {
      isClosed = true;
      // Stop fetching first, so nothing new starts while the running jobs are handed back.
      const closing = Promise.all([worker.close(true), previewWorker.close(true)]).catch(() => {});
      let handedBack = 0;
      for (const { job, token } of [...active.values()]) {
        try {
          await job.moveToWait(token);
          handedBack += 1;
        } catch (error) {
          log?.warn(
            `could not hand job ${job.id} back: ${(error as Error).message}; it resumes after the stalled-job check`,
          );
        }
      }
      // The caller ends the process now; waiting for the close would let handed-back runs go on here.
      void closing.finally(() => client.disconnect());
      return { handedBack };
    },
  };
}
