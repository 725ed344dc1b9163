import { z } from 'zod';
import { IdSchema } from './common.js';
import { SideSchema } from './enums.js';

/**
 * The job catalog: every background job's name, payload schema and retry policy, in one
 * place. Payloads are parsed when enqueued and again by the consumer; a payload that
 * does not parse is a bug, never retried.
 */
export interface JobDefinition<Payload extends z.ZodType> {
  /** BullMQ queue the job goes to. */
  queue: string;
  payload: Payload;
  /** Total tries, the first included. */
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number };
  /** A try running longer than this is failed (ms). */
  timeoutMs: number;
}

const define = <Payload extends z.ZodType>(definition: JobDefinition<Payload>) => definition;

/**
 * A run started by a watch lists and plans at most this many changed paths; a watch that
 * saw more starts a full run instead.
 */
export const CHANGED_PATHS_LIMIT = 10_000;

/** Queue name shared by every sync job. */
export const SYNC_QUEUE = 'sync-runs';

export const JOBS = {
  /**
   * Execute one run row (already inserted with status `queued`). Retried after a crash:
   * the run resumes from the per-action state. `changedPaths` (a watch's run): the run
   * lists and plans only these paths (each with everything below it), not the whole tree.
   */
  'sync-run': define({
    queue: SYNC_QUEUE,
    payload: z.object({
      runId: IdSchema,
      pairId: IdSchema,
      changedPaths: z.array(z.string().min(1).max(4096)).max(CHANGED_PATHS_LIMIT).optional(),
    }),
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 5_000 },
    timeoutMs: 24 * 60 * 60_000,
  }),
  /**
   * Fired by a pair's cron schedule: creates a run (trigger `schedule`) unless one is
   * already active for the pair, then executes it like `sync-run`.
   */
  'scheduled-sync': define({
    queue: SYNC_QUEUE,
    payload: z.object({ pairId: IdSchema }),
    attempts: 1,
    backoff: { type: 'fixed', delayMs: 0 },
    timeoutMs: 24 * 60 * 60_000,
  }),
  /**
   * Put a kept version back at its path on a side whose storage is remote (local sides are
   * restored by the API at once). The file at the path, if any, is kept as a version first.
   */
  'version-restore': define({
    queue: SYNC_QUEUE,
    payload: z.object({ pairId: IdSchema, side: SideSchema, versionPath: z.string().min(1).max(4096) }),
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 2_000 },
    timeoutMs: 60 * 60_000,
  }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<Name extends JobName> = z.output<(typeof JOBS)[Name]['payload']>;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

/** Parses a job's payload; throws a ZodError naming the bad field. */
export function parseJobPayload<Name extends JobName>(name: Name, data: unknown): JobPayload<Name> {
  return JOBS[name].payload.parse(data) as JobPayload<Name>;
}

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}
