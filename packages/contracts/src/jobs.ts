import { z } from 'zod';
import { IdSchema } from './common.js';
import { SideSchema } from './enums.js';
import { PlanPreviewSchema } from './run.js';

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
/**
 * Queue of the previews the API waits for: apart from the runs, so a preview is answered
 * while every run slot is taken by long runs.
 */
export const PREVIEW_QUEUE = 'sync-previews';

/** Most planned actions a preview hands back when asked for its changes only. */
export const PREVIEW_CHANGES_LIMIT = 10_000;

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
  /**
   * What a run of the pair would do now (a dry-run plan, changing nothing), answered to the
   * API, which waits for it. `changesLimit`: hand back only the actions that change
   * something, at most this many (the answer still counts them all); without it, the whole
   * plan. Not retried: the API gives up waiting after `timeoutMs` anyway.
   */
  'plan-preview': define({
    queue: PREVIEW_QUEUE,
    payload: z.object({
      pairId: IdSchema,
      changesLimit: z.number().int().min(1).max(PREVIEW_CHANGES_LIMIT).optional(),
    }),
    attempts: 1,
    backoff: { type: 'fixed', delayMs: 0 },
    timeoutMs: 30_000,
  }),
} as const;

/**
 * A preview's answer: the plan with the number of its actions that change something, or
 * why the pair cannot be planned (`cause`: its configuration or a side the engine refused,
 * or a local path outside the allowed roots, with the field it is in).
 */
export const PlanPreviewAnswerSchema = z.discriminatedUnion('isPlanned', [
  z.object({
    isPlanned: z.literal(true),
    plan: PlanPreviewSchema,
    changeCount: z.number().int().nonnegative(),
  }),
  z.object({
    isPlanned: z.literal(false),
    cause: z.enum(['sync', 'path']),
    problem: z.string(),
    field: z.string().optional(),
  }),
]);
export type PlanPreviewAnswer = z.infer<typeof PlanPreviewAnswerSchema>;

/**
 * Jobs whose caller waits for an answer, with the answer's schema: the consumer returns
 * it, and the caller parses it where it arrives (it may have travelled through Redis).
 */
export const JOB_ANSWERS = {
  'plan-preview': PlanPreviewAnswerSchema,
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<Name extends JobName> = z.output<(typeof JOBS)[Name]['payload']>;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];
/** A job the caller waits for. */
export type AnsweredJobName = keyof typeof JOB_ANSWERS;
/** What a job's consumer hands back: the answer of an answered job, nothing for the others. */
export type JobAnswer<Name extends JobName> = Name extends AnsweredJobName
  ? z.output<(typeof JOB_ANSWERS)[Name]>
  : // biome-ignore lint/suspicious/noConfusingVoidType: the other jobs' handlers return nothing
    void;

/** Parses a job's payload; throws a ZodError naming the bad field. */
export function parseJobPayload<Name extends JobName>(name: Name, data: unknown): JobPayload<Name> {
  return JOBS[name].payload.parse(data) as JobPayload<Name>;
}

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}
