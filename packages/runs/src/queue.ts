import { JOBS, type JobName, type JobPayload } from '@syncengine/contracts';
import { CronExpressionParser } from 'cron-parser';

/**
 * Where the API puts work. The server only enqueues; a consumer (the in-process runner,
 * or BullMQ workers) executes. Payloads are parsed against the job catalog on enqueue.
 */
export interface JobQueue {
  readonly driver: 'in-process' | 'bullmq';
  /** Adds a job; `jobId` deduplicates (a job with the same id that is still waiting is not added twice). */
  enqueue<Name extends JobName>(
    name: Name,
    payload: JobPayload<Name>,
    options?: { jobId?: string },
  ): Promise<void>;
  /** Creates or replaces a pair's cron schedule, which enqueues `scheduled-sync` jobs. */
  upsertSchedule(pairId: string, cron: string): Promise<void>;
  removeSchedule(pairId: string): Promise<void>;
  /** Whether the queue can take jobs now. */
  isHealthy(): Promise<boolean>;
  /** Workers connected to take runs, where other processes execute them (BullMQ). */
  countWorkers?(): Promise<number>;
  close(): Promise<void>;
}

/** What a job's handler gets besides its payload. */
export interface JobContext {
  /**
   * Aborted when the try must stop: it ran past the catalog's `timeoutMs` (the reason is a
   * JobTimeoutError), or the pair lock it runs under was lost (a PairLockLostError).
   */
  signal: AbortSignal;
  /** The fencing token of the pair lock the job runs under, when it holds one. */
  lockEpoch?: number;
}

/** What consumes each job. Throwing fails the try; the catalog decides about retries. */
export type JobHandlers = {
  [Name in JobName]: (payload: JobPayload<Name>, context: JobContext) => Promise<void>;
};

/** A job that failed for good (no retries left, or unrecoverable), with its parsed payload when there is one. */
export interface JobFailure {
  name: string;
  payload: unknown;
  error: Error;
}

/** Time limits per job, where they differ from the catalog's `timeoutMs` (tests, operators). */
export type JobTimeouts = Partial<Record<JobName, number>>;

/** The reason a job's signal is aborted with when the try ran out of time. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
}

const formatDuration = (ms: number): string =>
  ms >= 3_600_000 && ms % 3_600_000 === 0
    ? `${ms / 3_600_000} h`
    : ms >= 60_000 && ms % 60_000 === 0
      ? `${ms / 60_000} min`
      : ms >= 1_000
        ? `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)} s`
        : `${ms} ms`;

/**
 * The time limit of one try of a job: a signal aborted with a JobTimeoutError once the
 * job's `timeoutMs` (from the catalog, unless `timeouts` says otherwise) has passed.
 * Call `stop()` when the try ends.
 */
export function startJobTimer(
  name: JobName,
  timeouts: JobTimeouts = {},
): { signal: AbortSignal; stop(): void } {
  const timeoutMs = timeouts[name] ?? JOBS[name].timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new JobTimeoutError(`the run exceeded its time limit of ${formatDuration(timeoutMs)}`),
      ),
    // Timers cannot wait longer than ~24.8 days.
    Math.min(timeoutMs, 2 ** 31 - 1),
  );
  timer.unref();
  return { signal: controller.signal, stop: () => clearTimeout(timer) };
}

/** Thrown for a job that must not be retried (bad payload, invalid pair configuration). */
export class UnrecoverableJobError extends Error {
  override readonly name = 'UnrecoverableJobError';
}

/** Checks a cron expression; throws with the parser's reason. */
export function assertValidCron(cron: string): void {
  CronExpressionParser.parse(cron);
}

/**
 * When a cron schedule fires next after `from`, in the same time zone the in-process
 * queue arms its timers with (the process's). Throws for an invalid expression.
 */
export function nextScheduledRun(cron: string, from: Date = new Date()): Date {
  return CronExpressionParser.parse(cron, { currentDate: from }).next().toDate();
}

export interface InProcessQueue extends JobQueue {
  /** Starts consuming with these handlers; jobs enqueued before wait until then. */
  process(handlers: JobHandlers): void;
  /** Resolves once no job is waiting or running (tests, shutdown). */
  idle(): Promise<void>;
}

interface QueuedJob {
  name: JobName;
  payload: unknown;
  jobId: string | undefined;
  attempt: number;
}

/**
 * Runs jobs inside this process, `concurrency` at a time, with the catalog's retries,
 * and fires cron schedules with timers. Nothing survives a restart; the server re-enqueues
 * unfinished runs from the database when it starts.
 */
export function createInProcessQueue(
  options: {
    concurrency?: number;
    onError?: (error: unknown, job: { name: string; payload: unknown }) => void;
    /** Called when a job has failed for good, as a BullMQ worker's `onFailed` is. */
    onFailed?: (failure: JobFailure) => Promise<void> | void;
    timeouts?: JobTimeouts;
  } = {},
): InProcessQueue {
  const concurrency = options.concurrency ?? 2;
  const waiting: QueuedJob[] = [];
  const waitingIds = new Set<string>();
  const schedules = new Map<string, { cron: string; timer: NodeJS.Timeout | null }>();
  let handlers: JobHandlers | null = null;
  let running = 0;
  let isClosed = false;
  const idleWaiters: Array<() => void> = [];

  const checkIdle = () => {
    if (running === 0 && (waiting.length === 0 || handlers === null)) {
      for (const wake of idleWaiters.splice(0)) wake();
    }
  };

  const pump = () => {
    while (handlers && !isClosed && running < concurrency && waiting.length > 0) {
      const job = waiting.shift()!;
      if (job.jobId) waitingIds.delete(job.jobId);
      running += 1;
      void runJob(job, handlers).finally(() => {
        running -= 1;
        pump();
        checkIdle();
      });
    }
    checkIdle();
  };

  const runJob = async (job: QueuedJob, current: JobHandlers) => {
    const definition = JOBS[job.name];
    const timer = startJobTimer(job.name, options.timeouts);
    try {
      const handler = current[job.name] as (payload: unknown, context: JobContext) => Promise<void>;
      await handler(definition.payload.parse(job.payload), { signal: timer.signal });
    } catch (error) {
      options.onError?.(error, job);
      const isFinal = error instanceof UnrecoverableJobError || job.attempt + 1 >= definition.attempts;
      if (isFinal && options.onFailed) {
        const failure = error instanceof Error ? error : new Error(String(error));
        await Promise.resolve(
          options.onFailed({ name: job.name, payload: job.payload, error: failure }),
        ).catch((failed: unknown) => options.onError?.(failed, job));
      }
      if (isFinal || isClosed) return;
      const delay =
        definition.backoff.type === 'fixed'
          ? definition.backoff.delayMs
          : definition.backoff.delayMs * 2 ** job.attempt;
      setTimeout(() => {
        if (isClosed) return;
        waiting.push({ ...job, attempt: job.attempt + 1 });
        pump();
      }, delay).unref();
    } finally {
      timer.stop();
    }
  };

  const arm = (pairId: string) => {
    const schedule = schedules.get(pairId);
    if (!schedule || isClosed) return;
    const next = CronExpressionParser.parse(schedule.cron).next().getTime();
    // Timers cannot wait longer than ~24.8 days; re-arm in steps.
    const delay = Math.min(Math.max(next - Date.now(), 0), 2 ** 31 - 1);
    schedule.timer = setTimeout(() => {
      if (Date.now() + 5 >= next) void queue.enqueue('scheduled-sync', { pairId });
      arm(pairId);
    }, delay);
    schedule.timer.unref();
  };

  const queue: InProcessQueue = {
    driver: 'in-process',
    async enqueue(name, payload, enqueueOptions = {}) {
      if (isClosed) throw new Error('the job queue is closed');
      const parsed = JOBS[name].payload.parse(payload);
      const { jobId } = enqueueOptions;
      if (jobId !== undefined && waitingIds.has(jobId)) return;
      if (jobId !== undefined) waitingIds.add(jobId);
      waiting.push({ name, payload: parsed, jobId, attempt: 0 });
      // Jobs start on a later tick, so an enqueue never runs its job synchronously.
      setImmediate(pump);
    },
    async upsertSchedule(pairId, cron) {
      assertValidCron(cron);
      await queue.removeSchedule(pairId);
      schedules.set(pairId, { cron, timer: null });
      arm(pairId);
    },
    async removeSchedule(pairId) {
      const schedule = schedules.get(pairId);
      if (schedule?.timer) clearTimeout(schedule.timer);
      schedules.delete(pairId);
    },
    async isHealthy() {
      return !isClosed;
    },
    async close() {
      isClosed = true;
      for (const pairId of [...schedules.keys()]) await queue.removeSchedule(pairId);
      waiting.length = 0;
      waitingIds.clear();
      await queue.idle();
    },
    process(next) {
      handlers = next;
      pump();
    },
    idle() {
      if (running === 0 && (waiting.length === 0 || handlers === null)) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
  return queue;
}
