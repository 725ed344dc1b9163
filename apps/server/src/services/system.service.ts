import type { Health } from '@syncengine/contracts';
import type { ConflictRepo, RunRepo } from '@syncengine/db';
import type { JobQueue } from '@syncengine/runs';
import { formatMetrics, type MetricsSnapshot } from '../metrics.js';

export function createSystemService(deps: {
  version: string;
  database: { driver: 'postgres' | 'pglite'; ping(): Promise<boolean> };
  queue: Pick<JobQueue, 'driver' | 'isHealthy'>;
  runs: Pick<RunRepo, 'countByStatus'>;
  conflicts: Pick<ConflictRepo, 'countPending'>;
  httpRequests(): MetricsSnapshot['httpRequests'];
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
