import type { SyncEvent } from './events.js';
import type { PlannedAction, Side } from './model.js';

/**
 * What one planned action counts as in a run's progress. Totals and done counts are both
 * derived from this one function, so a count can never run past its total: a folder that
 * is created is a `folder`, not a file, on both sides of the fraction.
 */
export const PROGRESS_KINDS = ['file', 'folder', 'delete', 'rename', 'conflict', 'check'] as const;
export type ProgressKind = (typeof PROGRESS_KINDS)[number];

/** The kind of one action: NO_ACTION is a check; any action on a folder counts as a folder. */
export function progressKindOf(action: Pick<PlannedAction, 'type' | 'isDir'>): ProgressKind {
  if (action.type === 'NO_ACTION') return 'check';
  if (action.type === 'CONFLICT') return 'conflict';
  if (action.isDir) return 'folder';
  if (action.type.startsWith('DELETE_')) return 'delete';
  if (action.type.startsWith('RENAME_')) return 'rename';
  return 'file';
}

/** How many actions of each kind a plan holds, and the bytes it moves. */
export type ProgressTotals = Record<ProgressKind, number> & { bytes: number };

export function emptyProgressTotals(): ProgressTotals {
  return { file: 0, folder: 0, delete: 0, rename: 0, conflict: 0, check: 0, bytes: 0 };
}

export function progressTotalsOf(actions: readonly PlannedAction[]): ProgressTotals {
  const totals = emptyProgressTotals();
  for (const action of actions) {
    totals[progressKindOf(action)] += 1;
    totals.bytes += action.bytes;
  }
  return totals;
}

/** A transfer in flight. */
export interface TransferInFlight {
  path: string;
  direction: 'upload' | 'download';
  bytesDone: number;
  /** The file's size as planned. */
  size: number;
  startedAt: number;
}

export type ProgressPhase = 'starting' | 'scanning' | 'planning' | 'syncing' | 'paused' | 'finished';

/** Where a run stands, as {@link SyncProgress} folds it from the engine's events. */
export interface ProgressSnapshot {
  phase: ProgressPhase;
  /** Entries listed so far, per side. */
  scanned: Record<Side, number>;
  /** Per kind, actions finished without error. Never above `total` of the same kind. */
  done: Record<ProgressKind, number>;
  total: ProgressTotals;
  /** Actions that failed. */
  errors: number;
  /** Bytes of finished transfers plus what transfers in flight have moved so far. */
  bytesDone: number;
  /** Transfers in flight, oldest first. */
  transfers: TransferInFlight[];
  /** When the transfers started (`sync_start`), or null before. */
  syncStartedAt: number | null;
  /** Bytes per second over the last few seconds. */
  rateBytesPerSecond: number;
}

/** How far back the transfer rate looks (ms). */
const RATE_WINDOW_MS = 5_000;

/**
 * Folds engine events into counts a progress display can show: files, folders, deletes,
 * renames, conflicts and checks done against the plan's totals, bytes, the transfers in
 * flight and the recent rate.
 */
export class SyncProgress {
  #phase: ProgressPhase = 'starting';
  #scanned: Record<Side, number> = { source: 0, destination: 0 };
  #done: Record<ProgressKind, number> = { file: 0, folder: 0, delete: 0, rename: 0, conflict: 0, check: 0 };
  #total = emptyProgressTotals();
  #errors = 0;
  #bytesCompleted = 0;
  #inFlight = new Map<string, TransferInFlight>();
  #syncStartedAt: number | null = null;
  #samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  apply(event: SyncEvent): void {
    switch (event.type) {
      case 'scan_start':
        this.#phase = 'scanning';
        break;
      case 'scan_progress':
      case 'scan_complete':
        this.#scanned[event.side] = event.files;
        break;
      case 'plan_ready':
        this.#phase = 'planning';
        break;
      case 'sync_start':
        this.#phase = 'syncing';
        this.#total = { ...event.totals };
        this.#syncStartedAt = this.now();
        break;
      case 'upload_start':
      case 'download_start':
        this.#inFlight.set(event.path, {
          path: event.path,
          direction: event.type === 'upload_start' ? 'upload' : 'download',
          bytesDone: 0,
          size: event.total_bytes,
          startedAt: this.now(),
        });
        this.#sample();
        break;
      case 'upload_progress':
      case 'download_progress': {
        const transfer = this.#inFlight.get(event.path);
        if (transfer) transfer.bytesDone = event.bytes_transferred;
        this.#sample();
        break;
      }
      case 'upload_complete':
      case 'download_complete':
        this.#inFlight.delete(event.path);
        this.#bytesCompleted += event.bytes;
        this.#sample();
        break;
      case 'action_complete':
        // A failed transfer sends no *_complete event: it ends here.
        this.#inFlight.delete(event.action.path);
        if (event.error !== undefined) this.#errors += 1;
        else this.#done[progressKindOf(event.action)] += 1;
        break;
      case 'paused':
        this.#phase = 'paused';
        break;
      case 'resumed':
        this.#phase = 'syncing';
        break;
      case 'sync_complete':
        this.#phase = 'finished';
        this.#inFlight.clear();
        break;
      default:
        break;
    }
  }

  get snapshot(): ProgressSnapshot {
    const bytesDone = this.#bytesDone();
    return {
      phase: this.#phase,
      scanned: { ...this.#scanned },
      done: { ...this.#done },
      // A file that grew since it was planned moves more than planned: the total follows.
      total: { ...this.#total, bytes: Math.max(this.#total.bytes, bytesDone) },
      errors: this.#errors,
      bytesDone,
      transfers: [...this.#inFlight.values()].map((transfer) => ({ ...transfer })),
      syncStartedAt: this.#syncStartedAt,
      rateBytesPerSecond: this.#rate(),
    };
  }

  #bytesDone(): number {
    let bytes = this.#bytesCompleted;
    for (const transfer of this.#inFlight.values()) bytes += transfer.bytesDone;
    return bytes;
  }

  #sample(): void {
    const now = this.now();
    this.#samples.push({ at: now, bytes: this.#bytesDone() });
    while (this.#samples.length > 2 && this.#samples[0]!.at < now - RATE_WINDOW_MS) this.#samples.shift();
  }

  #rate(): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last) return 0;
    // Measured up to now, so a stalled transfer's rate falls towards zero.
    const seconds = (Math.max(this.now(), last.at) - first.at) / 1_000;
    return seconds > 0 ? Math.max(0, (last.bytes - first.bytes) / seconds) : 0;
  }
}
