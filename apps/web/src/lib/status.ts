import type { Conflict, EntryMetadata, Pair, Run, RunStatus } from '@syncengine/contracts';

/** What the pairs list shows for a pair at a glance. */
export type PairStatus = 'disabled' | 'idle' | 'queued' | 'running' | 'paused' | 'failed' | 'conflicts';

export const PAIR_STATUS_INFO: Record<PairStatus, { label: string; color: string }> = {
  disabled: { label: 'Disabled', color: 'gray' },
  idle: { label: 'Idle', color: 'green' },
  queued: { label: 'Queued', color: 'yellow' },
  running: { label: 'Running', color: 'blue' },
  paused: { label: 'Paused', color: 'orange' },
  failed: { label: 'Last run failed', color: 'red' },
  conflicts: { label: 'Conflicts pending', color: 'orange' },
};

export const RUN_STATUS_COLOR: Record<RunStatus, string> = {
  queued: 'yellow',
  running: 'blue',
  paused: 'orange',
  completed: 'green',
  failed: 'red',
  cancelled: 'gray',
};

/**
 * A pair's status: an active run first (running, paused, queued), then conflicts waiting
 * for a decision, then the outcome of the last run.
 */
export function pairStatus(pair: Pair, activeRun: Run | undefined, pendingConflicts: number): PairStatus {
  const status = activeRun?.status;
  if (status === 'running' || status === 'paused' || status === 'queued') return status;
  if (pendingConflicts > 0) return 'conflicts';
  if (pair.lastRun?.status === 'failed') return 'failed';
  if (pair.lastRun && (pair.lastRun.status === 'running' || pair.lastRun.status === 'paused')) {
    return pair.lastRun.status;
  }
  if (!pair.enabled) return 'disabled';
  return 'idle';
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
