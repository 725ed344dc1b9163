import type { Conflict, EntryMetadata, Pair, PairSyncStatus, Run, RunStatus } from '@syncengine/contracts';

/** What the dashboard shows for a pair at a glance. */
export type PairStatus =
  | 'checking'
  | 'in_sync'
  | 'out_of_sync'
  | 'disabled'
  | 'queued'
  | 'running'
  | 'paused'
  | 'error'
  | 'failed'
  | 'conflicts';

export const PAIR_STATUS_INFO: Record<PairStatus, { label: string; color: string }> = {
  checking: { label: 'Checking…', color: 'gray' },
  in_sync: { label: 'In sync', color: 'green' },
  out_of_sync: { label: 'Out of sync', color: 'yellow' },
  disabled: { label: 'Disabled', color: 'gray' },
  queued: { label: 'Queued', color: 'yellow' },
  running: { label: 'Syncing', color: 'blue' },
  paused: { label: 'Paused', color: 'orange' },
  error: { label: 'Error', color: 'red' },
  failed: { label: 'Last run failed', color: 'red' },
  conflicts: { label: 'Conflicts pending', color: 'orange' },
};

export const RUN_STATUS_COLOR: Record<RunStatus, string> = {
  queued: 'yellow',
  running: 'blue',
  paused: 'orange',
  completed: 'green',
  needs_decision: 'orange',
  failed: 'red',
  cancelled: 'gray',
};

/**
 * A pair's status: an active run first (running, paused, queued), then a side that cannot
 * be reached, conflicts waiting for a decision, then what the last check found (a failed
 * last run shows while the pair is still out of sync).
 */
export function pairStatus(
  pair: Pair,
  activeRun: Run | undefined,
  pendingConflicts: number,
  check?: PairSyncStatus | undefined,
): PairStatus {
  const status = activeRun?.status;
  if (status === 'running' || status === 'paused' || status === 'queued') return status;
  if (check?.state === 'syncing') return 'running';
  if (check?.state === 'paused') return 'paused';
  if (check?.state === 'error') return 'error';
  if (pendingConflicts > 0) return 'conflicts';
  if (!pair.enabled) return 'disabled';
  if (!check) return pair.lastRun?.status === 'failed' ? 'failed' : 'checking';
  if (check.state === 'in_sync') return 'in_sync';
  return pair.lastRun?.status === 'failed' ? 'failed' : 'out_of_sync';
}

/** The badge text: counts where there are some ("3 items out of sync", "2 conflicts"). */
export function pairStatusLabel(
  status: PairStatus,
  counts: { conflicts: number; outOfSync: number },
): string {
  if (status === 'conflicts') return `${counts.conflicts} conflict${counts.conflicts === 1 ? '' : 's'}`;
  if (status === 'out_of_sync') {
    return `${counts.outOfSync} item${counts.outOfSync === 1 ? '' : 's'} out of sync`;
  }
  return PAIR_STATUS_INFO[status].label;
}

/**
 * The side "newest wins" picks for a conflict: the later modified time, keep both when
 * the times are within 2 s (as the engine does), the existing side when one is missing.
 */
export function newestResolution(
  conflict: Pick<Conflict, 'source' | 'destination'>,
): 'source' | 'destination' | 'keep-both' {
  const { source, destination } = conflict;
  if (!destination) return 'source';
  if (!source) return 'destination';
  return compareMtime(source, destination);
}

function compareMtime(
  source: EntryMetadata,
  destination: EntryMetadata,
): 'source' | 'destination' | 'keep-both' {
  const diff = source.mtime - destination.mtime;
  if (Math.abs(diff) <= 2000) return 'keep-both';
  return diff > 0 ? 'source' : 'destination';
}

/** `1 conflict waits for you` / `3 conflicts wait for you`. */
export const conflictsWaiting = (count: number): string =>
  count === 1 ? '1 conflict waits for you' : `${count} conflicts wait for you`;
