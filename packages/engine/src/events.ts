import type { ConflictInfo, PlannedAction, Side, SyncStats } from './model.js';
import type { ProgressTotals } from './progress.js';

/** Why a version was kept: an update overwrote it, a delete removed it, or it lost a conflict. */
export type VersionReason = 'overwritten' | 'deleted' | 'conflict';

/** Progress events, SPEC §10. Field names follow the SPEC. */
export type SyncEvent =
  | { type: 'scan_start'; side: Side }
  | { type: 'scan_progress'; side: Side; files: number }
  | { type: 'scan_complete'; side: Side; files: number }
  /** Temporary files of interrupted earlier runs that this run found and removed on one side. */
  | { type: 'temporary_files_removed'; side: Side; count: number }
  | { type: 'plan_ready'; actions: number; total_files: number; total_bytes: number }
  | {
      type: 'sync_start';
      total_files: number;
      total_bytes: number;
      /** Actions per progress kind (files, folders, deletes, ...), for progress displays. */
      totals: ProgressTotals;
    }
  | { type: 'upload_start'; path: string; total_bytes: number }
  | { type: 'upload_progress'; path: string; bytes_transferred: number; total_bytes: number }
  | { type: 'upload_complete'; path: string; bytes: number }
  | { type: 'download_start'; path: string; total_bytes: number }
  | { type: 'download_progress'; path: string; bytes_transferred: number; total_bytes: number }
  | { type: 'download_complete'; path: string; bytes: number }
  | { type: 'delete_start'; path: string; side: Side }
  | { type: 'delete_complete'; path: string; side: Side }
  | { type: 'rename_complete'; path: string; to: string; side: Side }
  /**
   * A file (or folder) that an action overwrote or deleted was kept in the versions area
   * of its side (SPEC §8), at `versionPath`; `reason` says what displaced it.
   */
  | { type: 'version_kept'; side: Side; path: string; versionPath: string; reason: VersionReason }
  /** Every action once it is done (or failed), for logs. */
  | { type: 'action_complete'; action: PlannedAction; error?: string }
  | { type: 'conflict'; conflict: ConflictInfo }
  | { type: 'warning'; message: string; path?: string }
  | { type: 'error'; message: string; code: string; path?: string }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'sync_complete'; stats: SyncStats; status: SyncStatus };

export type SyncEventType = SyncEvent['type'];

/** Receives events; must not throw and should return quickly. */
export type EventSink = (event: SyncEvent) => void;

/** How a run ended. */
export type SyncStatus =
  /** Every action done; both sides in sync (except conflicts still pending). */
  | 'completed'
  /** Cancelled; what was done is recorded, the next run continues. */
  | 'cancelled'
  /** Stopped before deleting anything because of the max-delete guard. */
  | 'max-delete'
  /** Some actions failed; the rest were done and recorded. */
  | 'failed';
