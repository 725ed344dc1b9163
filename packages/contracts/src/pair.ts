import { BANDWIDTH_LIMIT_BOUNDS, PAIR_SETTING_DEFAULTS } from '@syncengine/engine/model';
import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { ComparisonModeSchema, ConflictStrategySchema, SyncModeSchema } from './enums.js';
import {
  LocalLocationSchema,
  S3LocationSchema,
  SftpLocationSchema,
  WebdavLocationSchema,
} from './location.js';
import { PairLocationSchema } from './pair-location.js';
import { RunStatusSchema } from './run.js';
import { WATCH_DEFAULTS, WATCH_SETTING_LIMITS } from './watch-settings.js';

/** SPEC defaults for a pair's optional fields: the engine's, with `concurrency` grouped as the API has it. */
export const PAIR_DEFAULTS = {
  mode: PAIR_SETTING_DEFAULTS.mode,
  comparisonMode: PAIR_SETTING_DEFAULTS.comparisonMode,
  conflictResolution: PAIR_SETTING_DEFAULTS.conflictResolution,
  ignorePatterns: [] as string[],
  concurrency: {
    transfers: PAIR_SETTING_DEFAULTS.transfers,
    operations: PAIR_SETTING_DEFAULTS.operations,
  },
  maxDeletePercent: PAIR_SETTING_DEFAULTS.maxDeletePercent,
  bandwidthLimit: PAIR_SETTING_DEFAULTS.bandwidthLimit,
  schedule: null as string | null,
  enabled: true,
} as const;

const limited = (key: keyof typeof WATCH_SETTING_LIMITS) =>
  z.number().int().min(WATCH_SETTING_LIMITS[key].min).max(WATCH_SETTING_LIMITS[key].max);

const watchFields = {
  /** Sync changes as they happen (local sides through notifications, remote sides polled). */
  enabled: z.boolean(),
  /** Quiet time after the last change before a run starts (a run waits at most 10 × this). */
  debounceMs: limited('debounceMs'),
  /** A full run at least this often, for what notifications miss. */
  rescanMinutes: limited('rescanMinutes'),
  /** How often remote sides (SFTP, S3, WebDAV) are listed for changes. */
  pollSeconds: limited('pollSeconds'),
};

/** A pair's watch settings (SPEC §12), every field present as stored and answered. */
export const WatchSettingsSchema = z.object(watchFields).strict();
export type WatchSettings = z.infer<typeof WatchSettingsSchema>;

/** The watch settings as sent on create: `enabled` required, the rest default. */
const CreateWatchSchema = z
  .object({
    enabled: watchFields.enabled,
    debounceMs: watchFields.debounceMs.default(WATCH_DEFAULTS.debounceMs),
    rescanMinutes: watchFields.rescanMinutes.default(WATCH_DEFAULTS.rescanMinutes),
    pollSeconds: watchFields.pollSeconds.default(WATCH_DEFAULTS.pollSeconds),
  })
  .strict();

export const ConcurrencySchema = z.object({
  /** Uploads/downloads at once. */
  transfers: z.number().int().min(1).max(64),
  /** Lists, deletes, renames, mkdirs at once. */
  operations: z.number().int().min(1).max(256),
});
export type Concurrency = z.infer<typeof ConcurrencySchema>;

/**
 * Bytes per second that a run's transfers may move together, from 1 KiB/s up to 2 GiB/s;
 * null for no limit.
 */
export const BandwidthLimitSchema = z
  .number()
  .int('bandwidthLimit must be a whole number of bytes per second')
  .min(
    BANDWIDTH_LIMIT_BOUNDS.min,
    `bandwidthLimit must be at least ${BANDWIDTH_LIMIT_BOUNDS.min} bytes per second (1 KiB/s), or null for no limit`,
  )
  .max(
    BANDWIDTH_LIMIT_BOUNDS.max,
    `bandwidthLimit must be at most ${BANDWIDTH_LIMIT_BOUNDS.max} bytes per second (2 GiB/s), or null for no limit`,
  )
  .nullable();

/**
 * A cron expression (5 fields, or 6 with seconds) such as `0 * * * *`; null for no
 * schedule. The scheduler checks the expression further when the pair is saved.
 */
export const ScheduleSchema = z
  .string()
  .trim()
  .regex(/^(\S+\s+){4,5}\S+$/, 'schedule must be a cron expression with 5 or 6 fields, e.g. "0 * * * *"')
  .nullable();

const pairFields = {
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  source: PairLocationSchema,
  destination: PairLocationSchema,
  mode: SyncModeSchema,
  comparisonMode: ComparisonModeSchema,
  conflictResolution: ConflictStrategySchema,
  ignorePatterns: z.array(z.string().max(1000)).max(1000),
  concurrency: ConcurrencySchema,
  maxDeletePercent: z.number().min(0).max(100),
  bandwidthLimit: BandwidthLimitSchema,
  schedule: ScheduleSchema,
  enabled: z.boolean(),
  watch: WatchSettingsSchema,
};

/** `POST /pairs` body: name, source and destination are required; the rest default per SPEC. */
export const CreatePairSchema = z.object({
  name: pairFields.name,
  source: pairFields.source,
  destination: pairFields.destination,
  mode: pairFields.mode.default(PAIR_DEFAULTS.mode),
  comparisonMode: pairFields.comparisonMode.default(PAIR_DEFAULTS.comparisonMode),
  conflictResolution: pairFields.conflictResolution.default(PAIR_DEFAULTS.conflictResolution),
  ignorePatterns: pairFields.ignorePatterns.default([]),
  concurrency: z
    .object({
      transfers: ConcurrencySchema.shape.transfers.default(PAIR_DEFAULTS.concurrency.transfers),
      operations: ConcurrencySchema.shape.operations.default(PAIR_DEFAULTS.concurrency.operations),
    })
    .default({ ...PAIR_DEFAULTS.concurrency }),
  maxDeletePercent: pairFields.maxDeletePercent.default(PAIR_DEFAULTS.maxDeletePercent),
  bandwidthLimit: pairFields.bandwidthLimit.default(PAIR_DEFAULTS.bandwidthLimit),
  schedule: pairFields.schedule.default(null),
  enabled: pairFields.enabled.default(true),
  watch: CreateWatchSchema.default({ ...WATCH_DEFAULTS }),
});
/** What the client sends (optional fields may be left out). */
export type CreatePairInput = z.input<typeof CreatePairSchema>;
/** After parsing: every field present. */
export type CreatePair = z.output<typeof CreatePairSchema>;

/** `POST /pairs` and `PATCH /pairs/:id` query: create local folders that do not exist yet. */
export const SavePairQuerySchema = z.object({
  createFolders: z
    .enum(['true', 'false'], { error: 'createFolders must be true or false' })
    .transform((value) => value === 'true')
    .default(false),
});
export type SavePairQuery = z.output<typeof SavePairQuerySchema>;

/** `PATCH /pairs/:id` body: any subset of the fields; `concurrency` and `watch` may be partial. */
export const UpdatePairSchema = z
  .object({
    name: pairFields.name.optional(),
    source: pairFields.source.optional(),
    destination: pairFields.destination.optional(),
    mode: pairFields.mode.optional(),
    comparisonMode: pairFields.comparisonMode.optional(),
    conflictResolution: pairFields.conflictResolution.optional(),
    ignorePatterns: pairFields.ignorePatterns.optional(),
    concurrency: ConcurrencySchema.partial().optional(),
    maxDeletePercent: pairFields.maxDeletePercent.optional(),
    bandwidthLimit: pairFields.bandwidthLimit.optional(),
    schedule: pairFields.schedule.optional(),
    enabled: pairFields.enabled.optional(),
    /** Fields left out keep their stored values. */
    watch: WatchSettingsSchema.partial().optional(),
  })
  .strict();
export type UpdatePair = z.infer<typeof UpdatePairSchema>;

/** The latest run of a pair, as shown in lists. */
export const RunSummarySchema = z.object({
  id: IdSchema,
  status: RunStatusSchema,
  queuedAt: TimestampSchema,
  finishedAt: TimestampSchema.nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

const secretsSet = {
  /**
   * Names of the secret fields stored for this location (`["password"]`). The values are
   * never returned; a `PATCH` that leaves them out keeps them.
   */
  secretsSet: z.array(z.string()),
};

/** A location as the API answers it: without its secret fields, naming those that are set. */
export const RedactedLocationSchema = z.discriminatedUnion('type', [
  LocalLocationSchema.extend(secretsSet),
  SftpLocationSchema.extend(secretsSet),
  S3LocationSchema.extend(secretsSet),
  WebdavLocationSchema.extend(secretsSet),
]);
export type RedactedLocation = z.infer<typeof RedactedLocationSchema>;

/** A stored pair, as the API returns it. Secrets in locations are never returned. */
export const PairSchema = z.object({
  id: IdSchema,
  ...pairFields,
  source: RedactedLocationSchema,
  destination: RedactedLocationSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  lastRun: RunSummarySchema.nullable(),
  /** When the schedule fires next; null without a schedule or while the pair is disabled. */
  nextRunAt: TimestampSchema.nullable(),
});
export type Pair = z.infer<typeof PairSchema>;

export const PairListSchema = z.object({ items: z.array(PairSchema) });
export type PairList = z.infer<typeof PairListSchema>;
