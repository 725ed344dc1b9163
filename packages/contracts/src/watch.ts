import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';
import { SideSchema } from './enums.js';

/**
 * How one side of a watched pair is watched: the operating system's change notifications
 * (`notify`), listings compared every `pollSeconds` (`poll`, remote sides), or listings
 * because notifications failed (`fallback-poll`: the watch limit was reached or events
 * overflowed).
 */
export const WatchSideModeSchema = z.enum(['notify', 'poll', 'fallback-poll']);
export type WatchSideMode = z.infer<typeof WatchSideModeSchema>;

/** Where a watched pair's watch stands (`GET /pairs/:id/status`, the `watch.*` WebSocket events). */
export const PairWatchStateSchema = z.object({
  /** A process watches the pair now. */
  isWatching: z.boolean(),
  /** Which process: `server` in the embedded mode, else the worker's name; null while nobody does. */
  watchedBy: z.string().nullable(),
  modes: z.object({ source: WatchSideModeSchema.nullable(), destination: WatchSideModeSchema.nullable() }),
  /** When a change was last seen on either side. */
  lastChangeAt: TimestampSchema.nullable(),
  /** Changed paths waiting for a run: how far behind the pair is. */
  pendingChanges: z.number().int().nonnegative(),
  /** Why a side is polled instead of notified (also in the log); null while notifications work. */
  fallbackReason: z.string().nullable(),
  /** When the watch's last run ended. */
  lastRunAt: TimestampSchema.nullable(),
  /**
   * Why the pair cannot be watched (a folder that cannot be opened, say; also in the log),
   * tried again at every lease renewal; null while nothing stands in the way.
   */
  problem: z.string().nullable(),
});
export type PairWatchState = z.infer<typeof PairWatchStateSchema>;

/** A watched pair's state while no process watches it. */
export const UNWATCHED_STATE: PairWatchState = Object.freeze({
  isWatching: false,
  watchedBy: null,
  modes: Object.freeze({ source: null, destination: null }),
  lastChangeAt: null,
  pendingChanges: 0,
  fallbackReason: null,
  lastRunAt: null,
  problem: null,
});

/** Why a watch started a full run instead of an incremental one. */
export const WatchFullRunReasonSchema = z.enum(['start', 'rescan', 'fallback']);
export type WatchFullRunReason = z.infer<typeof WatchFullRunReasonSchema>;

/** How many changed paths a `watch.changes` event lists; `count` counts them all. */
export const WATCH_EVENT_PATHS_LIMIT = 20;

/** WebSocket events of watched pairs. */
export const WatchEventSchemas = [
  /** A watched pair saw changes on one side. */
  z.object({
    type: z.literal('watch.changes'),
    pairId: IdSchema,
    side: SideSchema,
    /** Changed paths seen since the previous event. */
    count: z.number().int().nonnegative(),
    /** The first of them. */
    paths: z.array(z.string()),
    watch: PairWatchStateSchema,
  }),
  /** A watch started the run that catches up with the changes it saw. */
  z.object({
    type: z.literal('watch.run_started'),
    pairId: IdSchema,
    runId: IdSchema,
    /** `incremental`: only the changed paths; `full`: the whole tree, for `reason`. */
    kind: z.enum(['incremental', 'full']),
    reason: WatchFullRunReasonSchema.nullable(),
    /** Changed paths the run covers (incremental runs). */
    changes: z.number().int().nonnegative(),
    watch: PairWatchStateSchema,
  }),
  /** A pair's watch started, stopped, moved to another process or fell back to polling. */
  z.object({
    type: z.literal('watch.state'),
    pairId: IdSchema,
    watch: PairWatchStateSchema,
  }),
] as const;
