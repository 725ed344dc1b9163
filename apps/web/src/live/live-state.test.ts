import type { Conflict, Run, RunAction, RunProgress } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import {
  activeRunOfPair,
  initialLiveState,
  type LiveMessage,
  type LiveState,
  liveReducer,
  MAX_STREAMED_ACTIONS,
  MAX_WATCH_ACTIVITY,
  pendingConflictsByPair,
  reconnectDelay,
} from './live-state.js';

const run = (id: string, status: Run['status'], pairId = 'pair-1'): Run => ({
  id,
  pairId,
  status,
  trigger: 'manual',
  dryRun: false,
  queuedAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  stats: null,
  error: null,
  progress: null,
});
const progress = (filesDone: number): RunProgress => ({
  phase: 'transferring',
  filesDone,
  filesTotal: 10,
  bytesDone: filesDone * 100,
  bytesTotal: 1000,
  currentFile: `f${filesDone}`,
  rateBytesPerSecond: 50,
});
const action = (id: string): RunAction => ({
  id,
  runId: 'run-1',
  type: 'UPLOAD_NEW',
  path: `${id}.txt`,
  to: null,
  isDir: false,
  reason: 'created at source',
  bytes: 1,
  status: 'done',
  error: null,
  at: '2025-01-01T00:00:00.000Z',
});
const conflict = (id: string, pairId = 'pair-1'): Conflict =>
  ({ id, pairId, path: `${id}.txt`, status: 'pending' }) as Conflict;

const reduce = (messages: LiveMessage[], start: LiveState = initialLiveState) =>
  messages.reduce(liveReducer, start);

describe('liveReducer', () => {
  it('tracks a run from queued through progress and actions to completed', () => {
    const state = reduce([
      { type: 'socket.open' },
      { type: 'event', event: { type: 'run.queued', run: run('run-1', 'queued') } },
      { type: 'event', event: { type: 'run.started', run: run('run-1', 'running') } },
      {
        type: 'event',
        event: { type: 'run.progress', runId: 'run-1', pairId: 'pair-1', progress: progress(3) },
      },
      { type: 'event', event: { type: 'run.action', runId: 'run-1', pairId: 'pair-1', action: action('a') } },
      { type: 'event', event: { type: 'run.action', runId: 'run-1', pairId: 'pair-1', action: action('b') } },
      { type: 'event', event: { type: 'run.paused', runId: 'run-1', pairId: 'pair-1' } },
    ]);
    expect(state.runs['run-1']?.run?.status).toBe('paused');
    expect(state.runs['run-1']?.progress?.filesDone).toBe(3);
    expect(state.runs['run-1']?.actions.map((item) => item.path)).toEqual(['b.txt', 'a.txt']);
    expect(activeRunOfPair(state, 'pair-1')?.id).toBe('run-1');

    const done = reduce(
      [
        { type: 'event', event: { type: 'run.resumed', runId: 'run-1', pairId: 'pair-1' } },
        { type: 'event', event: { type: 'run.completed', run: run('run-1', 'completed') } },
      ],
      state,
    );
    expect(done.runs['run-1']?.run?.status).toBe('completed');
    expect(activeRunOfPair(done, 'pair-1')).toBeUndefined();
  });

  it('keeps only the newest streamed actions', () => {
    let state = initialLiveState;
    for (let index = 0; index < MAX_STREAMED_ACTIONS + 5; index += 1) {
      state = liveReducer(state, {
        type: 'event',
        event: { type: 'run.action', runId: 'run-1', pairId: 'pair-1', action: action(String(index)) },
      });
    }
    const actions = state.runs['run-1']?.actions ?? [];
    expect(actions).toHaveLength(MAX_STREAMED_ACTIONS);
    expect(actions[0]?.id).toBe(String(MAX_STREAMED_ACTIONS + 4));
  });

  it('counts failed attempts while disconnected and starts a new generation on reconnect', () => {
    const state = reduce([
      { type: 'socket.open' },
      { type: 'socket.closed' },
      { type: 'socket.connecting' },
      { type: 'socket.closed' },
    ]);
    expect(state.connection).toBe('reconnecting');
    expect(state.attempt).toBe(2);
    const reopened = liveReducer(state, { type: 'socket.open' });
    expect(reopened).toMatchObject({ connection: 'open', attempt: 0, generation: 2 });
  });

  it('replaces active runs and pending conflicts with the snapshot sent after a reconnect', () => {
    const before = reduce([
      { type: 'socket.open' },
      { type: 'event', event: { type: 'run.started', run: run('run-1', 'running') } },
      { type: 'event', event: { type: 'run.action', runId: 'run-1', pairId: 'pair-1', action: action('a') } },
      { type: 'event', event: { type: 'conflict.created', conflict: conflict('c1') } },
      { type: 'socket.closed' },
    ]);
    const after = reduce(
      [
        { type: 'socket.open' },
        {
          type: 'event',
          event: {
            type: 'snapshot',
            activeRuns: [{ ...run('run-1', 'paused'), progress: progress(7) }],
            pendingConflicts: [conflict('c2', 'pair-2')],
          },
        },
      ],
      before,
    );
    expect(after.runs['run-1']?.run?.status).toBe('paused');
    expect(after.runs['run-1']?.progress?.filesDone).toBe(7);
    expect(after.runs['run-1']?.actions).toHaveLength(1);
    expect(Object.keys(after.pendingConflicts)).toEqual(['c2']);
    expect(pendingConflictsByPair(after)).toEqual({ 'pair-2': 1 });
  });

  it('applies a batch of events in order, as one update', () => {
    const batched = liveReducer(initialLiveState, {
      type: 'events',
      events: [
        { type: 'run.started', run: run('run-1', 'running') },
        { type: 'run.action', runId: 'run-1', pairId: 'pair-1', action: action('a') },
        { type: 'run.progress', runId: 'run-1', pairId: 'pair-1', progress: progress(1) },
        { type: 'run.progress', runId: 'run-1', pairId: 'pair-1', progress: progress(2) },
        { type: 'run.completed', run: run('run-1', 'completed') },
      ],
    });
    expect(batched.runs['run-1']?.run?.status).toBe('completed');
    expect(batched.runs['run-1']?.progress?.filesDone).toBe(2);
    expect(batched.runs['run-1']?.actions).toHaveLength(1);
  });

  it('drops a conflict once it is resolved', () => {
    const state = reduce([
      { type: 'event', event: { type: 'conflict.created', conflict: conflict('c1') } },
      { type: 'event', event: { type: 'conflict.created', conflict: conflict('c2') } },
      { type: 'event', event: { type: 'conflict.resolved', conflict: conflict('c1') } },
    ]);
    expect(Object.keys(state.pendingConflicts)).toEqual(['c2']);
  });
});

describe('liveReducer with watched pairs', () => {
  const pairId = '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c11';
  const watch = (pendingChanges: number) => ({
    isWatching: true,
    watchedBy: 'server',
    modes: { source: 'notify' as const, destination: 'notify' as const },
    lastChangeAt: '2026-01-01T00:00:01.000Z',
    pendingChanges,
    fallbackReason: null,
    lastRunAt: null,
    problem: null,
  });

  it('keeps the latest watch state of a pair from its watch events, and forgets a deleted pair', () => {
    const messages: LiveMessage[] = [
      {
        type: 'event',
        event: {
          type: 'watch.changes',
          pairId,
          side: 'source',
          count: 3,
          paths: ['a', 'b', 'c'],
          watch: watch(3),
        },
      },
      {
        type: 'event',
        event: {
          type: 'watch.run_started',
          pairId,
          runId: '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c12',
          kind: 'incremental',
          reason: null,
          changes: 3,
          watch: watch(0),
        },
      },
    ];
    const state = messages.reduce(liveReducer, initialLiveState);
    expect(state.watches[pairId]?.pendingChanges).toBe(0);
    const afterChanges = liveReducer(initialLiveState, messages[0]!);
    expect(afterChanges.watches[pairId]?.pendingChanges).toBe(3);
    const deleted = liveReducer(state, { type: 'event', event: { type: 'pair.deleted', pairId } });
    expect(deleted.watches).toEqual({});
  });
});

describe("liveReducer: a watched pair's activity", () => {
  const pairId = '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c11';
  const watch = {
    isWatching: true,
    watchedBy: 'server',
    modes: { source: 'notify' as const, destination: 'notify' as const },
    lastChangeAt: '2026-01-01T00:00:01.000Z',
    pendingChanges: 1,
    fallbackReason: null,
    lastRunAt: null,
    problem: null,
  };
  const changes = (path: string): LiveMessage => ({
    type: 'event',
    event: { type: 'watch.changes', pairId, side: 'source', count: 1, paths: [path], watch },
    receivedAt: 5,
  });

  it('lists changes and started runs newest first, keeping the most recent ones', () => {
    const messages: LiveMessage[] = [
      changes('a.txt'),
      {
        type: 'events',
        receivedAt: 1_000,
        events: [
          {
            type: 'watch.run_started',
            pairId,
            runId: '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c12',
            kind: 'full',
            reason: 'rescan',
            changes: 0,
            watch,
          },
          { type: 'watch.state', pairId, watch: { ...watch, pendingChanges: 0 } },
        ],
      },
    ];
    const state = messages.reduce(liveReducer, initialLiveState);
    const activity = state.watchActivity[pairId] ?? [];
    expect(activity.map((entry) => entry.kind)).toEqual(['run', 'changes']);
    // A change carries the server's time; a run the time its event arrived.
    expect(activity.map((entry) => entry.at)).toEqual([1_000, '2026-01-01T00:00:01.000Z']);
    expect(activity[0]).toMatchObject({ runKind: 'full', reason: 'rescan' });
    expect(new Set(activity.map((entry) => entry.id)).size).toBe(2);
    expect(state.watches[pairId]?.pendingChanges).toBe(0);

    const many = Array.from({ length: MAX_WATCH_ACTIVITY + 5 }, (_, index) => changes(`f${index}`));
    const full = many.reduce(liveReducer, state);
    const kept = full.watchActivity[pairId] ?? [];
    expect(kept).toHaveLength(MAX_WATCH_ACTIVITY);
    expect(kept[0]).toMatchObject({ paths: [`f${MAX_WATCH_ACTIVITY + 4}`] });
  });

  it('forgets watch states on a new connection (the status check says where they stand), keeping the activity', () => {
    const state = liveReducer(initialLiveState, changes('a.txt'));
    const reconnected = liveReducer(state, {
      type: 'event',
      event: { type: 'snapshot', activeRuns: [], pendingConflicts: [] },
    });
    expect(state.watchesReceivedAt).toEqual({ [pairId]: 5 });
    expect(reconnected.watches).toEqual({});
    expect(reconnected.watchesReceivedAt).toEqual({});
    expect(reconnected.watchActivity[pairId]).toHaveLength(1);
    const deleted = liveReducer(state, { type: 'event', event: { type: 'pair.deleted', pairId } });
    expect(deleted.watchActivity).toEqual({});
  });
});

describe('reconnectDelay', () => {
  it('backs off exponentially up to 15 seconds', () => {
    expect([0, 1, 2, 3, 10].map(reconnectDelay)).toEqual([500, 1000, 2000, 4000, 15_000]);
  });
});
