import type { PairWatchState } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import type { LiveState } from '../live/live-state.js';
import {
  describeActivity,
  describeSideMode,
  pairWatchState,
  pendingChangesLabel,
  watchBadgeKind,
} from './watch.js';

const state = (overrides: Partial<PairWatchState> = {}): PairWatchState => ({
  isWatching: true,
  watchedBy: 'server',
  modes: { source: 'notify', destination: 'notify' },
  lastChangeAt: null,
  pendingChanges: 0,
  fallbackReason: null,
  lastRunAt: null,
  problem: null,
  ...overrides,
});

const settings = (enabled: boolean) => ({ enabled, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 });

describe('pairWatchState', () => {
  const pair = { id: 'p1', watch: settings(true) };
  const check = (pendingChanges: number, receivedAt: number) => ({
    status: { watch: state({ pendingChanges }) },
    receivedAt,
  });
  const live = (
    pendingChanges: number,
    receivedAt?: number,
  ): Pick<LiveState, 'watches' | 'watchesReceivedAt'> => ({
    watches: { p1: state({ pendingChanges }) },
    watchesReceivedAt: receivedAt === undefined ? {} : { p1: receivedAt },
  });
  const none = { watches: {}, watchesReceivedAt: {} };

  it('takes whichever of the latest watch event and the status check arrived last', () => {
    expect(pairWatchState(pair, none, check(1, 100))?.pendingChanges).toBe(1);
    expect(pairWatchState(pair, live(7, 200), check(1, 100))?.pendingChanges).toBe(7);
    // A later check corrects what no event announced (changes dropped as the run's own writes).
    expect(pairWatchState(pair, live(7, 200), check(0, 300))?.pendingChanges).toBe(0);
    expect(pairWatchState(pair, live(7, 200), undefined)?.pendingChanges).toBe(7);
    expect(pairWatchState(pair, none, undefined)).toBeNull();
  });

  it('reports nothing for a pair whose watch setting is off, whatever was reported before', () => {
    const off = { id: 'p1', watch: settings(false) };
    expect(pairWatchState(off, live(1, 200), check(1, 300))).toBeNull();
  });
});

describe('watchBadgeKind', () => {
  it.each([
    [null, 'starting'],
    [state(), 'live'],
    [state({ modes: { source: 'notify', destination: 'poll' } }), 'live'],
    [state({ modes: { source: 'fallback-poll', destination: 'poll' } }), 'polling'],
    [state({ isWatching: false, modes: { source: null, destination: null } }), 'stopped'],
  ] as const)('%j reads as %s', (watch, kind) => {
    expect(watchBadgeKind(watch)).toBe(kind);
  });
});

describe('watch texts', () => {
  it('names how a side is watched, with the poll interval where it is polled', () => {
    expect(describeSideMode('notify', 30)).toBe('change notifications');
    expect(describeSideMode('poll', 30)).toBe('polled every 30 s');
    expect(describeSideMode('fallback-poll', 30)).toBe('polled every 30 s (notifications failed)');
    expect(describeSideMode(null, 30)).toBe('not watched');
  });

  it('counts what waits', () => {
    expect([0, 1, 2].map(pendingChangesLabel)).toEqual([
      'Nothing waiting',
      '1 change waiting',
      '2 changes waiting',
    ]);
  });

  it('says what a watch saw and which run it started', () => {
    const base = { id: 1, at: null };
    expect(
      describeActivity({ ...base, kind: 'changes', side: 'destination', count: 1, paths: ['a.txt'] }),
    ).toBe('1 change on destination: a.txt');
    expect(
      describeActivity({ ...base, kind: 'changes', side: 'source', count: 30, paths: ['a', 'b', 'c', 'd'] }),
    ).toBe('30 changes on source: a, b, c and 27 more');
    const run = { ...base, kind: 'run' as const, runId: 'r', changes: 2 };
    expect(describeActivity({ ...run, runKind: 'incremental', reason: null })).toBe(
      'Run started for 2 changes',
    );
    expect(describeActivity({ ...run, runKind: 'full', reason: 'rescan' })).toBe(
      'Full run started after the periodic rescan',
    );
  });
});
