import type { Clock } from './clock.js';
import type { SyncConfig } from './config.js';
import type { SyncController } from './controller.js';
import type { EventSink, SyncStatus } from './events.js';
import type { ConflictInfo, ConflictResolution, LastKnownState, Plan, SyncStats, Tree } from './model.js';
import type { StateStore } from './state-store.js';
import type { Storage } from './storage.js';

/** Decides a MANUAL conflict. `skip` leaves both sides as they are and the conflict pending. */
export type ConflictHandler = (conflict: ConflictInfo) => Promise<ConflictResolution>;

/** Input of the pure planner. Entries carry whatever hashes the orchestrator filled in. */
export interface PlanInput {
  source: Tree;
  destination: Tree;
  /** null on a first sync. */
  lastKnown: LastKnownState | null;
  config: SyncConfig;
  /**
   * Paths left out of this run on both sides (a folder that could not be read, paths that
   * differ only in case), already removed from the trees and records with everything below
   * them: a folder above one is never deleted, as something below it stays.
   */
  leftOut?: ReadonlySet<string>;
}

/** Paths whose content hash the planner needs before it can decide, per side. */
export interface HashNeeds {
  source: string[];
  destination: string[];
}

export interface SyncOptions {
  source: Storage;
  destination: Storage;
  state: StateStore;
  config?: Partial<SyncConfig>;
  onEvent?: EventSink;
  controller?: SyncController;
  /** Required for MANUAL; without one, manual conflicts are skipped and reported. */
  onConflict?: ConflictHandler;
  clock?: Clock;
  /**
   * An incremental run (SPEC §12): only these paths changed, each with everything below it
   * (a watcher's notifications). The run lists and plans them, the folders above them and
   * where a new file among them was renamed from, not the whole trees; the decision tables
   * are those of a full run. A full run is made instead on a first sync or when an ignore
   * file changed.
   */
  changedPaths?: readonly string[];
}

export interface SyncRunError {
  path?: string;
  code: string;
  message: string;
}

export interface SyncResult {
  status: SyncStatus;
  plan: Plan;
  stats: SyncStats;
  errors: SyncRunError[];
  /** Conflicts left unresolved (skipped, or no handler for MANUAL). */
  pendingConflicts: ConflictInfo[];
  warnings: string[];
  /**
   * Files left for the next run (CHANGED_DURING_TRANSFER): one that changed or vanished while
   * the run copied it (a log being written, a download in progress), or whose target changed.
   * Nothing of them was written or recorded as synced; each is also in `warnings`. They do
   * not fail the run.
   */
  deferred: SyncRunError[];
}
