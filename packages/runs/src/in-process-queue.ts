import { JOBS, type JobAnswer, type JobName } from '@syncengine/contracts';
import { CronExpressionParser } from 'cron-parser';
import { assertValidCron } from './cron.js';
import {
  formatDuration,
  type JobContext,
  type JobFailure,
  type JobHandlers,
  JobNotAnsweredError,
  type JobQueue,
  type JobTimeouts,
  startJobTimer,
  UnrecoverableJobError,
} from './job-queue.js';

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
    // Answered at once by this process's handler, beside the queued jobs: a preview does
    // not wait behind runs.
    async request(name, payload) {
      const parsed = JOBS[name].payload.parse(payload);
      if (!handlers || isClosed) {
        throw new JobNotAnsweredError(`no worker takes ${name} jobs in this process`);
      }
      const timer = startJobTimer(name, options.timeouts);
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer.signal.addEventListener('abort', () =>
          reject(
            new JobNotAnsweredError(
              `the ${name} job did not finish within ${formatDuration(options.timeouts?.[name] ?? JOBS[name].timeoutMs)}`,
            ),
          ),
        );
      });
      try {
        const handler = handlers[name] as (
          payload: unknown,
          context: JobContext,
        ) => Promise<JobAnswer<typeof name>>;
        return await Promise.race([handler(parsed, { signal: timer.signal }), timedOut]);
      } finally {
        timer.stop();
      }
    },
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
