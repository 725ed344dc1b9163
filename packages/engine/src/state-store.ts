import { createHash } from 'node:crypto';
import type { Entry, LastKnownState, Side } from './model.js';
import type { ListingDigest } from './storage.js';

/**
 * One path's new last-known record after an action completed: both sides' entries, or
 * null on both to forget the path.
 */
export interface StateChange {
  path: string;
  source: Entry | null;
  destination: Entry | null;
}

/** A conflict the last run left unresolved (skipped, or waiting for a manual decision). */
export interface PendingConflictRecord {
  path: string;
  source: Entry | null;
  destination: Entry | null;
  detectedAt: number;
}

/**
 * Version of the saved state's layout (every store's), recorded in `SyncMetadata.formatVersion`
 * by every run. 2: file records keep the ctime where the backend has one (`Entry.ctime`). A
 * record of an earlier version has none; the engine then looks at the file again (hashes it
 * where it would compare hashes) rather than reuse the record, and records the ctime.
 */
export const STATE_FORMAT_VERSION = 2;

export interface SyncMetadata {
  /** Identity of the pair, to refuse a state that belongs to other locations. */
  pairId: string;
  sourceDescription?: string;
  destinationDescription?: string;
  formatVersion: number;
  lastRunAt?: number;
  lastRunStatus?: string;
  pendingConflicts: PendingConflictRecord[];
  /**
   * Both trees as the last run left them, in sync with the saved state: a run that finds
   * both digests unchanged has nothing to do and reads neither the state nor a listing.
   */
  treeFingerprint?: TreeFingerprint;
}

/** What `SyncMetadata.treeFingerprint` holds. */
export interface TreeFingerprint {
  /** The locations and the settings that shape a listing and a plan, hashed: another key, another pair. */
  key: string;
  source: SideFingerprint;
  destination: SideFingerprint;
  /** What the listings warned about (symbolic links skipped, say): told again by runs that skip them. */
  warnings: string[];
}

export interface SideFingerprint extends ListingDigest {
  /** Entries in the tree (files and folders). */
  entries: number;
}

/**
 * Part of the saved state, as a run that lists part of the trees needs it: each folder's own
 * record with its direct items' records, each subtree's root with every record below it, and
 * single paths.
 */
export interface StatePart {
  /** Folders whose own record and whose direct items' records are wanted (`''`: the root's items). */
  folders: readonly string[];
  /** Paths whose record and every record below them are wanted. */
  subtrees: readonly string[];
  /** Paths whose record alone is wanted. */
  paths: readonly string[];
}

/** What `StateStore.loadPart` returns. */
export interface PartialState {
  /** The records within the part, on both sides (a path without a record is absent). */
  state: LastKnownState;
  /** The whole saved state's size per side: its entries (files and folders), and of those the files. */
  counts: Record<Side, { entries: number; files: number }>;
}

/**
 * Where the last-known state lives between runs: files for the CLI, Postgres for the server.
 *
 * `load()` returns null on a first sync. A store that finds its data corrupt or
 * truncated must throw `SyncError('STATE_CORRUPT')` (the engine reports it and runs a
 * first-sync merge), never return an empty state, which would read as "everything was
 * deleted".
 */
export interface StateStore {
  /**
   * Optional: the identity of the pair this store belongs to (it refuses metadata of another
   * pair). A run that finds no readable metadata records this one; stores without it get
   * `pairIdFor` of the two locations' descriptions.
   */
  readonly pairId?: string;
  load(): Promise<LastKnownState | null>;
  /** Replaces the whole state (end of a run). */
  save(state: LastKnownState): Promise<void>;
  /** Durably records per-action changes during a run, so an interrupted run resumes. */
  update(changes: StateChange[]): Promise<void>;
  /**
   * Optional: true when the changes recorded with `update()` since the last `save()` may
   * stay as they are, so a run whose every change went through `update()` can skip the
   * full `save()` (a file store keeps its journal while it is small next to the trees).
   */
  keepsUpdates?(): Promise<boolean>;
  /**
   * Optional: the records within `part` (see `StatePart`) and the saved state's size, without
   * reading the rest; null where no state is saved (a first sync). The same records `load()`
   * would give for those paths, the changes recorded with `update()` included. A store that
   * has it keeps what `update()` records without a `save()` at the end of the run: a run that
   * loaded part of the state records every change with `update()` and never saves it whole.
   */
  loadPart?(part: StatePart): Promise<PartialState | null>;
  /**
   * Optional, with `loadPart`: records of one side whose size is one of `sizes`, files only, at
   * most `perSize` of each size (any of them): where a file that appeared in part of the trees
   * may have been renamed or moved from.
   */
  recordsOfSize?(side: Side, sizes: readonly number[], perSize: number): Promise<Entry[]>;
  /**
   * Optional, with `loadPart`: folds what `update()` recorded into the saved state, where
   * `keepsUpdates()` says it should no longer be kept apart (a file store's journal grown large).
   */
  compact?(): Promise<void>;
  /**
   * Optional, with `loadPart`: the whole state as recorded so far (the last save and every
   * `update()` since) holds `counts` entries and files per side. A store whose `loadPart()`
   * would otherwise read the records `update()` replaced to count them keeps this instead.
   */
  checkpointCounts?(counts: Record<Side, { entries: number; files: number }>): Promise<void>;
  loadMetadata(): Promise<SyncMetadata | null>;
  saveMetadata(metadata: SyncMetadata): Promise<void>;
}

/** True for a whole `TreeFingerprint` (as read back from a store). */
export function isTreeFingerprint(value: unknown): value is TreeFingerprint {
  if (typeof value !== 'object' || value === null) return false;
  const { key, source, destination, warnings } = value as Partial<TreeFingerprint>;
  const isSide = (side: unknown): side is SideFingerprint => {
    if (typeof side !== 'object' || side === null) return false;
    const { folders, skipped, entries } = side as Partial<SideFingerprint>;
    return (
      typeof folders === 'object' &&
      folders !== null &&
      Object.values(folders).every((digest) => typeof digest === 'string') &&
      Number.isInteger(entries) &&
      Array.isArray(skipped) &&
      skipped.every((path) => typeof path === 'string')
    );
  };
  return (
    typeof key === 'string' &&
    isSide(source) &&
    isSide(destination) &&
    Array.isArray(warnings) &&
    warnings.every((warning) => typeof warning === 'string')
  );
}

/**
 * The identity of a pair: a shortened sha256 of its two locations, in order. The same two
 * locations always give the same id, so a pair's state is found again by every later run and
 * never confused with another pair's.
 */
export function pairIdFor(source: string, destination: string): string {
  return createHash('sha256').update(`${source}\n${destination}`).digest('hex').slice(0, 16);
}
