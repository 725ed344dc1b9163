import { PROGRESS_KINDS } from '@syncengine/engine/progress';
import { z } from 'zod';
import { IdSchema, PageQuerySchema, TimestampSchema } from './common.js';
import { ActionTypeSchema } from './enums.js';

/**
 * `needs_decision`: the run carried out everything else and ended, leaving MANUAL conflicts
 * pending (`stats.conflictsPending`); each decision is applied by a small follow-up run.
 */
export const RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'needs_decision',
  'failed',
  'cancelled',
] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;
/** Statuses after which a run never changes again. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = [
  'completed',
  'needs_decision',
  'failed',
  'cancelled',
];
/** Statuses of a run that holds its pair: at most one such run per pair. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'paused'];

/**
 * What started a run: a user (`manual`), the pair's cron schedule, or conflict decisions
 * (`conflict-resolution`: a small run that only applies the decided conflicts).
 */
export const RunTriggerSchema = z.enum(['manual', 'schedule', 'conflict-resolution', 'watch']);
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

/** SPEC §10 stats of a finished run. */
export const RunStatsSchema = z.object({
  actions: z.partialRecord(ActionTypeSchema, z.number().int().nonnegative()),
  bytesUploaded: z.number().nonnegative(),
  bytesDownloaded: z.number().nonnegative(),
  conflicts: z.number().int().nonnegative(),
  conflictsPending: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** Temporary files of interrupted earlier runs that the run removed (absent in runs recorded before it was counted). */
  temporaryFilesRemoved: z.number().int().nonnegative().optional(),
  /** Files left for the next run because they changed while the run copied them (a warning each). */
  deferred: z.number().int().nonnegative().optional(),
});
export type RunStats = z.infer<typeof RunStatsSchema>;

/** Transfers in flight listed at most in a run's progress. */
export const RUN_PROGRESS_MAX_TRANSFERS = 64;

const DoneOfTotalSchema = z.object({
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});

export const RunPhaseSchema = z.enum(['scanning', 'planning', 'transferring', 'finishing']);
export type RunPhase = z.infer<typeof RunPhaseSchema>;

/** Live progress of a run; also stored on the run row (throttled). */
export const RunProgressSchema = z.object({
  phase: RunPhaseSchema,
  filesDone: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative(),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  currentFile: z.string().nullable(),
  /** Bytes per second over the last few seconds. */
  rateBytesPerSecond: z.number().nonnegative(),
  /**
   * Actions done and planned per kind (the engine's progress kinds: a folder is never
   * counted as a file, NO_ACTION is a check), once the transfers started. `done` never
   * exceeds `total`.
   */
  counts: z.record(z.enum(PROGRESS_KINDS), DoneOfTotalSchema).optional(),
  /** Transfers in flight, oldest first (at most {@link RUN_PROGRESS_MAX_TRANSFERS}). */
  transfers: z
    .array(
      z.object({ path: z.string(), bytesDone: z.number().nonnegative(), size: z.number().nonnegative() }),
    )
    .optional(),
});
export type RunProgress = z.infer<typeof RunProgressSchema>;

export const RunSchema = z.object({
  id: IdSchema,
  pairId: IdSchema,
  status: RunStatusSchema,
  trigger: RunTriggerSchema,
  dryRun: z.boolean(),
  queuedAt: TimestampSchema,
  startedAt: TimestampSchema.nullable(),
  finishedAt: TimestampSchema.nullable(),
  /** Present once the run has finished. */
  stats: RunStatsSchema.nullable(),
  /** Why the run failed (or stopped, e.g. the max-delete guard). */
  error: z.string().nullable(),
  progress: RunProgressSchema.nullable(),
});
export type Run = z.infer<typeof RunSchema>;

export const RunListSchema = z.object({ items: z.array(RunSchema) });
export type RunList = z.infer<typeof RunListSchema>;

/** `POST /pairs/:id/runs` body. */
export const CreateRunSchema = z
  .object({
    dryRun: z.boolean().default(false),
    /** Run even when the max-delete guard would stop it. */
    force: z.boolean().default(false),
  })
  .default({ dryRun: false, force: false });
export type CreateRun = z.output<typeof CreateRunSchema>;

/**
 * `POST /pairs/:id/runs` query: `wait=true` answers once the run has ended (200, the
 * finished run), or after `timeout` seconds with the run still active (202).
 */
export const TriggerRunQuerySchema = z.object({
  wait: z
    .enum(['true', 'false'], { error: 'wait must be true or false' })
    .transform((value) => value === 'true')
    .default(false),
  timeout: z.coerce
    .number({ error: 'timeout must be a number of seconds' })
    .int('timeout must be a whole number of seconds')
    .min(1, 'timeout must be at least 1 second')
    .max(3_600, 'timeout must be at most 3600 seconds')
    .default(300),
});
export type TriggerRunQuery = z.output<typeof TriggerRunQuerySchema>;

/** `pending`: a MANUAL conflict the run left waiting for a decision. */
export const RunActionStatusSchema = z.enum(['done', 'failed', 'planned', 'pending']);
export type RunActionStatus = z.infer<typeof RunActionStatusSchema>;

/** One line of a run's per-file log. */
export const RunActionSchema = z.object({
  /** Monotonic per database; also the pagination cursor. */
  id: z.string(),
  runId: IdSchema,
  type: ActionTypeSchema,
  path: z.string(),
  to: z.string().nullable(),
  /** The action is on a folder (a folder created, deleted or renamed). */
  isDir: z.boolean(),
  reason: z.string(),
  bytes: z.number().nonnegative(),
  status: RunActionStatusSchema,
  error: z.string().nullable(),
  at: TimestampSchema,
});
export type RunAction = z.infer<typeof RunActionSchema>;

/**
 * A query parameter that takes one or more values, repeated (`?type=A&type=B`) or
 * comma-separated (`?type=A,B`); each value must be one of `values`.
 */
const listParam = <Value extends z.ZodType<string, string>>(values: Value) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((raw) =>
      (Array.isArray(raw) ? raw : [raw])
        .flatMap((item) => item.split(','))
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    )
    .pipe(z.array(values))
    .optional();

/**
 * `GET /runs/:id/actions` query: cursor pagination plus filters, all applied together.
 * `type` and `status` take one or more values; `path` matches a substring, ignoring case.
 */
export const RunActionQuerySchema = PageQuerySchema.extend({
  type: listParam(ActionTypeSchema),
  status: listParam(RunActionStatusSchema),
  path: z.string().min(1).max(1000).optional(),
});
export type RunActionQuery = z.output<typeof RunActionQuerySchema>;

export const RunActionPageSchema = z.object({
  items: z.array(RunActionSchema),
  nextCursor: z.string().nullable(),
});
export type RunActionPage = z.infer<typeof RunActionPageSchema>;

/** One planned action in a dry-run preview. */
export const PlannedActionSchema = z.object({
  type: ActionTypeSchema,
  path: z.string(),
  to: z.string().nullable(),
  reason: z.string(),
  bytes: z.number().nonnegative(),
  isDir: z.boolean(),
});
export type PlannedActionView = z.infer<typeof PlannedActionSchema>;

/** `GET /pairs/:id/plan`: what a run would do now, changing nothing. */
export const PlanPreviewSchema = z.object({
  pairId: IdSchema,
  isFirstSync: z.boolean(),
  actions: z.array(PlannedActionSchema),
  totals: z.object({
    files: z.number().int().nonnegative(),
    bytes: z.number().nonnegative(),
    deletes: z.object({ source: z.number().int(), destination: z.number().int() }),
  }),
  warnings: z.array(z.string()),
});
export type PlanPreview = z.infer<typeof PlanPreviewSchema>;
