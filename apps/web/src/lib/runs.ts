import type { Run, RunStats } from '@syncengine/contracts';
import { durationBetween } from './format.js';

/** Files a run changed: every action except NO_ACTION and CONFLICT. */
export function filesMoved(stats: RunStats | null): number {
  if (!stats) return 0;
  let total = 0;
  for (const [type, count] of Object.entries(stats.actions)) {
    if (type !== 'NO_ACTION' && type !== 'CONFLICT') total += count ?? 0;
  }
  return total;
}

export function bytesMoved(stats: RunStats | null): number {
  return stats ? stats.bytesUploaded + stats.bytesDownloaded : 0;
}

/** The run's duration: its stats, or the time between start and finish. */
export function runDuration(run: Run): number | null {
  return run.stats?.durationMs ?? durationBetween(run.startedAt, run.finishedAt);
}

/** One point of the history chart. */
export interface RunChartPoint {
  runId: string;
  label: string;
  durationSeconds: number;
  bytes: number;
  status: Run['status'];
}

/**
 * The last `limit` finished, real (not dry) runs, oldest first, as chart points: duration
 * in seconds and data moved in bytes.
 */
export function runChartPoints(runs: readonly Run[], limit = 30): RunChartPoint[] {
  return runs
    .filter((run) => !run.dryRun && run.finishedAt !== null)
    .sort((a, b) => Date.parse(a.queuedAt) - Date.parse(b.queuedAt))
    .slice(-limit)
    .map((run) => ({
      runId: run.id,
      label: new Date(run.startedAt ?? run.queuedAt).toLocaleString(undefined, {
        dateStyle: 'short',
        timeStyle: 'short',
      }),
      durationSeconds: Math.round(((runDuration(run) ?? 0) / 1000) * 10) / 10,
      bytes: bytesMoved(run.stats),
      status: run.status,
    }));
}
