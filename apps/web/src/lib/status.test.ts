import type { Pair, Run } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { newestResolution, pairStatus } from './status.js';

const pair = (overrides: Partial<Pair> = {}): Pair =>
  ({ id: 'p', enabled: true, lastRun: null, ...overrides }) as Pair;
const run = (status: Run['status']): Run => ({ id: 'r', pairId: 'p', status }) as Run;
const entry = (mtime: number) => ({ path: 'a', size: 1, mtime, isDir: false });

describe('pairStatus', () => {
  it('shows an active run before anything else', () => {
    expect(pairStatus(pair(), run('running'), 3)).toBe('running');
    expect(pairStatus(pair(), run('paused'), 0)).toBe('paused');
    expect(pairStatus(pair(), run('queued'), 0)).toBe('queued');
  });

  it('shows pending conflicts, then a failed last run, then idle', () => {
    const failed = pair({ lastRun: { id: 'r', status: 'failed', queuedAt: '', finishedAt: '' } });
    expect(pairStatus(failed, undefined, 2)).toBe('conflicts');
    expect(pairStatus(failed, undefined, 0)).toBe('failed');
    expect(pairStatus(pair(), run('completed'), 0)).toBe('idle');
    expect(pairStatus(pair({ enabled: false }), undefined, 0)).toBe('disabled');
  });
});

describe('newestResolution', () => {
  it('picks the later modified side, and keeps both within two seconds', () => {
    expect(newestResolution({ source: entry(10_000), destination: entry(1_000) })).toBe('source');
    expect(newestResolution({ source: entry(1_000), destination: entry(10_000) })).toBe('destination');
    expect(newestResolution({ source: entry(1_000), destination: entry(2_500) })).toBe('keep-both');
  });

  it('keeps the side that exists when the other is gone', () => {
    expect(newestResolution({ source: null, destination: entry(1) })).toBe('destination');
    expect(newestResolution({ source: entry(1), destination: null })).toBe('source');
  });
});
