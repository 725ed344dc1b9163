/**
 * The engine's vocabulary: entries, the three states of a pair, sync/comparison modes,
 * conflict strategies and planned actions. SPEC §1–§6.
 */

/** A hash algorithm a backend can offer. Two hashes are compared only when their algorithms match. */
export type HashAlgorithm = 'xxh3-128' | 'md5' | 'sha1' | 'sha256' | 'etag' | (string & {});

/**
 * What a backend reports for one path. Paths are relative to the location's root,
 * `/`-separated, NFC-normalised, never absolute and never containing `..`.
 */
export interface Entry {
  path: string;
  /** Bytes; 0 for directories. */
  size: number;
  /** Modification time in milliseconds since the epoch. */
  mtime: number;
  isDir: boolean;
  /** Content hash, where the backend has one (or the engine computed one). */
  hash?: string;
  hashAlgorithm?: HashAlgorithm;
  /** A backend file id that survives a rename: an inode number, a cloud object id. */
  id?: string;
  /**
   * Status change time in ms, where the backend has one (local disk): it moves with every
   * write, also one that kept the size and set the mtime back, and cannot be set. Only
   * compared with the same path's earlier ctime on the same side.
   */
  ctime?: number;
}

/** A whole tree, keyed by path. */
export type Tree = Map<string, Entry>;

/**
 * The last-known state: what both sides held, identical, at the end of the last sync.
 * Each side keeps its own metadata (mtimes and ids differ between backends).
 */
export interface LastKnownState {
  source: Tree;
  destination: Tree;
}

export const SYNC_MODES = [
  'TWO_WAY',
  'SOURCE_TO_DESTINATION',
  'SOURCE_BACKUP',
  'DESTINATION_TO_SOURCE',
  'DESTINATION_BACKUP',
] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export const COMPARISON_MODES = [
  'HASH_THEN_MTIME',
  'SIZE_ONLY',
  'HASH_ONLY',
  'MTIME_ONLY',
  'SIZE_AND_MTIME',
] as const;
export type ComparisonMode = (typeof COMPARISON_MODES)[number];

export const CONFLICT_STRATEGIES = ['NEWEST_WINS', 'SOURCE_WINS', 'DESTINATION_WINS', 'MANUAL'] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];

/**
 * SPEC defaults of the settings a pair stores: the one table that the engine's
 * `DEFAULT_CONFIG` and the API's `PAIR_DEFAULTS` both take them from (here, in the module
 * that imports nothing, so browsers read it without loading the engine).
 */
export const PAIR_SETTING_DEFAULTS: {
  readonly mode: SyncMode;
  readonly comparisonMode: ComparisonMode;
  readonly conflictResolution: ConflictStrategy;
  readonly transfers: number;
  readonly operations: number;
  readonly maxDeletePercent: number;
  /** Bytes per second for a run's transfers together; null for no limit. */
  readonly bandwidthLimit: number | null;
} = {
  mode: 'TWO_WAY',
  comparisonMode: 'HASH_THEN_MTIME',
  conflictResolution: 'NEWEST_WINS',
  transfers: 5,
  operations: 10,
  maxDeletePercent: 50,
  bandwidthLimit: null,
};

/**
 * Bounds of a bandwidth limit, in bytes per second: 1 KiB/s, and what a pair stores (2 GiB/s
 * less a byte). The engine takes any whole number from `min` up.
 */
export const BANDWIDTH_LIMIT_BOUNDS = { min: 1024, max: 2 ** 31 - 1 } as const;

/** How one conflict is settled. SPEC §6. */
export const CONFLICT_RESOLUTIONS = ['source', 'destination', 'keep-both', 'skip'] as const;
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];

/**
 * Actions. UPLOAD_* copy source → destination, DOWNLOAD_* copy destination → source.
 * RENAME_DESTINATION applies a rename seen at the source to the destination, and
 * RENAME_SOURCE the other way round.
 */
export const ACTION_TYPES = [
  'UPLOAD_NEW',
  'UPLOAD_UPDATE',
  'UPLOAD_RESTORE',
  'DOWNLOAD_NEW',
  'DOWNLOAD_UPDATE',
  'DOWNLOAD_RESTORE',
  'DELETE_SOURCE',
  'DELETE_DESTINATION',
  'RENAME_SOURCE',
  'RENAME_DESTINATION',
  'NO_ACTION',
  'CONFLICT',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export type Side = 'source' | 'destination';

/** A conflict: both sides changed differently (or differ on a first sync). */
export interface ConflictInfo {
  path: string;
  source: Entry | null;
  destination: Entry | null;
  /**
   * The resolution the strategy chose at planning time. Absent for MANUAL, where the
   * executor asks the conflict handler.
   */
  resolution?: ConflictResolution;
}

/** One step of a plan, with the table cell that produced it. */
export interface PlannedAction {
  type: ActionType;
  path: string;
  /** The new path, for renames. */
  to?: string;
  /** Which table cell (or rule) produced this action, e.g. `two-way: modified / unchanged`. */
  reason: string;
  /** Bytes this action will move (0 for deletes, renames and directories). */
  bytes: number;
  /** Metadata seen at planning time, used to detect a file that changed since. */
  source?: Entry | null;
  destination?: Entry | null;
  isDir?: boolean;
  conflict?: ConflictInfo;
  /**
   * NO_ACTION on a pair found identical by hash whose mtimes differ, under a comparison mode
   * that looks at mtimes: the mtime to give the file on `side`, so both sides agree again.
   */
  setMtime?: { side: Side; mtime: number };
  /**
   * Set where one side holds a file at `path` and the other a folder (a type change, or a
   * clash): every path below `path` on either side or in the last-known state, parents
   * first. The action settles them with `path`: the folder that wins is copied across with
   * everything in it; the file or folder that loses goes to the versions area of its side
   * (or, kept both, the file to its conflict name). They get no actions of their own.
   */
  subtree?: string[];
}

export interface Plan {
  actions: PlannedAction[];
  /** Paths whose last-known entry should be dropped or refreshed without moving data (NO_ACTION bookkeeping). */
  totals: { files: number; bytes: number; deletes: { source: number; destination: number } };
  /** True when planned without a last-known state (first sync: merge, never delete). */
  isFirstSync: boolean;
  warnings: string[];
}

/** SPEC §10 stats. */
export interface SyncStats {
  actions: Partial<Record<ActionType, number>>;
  bytesUploaded: number;
  bytesDownloaded: number;
  conflicts: number;
  conflictsPending: number;
  errors: number;
  durationMs: number;
  /** Temporary files that interrupted earlier runs left behind, removed by this run (SPEC §8). */
  temporaryFilesRemoved: number;
  /**
   * Files left for the next run because they changed (or vanished) while this run copied
   * them: warnings, not errors (`SyncResult.deferred`).
   */
  deferred: number;
}
