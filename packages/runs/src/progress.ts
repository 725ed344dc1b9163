import { RUN_PROGRESS_MAX_TRANSFERS, type RunProgress } from '@syncengine/contracts';
import type { SyncEvent } from '@syncengine/engine';
import { PROGRESS_KINDS, SyncProgress } from '@syncengine/engine/progress';

/** How far back the transfer rate looks (ms). */
const RATE_WINDOW_MS = 5_000;

/**
 * Folds engine events into a run's progress: files and bytes done against the plan's
 * totals, the file being transferred, and the recent transfer rate.
 */
export class ProgressTracker {
  #progress: RunProgress = {
    phase: 'scanning',
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    currentFile: null,
    rateBytesPerSecond: 0,
  };
  /** Bytes of completed transfers. */
  #bytesCompleted = 0;
  /** Bytes so far of transfers in flight, by path. */
  #inFlight = new Map<string, number>();
  #samples: Array<{ at: number; bytes: number }> = [];
  /** Counts per kind and the transfers in flight, as the command line's display shows them. */
  readonly #detail: SyncProgress;

  constructor(private readonly now: () => number = Date.now) {
    this.#detail = new SyncProgress(now);
  }

  /** Applies one event; returns true when the progress changed. */
  apply(event: SyncEvent): boolean {
    this.#detail.apply(event);
    const p = this.#progress;
    switch (event.type) {
      case 'scan_start':
      case 'scan_progress':
      case 'scan_complete':
        p.phase = 'scanning';
        return true;
      case 'plan_ready':
        p.phase = 'planning';
        p.filesTotal = event.actions;
        p.bytesTotal = event.total_bytes;
        return true;
      case 'sync_start':
        p.phase = 'transferring';
        p.bytesTotal = event.total_bytes;
        return true;
      case 'upload_start':
      case 'download_start':
        this.#inFlight.set(event.path, 0);
        p.currentFile = event.path;
        return this.#updateBytes();
      case 'upload_progress':
      case 'download_progress':
        this.#inFlight.set(event.path, event.bytes_transferred);
        p.currentFile = event.path;
        return this.#updateBytes();
      case 'upload_complete':
      case 'download_complete':
        this.#inFlight.delete(event.path);
        this.#bytesCompleted += event.bytes;
        return this.#updateBytes();
      case 'delete_start':
        p.currentFile = event.path;
        return true;
      case 'action_complete':
        p.filesDone += 1;
        return true;
      case 'sync_complete':
        p.phase = 'finishing';
        p.currentFile = null;
        this.#inFlight.clear();
        return this.#updateBytes();
      default:
        return false;
    }
  }

  get progress(): RunProgress {
    const detail = this.#detail.snapshot;
    if (detail.syncStartedAt === null) return { ...this.#progress };
    const counts = Object.fromEntries(
      PROGRESS_KINDS.map((kind) => [kind, { done: detail.done[kind], total: detail.total[kind] }]),
    ) as NonNullable<RunProgress['counts']>;
    const transfers = detail.transfers
      .slice(0, RUN_PROGRESS_MAX_TRANSFERS)
      .map(({ path, bytesDone, size }) => ({ path, bytesDone, size }));
    return { ...this.#progress, counts, transfers };
  }

  #updateBytes(): boolean {
    let bytes = this.#bytesCompleted;
    for (const value of this.#inFlight.values()) bytes += value;
    this.#progress.bytesDone = bytes;
    const now = this.now();
    this.#samples.push({ at: now, bytes });
    while (this.#samples.length > 2 && this.#samples[0]!.at < now - RATE_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    const seconds = (now - first.at) / 1_000;
    this.#progress.rateBytesPerSecond = seconds > 0 ? Math.max(0, (bytes - first.bytes) / seconds) : 0;
    return true;
  }
}
