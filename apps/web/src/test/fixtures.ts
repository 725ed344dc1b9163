import type { Pair } from '@syncengine/contracts';

/** A pair as the API answers it: two local folders, defaults elsewhere, not watched. */
export const pairFixture = (id: string, name: string, overrides: Partial<Pair> = {}): Pair => ({
  id,
  name,
  source: { type: 'local', path: '/a', secretsSet: [] },
  destination: { type: 'local', path: '/b', secretsSet: [] },
  mode: 'TWO_WAY',
  comparisonMode: 'HASH_THEN_MTIME',
  conflictResolution: 'NEWEST_WINS',
  ignorePatterns: [],
  concurrency: { transfers: 4, operations: 8 },
  maxDeletePercent: 50,
  bandwidthLimit: null,
  schedule: null,
  enabled: true,
  watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  lastRun: null,
  nextRunAt: null,
  ...overrides,
});
