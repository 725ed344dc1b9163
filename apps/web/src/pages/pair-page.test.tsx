import type { PairSyncStatus, PairWatchState, Run } from '@syncengine/contracts';
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveProvider } from '../live/live-provider.js';
import { FakeSocket } from '../test/fake-socket.js';
import { pairFixture } from '../test/fixtures.js';
import { renderPage } from '../test/render.js';
import { PairPage } from './pair-page.js';

const PAIR_ID = '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c11';
const RUN_ID = '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c12';

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

const pair = pairFixture(PAIR_ID, 'Documents', {
  source: { type: 'local', path: '/data/docs', secretsSet: [] },
  destination: { type: 'sftp', host: 'nas', port: 22, username: 'me', path: '/docs', secretsSet: [] },
  watch: { enabled: true, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 45 },
});

const watchState = (overrides: Partial<PairWatchState> = {}): PairWatchState => ({
  isWatching: true,
  watchedBy: 'server',
  modes: { source: 'notify', destination: 'poll' },
  lastChangeAt: new Date(Date.now() - 12_000).toISOString(),
  pendingChanges: 0,
  fallbackReason: null,
  lastRunAt: null,
  problem: null,
  ...overrides,
});

const status = (watch: PairWatchState | null): PairSyncStatus => ({
  pairId: PAIR_ID,
  state: 'in_sync',
  checkedAt: new Date().toISOString(),
  outOfSync: 0,
  items: [],
  problem: null,
  activeRunId: null,
  sides: null,
  watch,
});

const run = (id: string, trigger: Run['trigger']): Run => ({
  id,
  pairId: PAIR_ID,
  status: 'completed',
  trigger,
  dryRun: false,
  queuedAt: new Date(Date.now() - 60_000).toISOString(),
  startedAt: new Date(Date.now() - 60_000).toISOString(),
  finishedAt: new Date(Date.now() - 59_000).toISOString(),
  stats: null,
  error: null,
  progress: null,
});

function fakeApi(watch: PairWatchState | null, runs: Run[] = []) {
  const calls: string[] = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      calls.push(url);
      const json = (body: unknown, code = 200) =>
        new Response(JSON.stringify(body), { status: code, headers: { 'content-type': 'application/json' } });
      if (url === `/api/v1/pairs/${PAIR_ID}`) return json(pair);
      if (url === `/api/v1/pairs/${PAIR_ID}/status`) return json(status(watch));
      if (url.startsWith(`/api/v1/pairs/${PAIR_ID}/runs`)) return json({ items: runs, nextCursor: null });
      return json({ message: 'no such route' }, 404);
    }),
  );
  return calls;
}

function renderPairPage() {
  return renderPage(`/pairs/${PAIR_ID}`, [
    {
      path: '/pairs/:id',
      element: (
        <LiveProvider>
          <PairPage />
        </LiveProvider>
      ),
    },
  ]);
}

describe('PairPage of a watched pair', () => {
  it('shows how each side is watched, the fallback and its reason, the last change and what waits', async () => {
    fakeApi(
      watchState({
        modes: { source: 'fallback-poll', destination: 'poll' },
        fallbackReason: 'source: the inotify watch limit (8192) is reached; polled instead',
        pendingChanges: 3,
      }),
    );
    renderPairPage();

    const panel = within(await screen.findByRole('region', { name: /Live sync/ }));
    expect((await panel.findByTestId('watch-badge')).textContent).toBe('Polling');
    expect(panel.getByTestId('watch-mode-source').textContent).toBe(
      'Source: polled every 45 s (notifications failed)',
    );
    expect(panel.getByTestId('watch-mode-destination').textContent).toBe('Destination: polled every 45 s');
    expect(panel.getByTestId('watch-fallback').textContent).toContain(
      'the inotify watch limit (8192) is reached; polled instead',
    );
    expect(panel.getByTestId('watch-pending').textContent).toBe('3 changes waiting');
    expect(panel.getByTestId('watch-last-change').textContent).toBe('Last change: 12 seconds ago');
  });

  it('says why a pair cannot be watched', async () => {
    fakeApi(
      watchState({
        isWatching: false,
        watchedBy: null,
        modes: { source: null, destination: null },
        problem: 'cannot be watched: the folder /data/docs does not exist',
      }),
    );
    renderPairPage();
    const panel = within(await screen.findByRole('region', { name: /Live sync/ }));
    expect((await panel.findByTestId('watch-badge')).textContent).toBe('Stopped');
    const notice = panel.getByTestId('watch-problem');
    expect(notice.textContent).toContain('Live sync cannot start');
    expect(notice.textContent).toContain('the folder /data/docs does not exist');
    expect(panel.queryByTestId('watch-fallback')).toBeNull();
  });

  it('adds the changes and the run a watch started to the activity as the events come, without a reload', async () => {
    const calls = fakeApi(watchState());
    renderPairPage();
    const socket = FakeSocket.instances[0]!;
    act(() => socket.open());
    const panel = within(await screen.findByRole('region', { name: /Live sync/ }));
    expect((await panel.findByTestId('watch-pending')).textContent).toBe('Nothing waiting');
    const statusFetches = calls.filter((url) => url.endsWith('/status')).length;

    vi.useFakeTimers({ toFake: ['setTimeout'] });
    act(() =>
      socket.receive({
        type: 'watch.changes',
        pairId: PAIR_ID,
        side: 'source',
        count: 5,
        paths: ['notes/a.md', 'notes/b.md', 'notes/c.md', 'notes/d.md'],
        watch: watchState({ pendingChanges: 5, lastChangeAt: new Date().toISOString() }),
      }),
    );
    act(() => vi.advanceTimersByTime(150));
    vi.useRealTimers();

    expect(panel.getByTestId('watch-pending').textContent).toBe('5 changes waiting');
    expect(panel.getByTestId('watch-last-change').textContent).toBe('Last change: now');
    const log = within(panel.getByRole('log', { name: 'Activity' }));
    expect(
      log.getByText(/5 changes on source: notes\/a\.md, notes\/b\.md, notes\/c\.md and 2 more/),
    ).toBeTruthy();

    act(() =>
      socket.receive({
        type: 'watch.run_started',
        pairId: PAIR_ID,
        runId: RUN_ID,
        kind: 'incremental',
        reason: null,
        changes: 5,
        watch: watchState({ pendingChanges: 0 }),
      }),
    );
    const started = await log.findByRole('link', { name: 'Run started for 5 changes' });
    expect(started.getAttribute('href')).toBe(`/runs/${RUN_ID}`);
    expect(panel.getByTestId('watch-pending').textContent).toBe('Nothing waiting');
    // Newest first: the run above the changes it covers.
    const lines = log.getAllByRole('listitem').map((item) => item.textContent ?? '');
    expect(lines[0]).toContain('Run started for 5 changes');
    expect(lines[1]).toContain('5 changes on source');
    // The live state came from the events, not from asking the server again.
    expect(calls.filter((url) => url.endsWith('/status')).length).toBe(statusFetches);
  });

  it('labels the runs a watch started in the history', async () => {
    fakeApi(watchState(), [run('7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c13', 'watch'), run(RUN_ID, 'manual')]);
    renderPairPage();
    const rows = await screen.findAllByTestId('run-row');
    expect(rows.map((row) => within(row).getByTestId('run-trigger').textContent)).toEqual([
      'live sync',
      'manual',
    ]);
  });

  it('says when no process watches the pair, and shows no live panel for a pair that is not watched', async () => {
    fakeApi(watchState({ isWatching: false, watchedBy: null, modes: { source: null, destination: null } }));
    renderPairPage();
    const panel = within(await screen.findByRole('region', { name: /Live sync/ }));
    expect((await panel.findByTestId('watch-badge')).textContent).toBe('Stopped');
    expect(panel.getByTestId('watch-mode-source').textContent).toBe('Source: not watched');
    // Nobody counts what waits while nobody watches.
    expect(panel.queryByTestId('watch-pending')).toBeNull();
    cleanup();

    pair.watch = { ...pair.watch, enabled: false };
    try {
      fakeApi(null);
      renderPairPage();
      expect(await screen.findByRole('heading', { name: 'Documents' })).toBeTruthy();
      expect(await screen.findByText('No runs yet')).toBeTruthy();
      expect(screen.queryByRole('region', { name: /Live sync/ })).toBeNull();
      expect(screen.queryByTestId('watch-badge')).toBeNull();
    } finally {
      pair.watch = { ...pair.watch, enabled: true };
    }
  });
});
