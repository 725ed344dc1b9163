/** Figures exported on `/metrics`. */
export interface MetricsSnapshot {
  runsByStatus: Record<string, number>;
  activeRuns: number;
  conflictsPending: number;
  /** Requests answered, by method, route pattern and status code. */
  httpRequests: Array<{ method: string; route: string; status: number; count: number }>;
  uptimeSeconds: number;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Prometheus text exposition format (version 0.0.4). */
export function formatMetrics(snapshot: MetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  metric('syncengine_runs', 'gauge', 'Sync runs in the database, by status.');
  const statuses = ['queued', 'running', 'paused', 'completed', 'needs_decision', 'failed', 'cancelled'];
  for (const status of new Set([...statuses, ...Object.keys(snapshot.runsByStatus)])) {
    lines.push(`syncengine_runs{status="${escapeLabel(status)}"} ${snapshot.runsByStatus[status] ?? 0}`);
  }
  metric('syncengine_active_runs', 'gauge', 'Runs queued, running or paused.');
  lines.push(`syncengine_active_runs ${snapshot.activeRuns}`);
  metric('syncengine_conflicts_pending', 'gauge', 'Manual conflicts waiting for a decision.');
  lines.push(`syncengine_conflicts_pending ${snapshot.conflictsPending}`);
  metric('syncengine_http_requests_total', 'counter', 'HTTP requests answered.');
  for (const entry of snapshot.httpRequests) {
    lines.push(
      `syncengine_http_requests_total{method="${escapeLabel(entry.method)}",route="${escapeLabel(entry.route)}",status="${entry.status}"} ${entry.count}`,
    );
  }
  metric('syncengine_uptime_seconds', 'gauge', 'Seconds since the server started.');
  lines.push(`syncengine_uptime_seconds ${Math.round(snapshot.uptimeSeconds)}`);
  return `${lines.join('\n')}\n`;
}

/** Counts answered requests per method, route pattern and status. */
export function createRequestCounter() {
  const counts = new Map<string, { method: string; route: string; status: number; count: number }>();
  return {
    record(method: string, route: string, status: number) {
      const key = `${method} ${route} ${status}`;
      const entry = counts.get(key);
      if (entry) entry.count += 1;
      else counts.set(key, { method, route, status, count: 1 });
    },
    snapshot() {
      return [...counts.values()].map((entry) => ({ ...entry }));
    },
  };
}
