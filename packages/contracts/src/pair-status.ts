import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { PlannedActionSchema } from './run.js';
import { PairWatchStateSchema } from './watch.js';

/**
 * Where a pair stands: `in_sync` (nothing to do), `out_of_sync` (a run would change
 * `outOfSync` items), `syncing` (a run is queued or running), `paused`, `error` (a side is
 * missing or unreachable, or the check failed: see `problem`), `disabled`.
 */
export const PAIR_SYNC_STATES = ['in_sync', 'out_of_sync', 'syncing', 'paused', 'error', 'disabled'] as const;
export const PairSyncStateSchema = z.enum(PAIR_SYNC_STATES);
export type PairSyncState = z.infer<typeof PairSyncStateSchema>;

/** Files, folders and bytes on one side as the last run left them (the last-known state). */
export const SideTotalsSchema = z.object({
  files: z.number().int().nonnegative(),
  folders: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
});
export type SideTotals = z.infer<typeof SideTotalsSchema>;

/** At most this many out-of-sync items are listed; `outOfSync` counts them all. */
export const OUT_OF_SYNC_LIST_LIMIT = 200;

/** `GET /pairs/:id/status`: a cheap check of the pair, cached for a few seconds. */
export const PairSyncStatusSchema = z.object({
  pairId: IdSchema,
  state: PairSyncStateSchema,
  /** When the check ran (a cached answer keeps its time). */
  checkedAt: TimestampSchema,
  /** Items a run would change now; 0 unless `out_of_sync`. */
  outOfSync: z.number().int().nonnegative(),
  /** The first of those items, as a preview lists them. */
  items: z.array(PlannedActionSchema),
  /** Why the state is `error`, naming the side and folder; null otherwise. */
  problem: z.string().nullable(),
  /** The run that is syncing or paused. */
  activeRunId: IdSchema.nullable(),
  /** Per side, from the last-known state; null before the first run. */
  sides: z.object({ source: SideTotalsSchema, destination: SideTotalsSchema }).nullable(),
  /**
   * The pair's watch as the process watching it reports it; `isWatching: false` while
   * nobody does (its process died and no other took it over yet); null when the pair's
   * watch is not enabled.
   */
  watch: PairWatchStateSchema.nullable(),
});
export type PairSyncStatus = z.infer<typeof PairSyncStatusSchema>;
