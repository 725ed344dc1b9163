import { describe, expect, it } from 'vitest';
import { createRequestCounter, formatMetrics } from './metrics.js';

describe('formatMetrics', () => {
  it('writes the Prometheus text format with HELP and TYPE lines and every run status', () => {
    const text = formatMetrics({
      runsByStatus: { completed: 3, failed: 1 },
      activeRuns: 2,
      conflictsPending: 4,
      httpRequests: [{ method: 'GET', route: '/api/v1/pairs', status: 200, count: 7 }],
      uptimeSeconds: 12.4,
    });
    expect(text).toContain('# TYPE syncengine_runs gauge\n');
    expect(text).toContain('syncengine_runs{status="completed"} 3\n');
    expect(text).toContain('syncengine_runs{status="queued"} 0\n');
    expect(text).toContain('syncengine_active_runs 2\n');
    expect(text).toContain('syncengine_conflicts_pending 4\n');
    expect(text).toContain('# TYPE syncengine_http_requests_total counter\n');
    expect(text).toContain(
      'syncengine_http_requests_total{method="GET",route="/api/v1/pairs",status="200"} 7\n',
    );
    expect(text).toContain('syncengine_uptime_seconds 12\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes label values', () => {
    const text = formatMetrics({
      runsByStatus: {},
      activeRuns: 0,
      conflictsPending: 0,
      httpRequests: [{ method: 'GET', route: '/a"b\\c', status: 404, count: 1 }],
      uptimeSeconds: 0,
    });
    expect(text).toContain('route="/a\\"b\\\\c"');
  });
});

describe('createRequestCounter', () => {
  it('counts per method, route and status', () => {
    const counter = createRequestCounter();
    counter.record('GET', '/x', 200);
    counter.record('GET', '/x', 200);
    counter.record('GET', '/x', 404);
    expect(counter.snapshot()).toEqual([
      { method: 'GET', route: '/x', status: 200, count: 2 },
      { method: 'GET', route: '/x', status: 404, count: 1 },
    ]);
  });
});
