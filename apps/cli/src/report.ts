import {
  ACTION_TYPES,
  type ActionType,
  type ConflictInfo,
  type ConflictResolution,
  type Plan,
  type PlannedAction,
  type SyncResult,
  scrubSecrets,
} from '@syncengine/engine';

/** One action in the `--json` document. */
export interface ActionRecord {
  action: ActionType;
  path: string;
  /** The new path, for renames. */
  to?: string;
  /** The table cell that produced the action. */
  reason: string;
  /** Bytes the action moves (or would move). */
  bytes: number;
  /** How a conflict was (or will be) settled; absent when it is left to the user. */
  resolution?: string;
  /** Why the action failed. */
  error?: string;
}

/** Counts per action type, then the SPEC §10 totals. */
export type StatsRecord = Record<ActionType, number> & {
  bytesUploaded: number;
  bytesDownloaded: number;
  conflicts: number;
  conflictsPending: number;
  errors: number;
  durationMs: number;
  /** Temporary files of interrupted earlier runs that the run removed. */
  temporaryFilesRemoved: number;
  /** Files left for the next run because they changed while the run copied them. */
  deferred: number;
};

/** What `--json` prints: the same shape for a run and for a dry-run plan. */
export interface JsonReport {
  status: string;
  dryRun: boolean;
  actions: ActionRecord[];
  stats: StatsRecord;
  pendingConflicts: Array<{ path: string }>;
  errors: Array<{ path?: string; code: string; message: string }>;
  warnings: string[];
}

const UPLOADS = new Set<ActionType>(['UPLOAD_NEW', 'UPLOAD_UPDATE', 'UPLOAD_RESTORE']);
const DOWNLOADS = new Set<ActionType>(['DOWNLOAD_NEW', 'DOWNLOAD_UPDATE', 'DOWNLOAD_RESTORE']);

/** Every action that changes something; NO_ACTION bookkeeping is counted in the stats only. */
export function actionRecords(
  plan: Plan,
  outcome: {
    /** When given, only these actions are listed (a run lists what it did, a plan what it would do). */
    attempted?: ReadonlySet<PlannedAction>;
    failures?: ReadonlyMap<PlannedAction, string>;
    resolutions?: ReadonlyMap<string, ConflictResolution>;
  } = {},
) {
  const records: ActionRecord[] = [];
  for (const action of plan.actions) {
    if (action.type === 'NO_ACTION') continue;
    if (outcome.attempted && !outcome.attempted.has(action)) continue;
    const record: ActionRecord = {
      action: action.type,
      path: action.path,
      reason: action.reason,
      bytes: action.bytes,
    };
    if (action.to !== undefined) record.to = action.to;
    if (action.type === 'CONFLICT') {
      const resolution = outcome.resolutions?.get(action.path) ?? action.conflict?.resolution;
      if (resolution) record.resolution = resolution;
    }
    const error = outcome.failures?.get(action);
    if (error !== undefined) record.error = error;
    records.push(record);
  }
  return records;
}

function emptyCounts(): Record<ActionType, number> {
  return Object.fromEntries(ACTION_TYPES.map((type) => [type, 0])) as Record<ActionType, number>;
}

/** Stats of a plan that has not run: counts per action and the bytes it would move. */
export function planStats(plan: Plan, durationMs: number): StatsRecord {
  const counts = emptyCounts();
  let bytesUploaded = 0;
  let bytesDownloaded = 0;
  let conflicts = 0;
  for (const action of plan.actions) {
    counts[action.type] += 1;
    if (UPLOADS.has(action.type)) bytesUploaded += action.bytes;
    if (DOWNLOADS.has(action.type)) bytesDownloaded += action.bytes;
    if (action.type === 'CONFLICT') conflicts += 1;
  }
  return {
    ...counts,
    bytesUploaded,
    bytesDownloaded,
    conflicts,
    conflictsPending: plan.actions.filter((a) => a.type === 'CONFLICT' && !a.conflict?.resolution).length,
    errors: 0,
    durationMs,
    temporaryFilesRemoved: 0,
    deferred: 0,
  };
}

/**
 * The `--json` document of a finished run (or of a dry run, whose actions and stats
 * describe the plan). A run that was cancelled or stopped lists only what it carried out.
 */
export function jsonReport(
  result: SyncResult,
  options: {
    dryRun: boolean;
    attempted?: ReadonlySet<PlannedAction>;
    failures?: ReadonlyMap<PlannedAction, string>;
    resolutions?: ReadonlyMap<string, ConflictResolution>;
  },
): JsonReport {
  const stats: StatsRecord = options.dryRun
    ? planStats(result.plan, result.stats.durationMs)
    : {
        ...emptyCounts(),
        ...result.stats.actions,
        bytesUploaded: result.stats.bytesUploaded,
        bytesDownloaded: result.stats.bytesDownloaded,
        conflicts: result.stats.conflicts,
        conflictsPending: result.pendingConflicts.length,
        errors: result.stats.errors,
        durationMs: result.stats.durationMs,
        temporaryFilesRemoved: result.stats.temporaryFilesRemoved,
        deferred: result.stats.deferred,
      };
  return {
    status: options.dryRun ? 'planned' : result.status,
    dryRun: options.dryRun,
    // A run lists what it did (in plan order); a dry run, everything it would do.
    actions: actionRecords(result.plan, options.dryRun ? {} : options),
    stats,
    pendingConflicts: result.pendingConflicts.map((conflict: ConflictInfo) => ({ path: conflict.path })),
    errors: result.errors.map((error) => ({ ...error, message: scrubSecrets(error.message) })),
    warnings: result.warnings,
  };
}
