import type { Entry, LastKnownState } from './model.js';

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

export interface SyncMetadata {
  /** Identity of the pair, to refuse a state that belongs to other locations. */
  pairId: string;
  sourceDescription?: string;
  destinationDescription?: string;
  formatVersion: number;
  lastRunAt?: number;
  lastRunStatus?: string;
  pendingConflicts: PendingConflictRecord[];
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
  loadMetadata(): Promise<SyncMetadata | null>;
  saveMetadata(metadata: SyncMetadata): Promise<void>;
}
