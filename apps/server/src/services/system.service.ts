import { statfs } from 'node:fs/promises';
import type { AllowedRoot, Health, ServerInfo } from '@syncengine/contracts';
import type { ConflictRepo, RunRepo } from '@syncengine/db';
import type { JobQueue } from '@syncengine/runs';
import { formatMetrics, type MetricsSnapshot } from '../metrics.js';

/** An allowed root with the free space of its file system; nulls where it cannot be read. */
async function describeRoot(path: string): Promise<AllowedRoot> {
  try {
    const stats = await statfs(path);
    return {
      path,
      exists: true,
      freeBytes: stats.bavail * stats.bsize,
      totalBytes: stats.blocks * stats.bsize,
    };
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code !== 'ENOENT';
    return { path, exists, freeBytes: null, totalBytes: null };
  }
}

export function createSystemService(deps: {
  version: string;
  database: { driver: 'postgres' | 'pglite'; ping(): Promise<boolean> };
  queue: Pick<JobQueue, 'driver' | 'isHealthy' | 'countWorkers'>;
  runs: Pick<RunRepo, 'countByStatus'>;
  conflicts: Pick<ConflictRepo, 'countPending'>;
  httpRequests(): MetricsSnapshot['httpRequests'];
  dataDir: string;
  allowedRoots: readonly string[];
}) {
  const startedAt = Date.now();
  const uptimeSeconds = () => (Date.now() - startedAt) / 1_000;
  return {
    async health(): Promise<Health> {
      const [isDatabaseUp, isQueueUp] = await Promise.all([
        deps.database.ping(),
        deps.queue.isHealthy().catch(() => false),
      ]);
      return {
        status: isDatabaseUp && isQueueUp ? 'ok' : 'degraded',
        version: deps.version,
        uptimeSeconds: Math.round(uptimeSeconds()),
        database: { status: isDatabaseUp ? 'up' : 'down', driver: deps.database.driver },
        queue: { status: isQueueUp ? 'up' : 'down', driver: deps.queue.driver },
      };
    },
    /** Version, mode, folders, free space per allowed root, runs waiting and workers online. */
    async info(): Promise<ServerInfo> {
      const isDistributed = deps.queue.driver === 'bullmq';
      const [allowedRoots, runsByStatus, workersOnline] = await Promise.all([
        Promise.all(deps.allowedRoots.map(describeRoot)),
        deps.runs.countByStatus(),
        isDistributed && deps.queue.countWorkers
          ? deps.queue.countWorkers().catch(() => 0)
          : Promise.resolve(null),
      ]);
      return {
        version: deps.version,
        mode: isDistributed ? 'distributed' : 'embedded',
        database: deps.database.driver,
        dataDir: deps.dataDir,
        allowedRoots,
        runs: {
          queued: runsByStatus.queued ?? 0,
          running: runsByStatus.running ?? 0,
          paused: runsByStatus.paused ?? 0,
        },
        workersOnline,
      };
    },
    async metrics(): Promise<string> {
      const [runsByStatus, conflictsPending] = await Promise.all([
        deps.runs.countByStatus(),
        deps.conflicts.countPending(),
      ]);
      const activeRuns =
        (runsByStatus.queued ?? 0) + (runsByStatus.running ?? 0) + (runsByStatus.paused ?? 0);
      return formatMetrics({
        runsByStatus,
        activeRuns,
        conflictsPending,
        httpRequests: deps.httpRequests(),
        uptimeSeconds: uptimeSeconds(),
      });
    },
  };
}
export type SystemService = ReturnType<typeof createSystemService>;
