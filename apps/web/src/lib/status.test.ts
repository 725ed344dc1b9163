import type { Pair, PairSyncStatus, Run } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { newestResolution, pairStatus, pairStatusLabel } from './status.js';

const pair = (overrides: Partial<Pair> = {}): Pair =>
  ({ id: 'p', enabled: true, lastRun: null, ...overrides }) as Pair;
const run = (status: Run['status']): Run => ({ id: 'r', pairId: 'p', status }) as Run;
const entry = (mtime: number) => ({ path: 'a', size: 1, mtime, isDir: false });

describe('pairStatus', () => {
  const check = (state: PairSyncStatus['state'], outOfSync = 0) => ({ state, outOfSync }) as PairSyncStatus;

  it('shows an active run before anything else', () => {
    expect(pairStatus(pair(), run('running'), 3, check('error'))).toBe('running');
    expect(pairStatus(pair(), run('paused'), 0)).toBe('paused');
    expect(pairStatus(pair(), run('queued'), 0)).toBe('queued');
    expect(pairStatus(pair(), undefined, 0, check('syncing'))).toBe('running');
  });

  it('shows a side that cannot be reached as an error, never as in sync', () => {
    expect(pairStatus(pair(), undefined, 2, check('error'))).toBe('error');
    expect(pairStatus(pair({ enabled: false }), undefined, 0, check('error'))).toBe('error');
  });

  it('shows pending conflicts, then what the check found, a failed last run while out of sync', () => {
    const failed = pair({ lastRun: { id: 'r', status: 'failed', queuedAt: '', finishedAt: '' } });
    expect(pairStatus(failed, undefined, 2, check('in_sync'))).toBe('conflicts');
    expect(pairStatus(failed, undefined, 0, check('out_of_sync', 3))).toBe('failed');
    expect(pairStatus(failed, undefined, 0, check('in_sync'))).toBe('in_sync');
    expect(pairStatus(pair(), undefined, 0, check('out_of_sync', 3))).toBe('out_of_sync');
    expect(pairStatus(pair(), undefined, 0)).toBe('checking');
    expect(pairStatus(pair({ enabled: false }), undefined, 0, check('disabled'))).toBe('disabled');
  });

  it('counts items and conflicts in the label', () => {
    expect(pairStatusLabel('out_of_sync', { conflicts: 0, outOfSync: 1 })).toBe('1 item out of sync');
    expect(pairStatusLabel('out_of_sync', { conflicts: 0, outOfSync: 4 })).toBe('4 items out of sync');
    expect(pairStatusLabel('conflicts', { conflicts: 2, outOfSync: 0 })).toBe('2 conflicts');
    expect(pairStatusLabel('in_sync', { conflicts: 0, outOfSync: 0 })).toBe('In sync');
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
