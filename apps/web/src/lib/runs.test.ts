import type { Run, RunStats } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { bytesMoved, filesMoved, runChartPoints, runDuration } from './runs.js';

const stats = (overrides: Partial<RunStats> = {}): RunStats => ({
  actions: { UPLOAD_NEW: 3, DELETE_DESTINATION: 1, NO_ACTION: 10, CONFLICT: 2 },
  bytesUploaded: 1024 * 1024,
  bytesDownloaded: 1024 * 1024,
  conflicts: 2,
  conflictsPending: 0,
  errors: 0,
  durationMs: 1500,
  ...overrides,
});

const run = (id: string, queuedAt: string, overrides: Partial<Run> = {}): Run => ({
  id,
  pairId: 'p',
  status: 'completed',
  trigger: 'manual',
  dryRun: false,
  queuedAt,
  startedAt: queuedAt,
  finishedAt: queuedAt,
  stats: stats(),
  error: null,
  progress: null,
  ...overrides,
});

describe('run figures', () => {
  it('counts files changed, leaving out unchanged paths and conflicts', () => {
    expect(filesMoved(stats())).toBe(4);
    expect(filesMoved(null)).toBe(0);
  });

  it('adds bytes up and down', () => {
    expect(bytesMoved(stats())).toBe(2 * 1024 * 1024);
  });

  it('takes the duration from the stats, else from the timestamps', () => {
    expect(runDuration(run('a', '2025-01-01T00:00:00.000Z'))).toBe(1500);
    expect(
      runDuration(
        run('a', '2025-01-01T00:00:00.000Z', { stats: null, finishedAt: '2025-01-01T00:00:05.000Z' }),
      ),
    ).toBe(5000);
  });
});

describe('runChartPoints', () => {
  it('keeps the last finished real runs, oldest first', () => {
    const points = runChartPoints(
      [
        run('new', '2025-01-03T00:00:00.000Z'),
        run('dry', '2025-01-04T00:00:00.000Z', { dryRun: true }),
        run('live', '2025-01-05T00:00:00.000Z', { finishedAt: null, status: 'running' }),
        run('old', '2025-01-01T00:00:00.000Z'),
        run('mid', '2025-01-02T00:00:00.000Z'),
      ],
      2,
    );
    expect(points.map((point) => point.runId)).toEqual(['mid', 'new']);
    expect(points[0]).toMatchObject({ durationSeconds: 1.5, bytes: 2 * 1024 * 1024 });
  });
});
