import {
  type AnsweredJobName,
  JOBS,
  type JobAnswer,
  type JobName,
  type JobPayload,
} from '@syncengine/contracts';

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
  /**
   * Hands a job to a consumer and waits for its answer (a preview). Rejects with a
   * JobNotAnsweredError when no consumer answers within the job's `timeoutMs`, with the
   * consumer's error when the job failed.
   */
  request<Name extends AnsweredJobName>(name: Name, payload: JobPayload<Name>): Promise<JobAnswer<Name>>;
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

/**
 * What consumes each job, returning the answer of a job its caller waits for. Throwing
 * fails the try; the catalog decides about retries.
 */
export type JobHandlers = {
  [Name in JobName]: (payload: JobPayload<Name>, context: JobContext) => Promise<JobAnswer<Name>>;
};

/** No consumer answered a job its caller waits for (no worker, or none in time). */
export class JobNotAnsweredError extends Error {
  override readonly name = 'JobNotAnsweredError';
}

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

export const formatDuration = (ms: number): string =>
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
