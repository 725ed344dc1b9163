import { SyncError } from './errors.js';
import {
  BANDWIDTH_LIMIT_BOUNDS,
  COMPARISON_MODES,
  CONFLICT_STRATEGIES,
  type ComparisonMode,
  type ConflictStrategy,
  PAIR_SETTING_DEFAULTS,
  SYNC_MODES,
  type SyncMode,
} from './model.js';

/** Everything that steers one run. Defaults: SPEC. */
export interface SyncConfig {
  mode: SyncMode;
  /** How a file's two sides (and a side and its record) are compared. SPEC §5. */
  comparisonMode: ComparisonMode;
  /**
   * The pair's conflict strategy (NEWEST_WINS, SOURCE_WINS, …): how conflicts are settled by
   * default. Not a single conflict's outcome, which is a `ConflictResolution` (source,
   * destination, keep-both, skip).
   */
  conflictResolution: ConflictStrategy;
  /** gitignore-syntax patterns, on top of `.syncignore` files. */
  ignorePatterns: string[];
  /** Uploads/downloads at once. */
  transfers: number;
  /** Lists, deletes, renames, mkdirs at once. */
  operations: number;
  /**
   * Bytes per second that the run's transfers may move together (reads from one side into
   * writes on the other); null for no limit.
   */
  bandwidthLimit: number | null;
  /** Refuse a run that would delete more than this percentage of a side's files (0–100). */
  maxDeletePercent: number;
  /** Run even when the max-delete guard (or the access check) would stop it. */
  force: boolean;
  /** Plan only; change nothing. */
  dryRun: boolean;
  /** Keep overwritten and deleted files in `.syncengine/versions/` (SPEC §8). */
  versions: { retentionDays: number };
  /** Create and delete empty directories like files. */
  syncEmptyDirectories: boolean;
  /** Detect renames and moves (by hash, or by id where there is no hash). */
  detectRenames: boolean;
  /**
   * Sentinel file names that must exist, identical, on both sides before anything is
   * changed: a guard against syncing against an unmounted or wrong folder.
   */
  accessCheckFiles: string[];
  /**
   * Fail the run when a folder cannot be read. Otherwise such a folder is reported (a
   * warning, and an `UNREADABLE` entry in the run's errors), left alone on both sides, and
   * everything else syncs.
   */
  strict: boolean;
}

export const DEFAULT_CONFIG: SyncConfig = {
  ...PAIR_SETTING_DEFAULTS,
  ignorePatterns: [],
  force: false,
  dryRun: false,
  versions: { retentionDays: 30 },
  syncEmptyDirectories: true,
  detectRenames: true,
  accessCheckFiles: [],
  strict: false,
};

const normalise = (value: string) => value.replace(/[-_\s]/g, '').toLowerCase();

const MODE_ALIASES: Record<string, SyncMode> = {
  tw: 'TWO_WAY',
  std: 'SOURCE_TO_DESTINATION',
  sb: 'SOURCE_BACKUP',
  dts: 'DESTINATION_TO_SOURCE',
  db: 'DESTINATION_BACKUP',
};

function parseEnum<T extends string>(
  what: string,
  values: readonly T[],
  aliases: Record<string, T>,
  input: string,
): T {
  const key = normalise(input);
  const alias = aliases[key];
  if (alias) return alias;
  const match = values.find((value) => normalise(value) === key);
  if (match) return match;
  throw new SyncError(
    'INVALID_CONFIG',
    `unknown ${what} "${input}": expected one of ${values.join(', ')}${
      Object.keys(aliases).length ? ` (or ${Object.keys(aliases).join(', ')})` : ''
    }`,
  );
}

/** Parses `TWO_WAY`, `twoWay`, `two-way`, `tw`, `std`, `sb`, `dts`, `db`, … */
export const parseSyncMode = (input: string): SyncMode =>
  parseEnum('sync mode', SYNC_MODES, MODE_ALIASES, input);

export const parseComparisonMode = (input: string): ComparisonMode =>
  parseEnum('comparison mode', COMPARISON_MODES, {}, input);

export const parseConflictStrategy = (input: string): ConflictStrategy =>
  parseEnum('conflict strategy', CONFLICT_STRATEGIES, {}, input);

/** Fills defaults and rejects settings that make no sense, naming the setting. */
export function resolveConfig(partial: Partial<SyncConfig> = {}): SyncConfig {
  const config: SyncConfig = {
    ...DEFAULT_CONFIG,
    ...partial,
    versions: { ...DEFAULT_CONFIG.versions, ...partial.versions },
  };
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new SyncError('INVALID_CONFIG', `${name} must be a whole number of at least 1, got ${value}`);
    }
  };
  positiveInt('transfers', config.transfers);
  positiveInt('operations', config.operations);
  if (
    config.bandwidthLimit !== null &&
    (!Number.isInteger(config.bandwidthLimit) || config.bandwidthLimit < BANDWIDTH_LIMIT_BOUNDS.min)
  ) {
    throw new SyncError(
      'INVALID_CONFIG',
      `bandwidthLimit must be a whole number of bytes per second of at least ${BANDWIDTH_LIMIT_BOUNDS.min} (1 KiB/s), or none, got ${config.bandwidthLimit}`,
    );
  }
  if (
    !Number.isFinite(config.maxDeletePercent) ||
    config.maxDeletePercent < 0 ||
    config.maxDeletePercent > 100
  ) {
    throw new SyncError(
      'INVALID_CONFIG',
      `maxDeletePercent must be between 0 and 100, got ${config.maxDeletePercent}`,
    );
  }
  if (!Number.isFinite(config.versions.retentionDays) || config.versions.retentionDays < 0) {
    throw new SyncError(
      'INVALID_CONFIG',
      `versions.retentionDays must be 0 or more, got ${config.versions.retentionDays}`,
    );
  }
  if (!SYNC_MODES.includes(config.mode)) parseSyncMode(config.mode);
  if (!COMPARISON_MODES.includes(config.comparisonMode)) parseComparisonMode(config.comparisonMode);
  if (!CONFLICT_STRATEGIES.includes(config.conflictResolution))
    parseConflictStrategy(config.conflictResolution);
  return config;
}
