import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveProvider } from '../live/live-provider.js';
import { FakeSocket } from '../test/fake-socket.js';
import { pairFixture } from '../test/fixtures.js';
import { renderPage } from '../test/render.js';
import { PairsPage } from './pairs-page.js';

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

const pair = pairFixture;

function renderPairsPage() {
  return renderPage('/pairs', [
    {
      path: '/pairs',
      element: (
        <LiveProvider>
          <PairsPage />
        </LiveProvider>
      ),
    },
  ]);
}

describe('PairsPage', () => {
  it('shows the next scheduled run the server computed, and says when a pair runs only by hand', async () => {
    // The schedule fires once a year; the server's answer, not the expression, is what is shown.
    const nextRunAt = new Date(Date.now() + 2 * 3_600_000 + 60_000).toISOString();
    const pairs = [
      pair('00000000-0000-4000-8000-000000000001', 'Scheduled', { schedule: '0 0 1 1 *', nextRunAt }),
      pair('00000000-0000-4000-8000-000000000002', 'Manual', {}),
      pair('00000000-0000-4000-8000-000000000003', 'Switched off', { schedule: '0 * * * *', enabled: false }),
    ];
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/v1/pairs'
          ? new Response(JSON.stringify({ items: pairs }), {
              headers: { 'content-type': 'application/json' },
            })
          : new Response('{}', { status: 404 }),
      ),
    );
    renderPairsPage();

    const scheduled = await screen.findByRole('listitem', { name: 'Pair Scheduled' });
    expect(within(scheduled).getByText(/^Next:/).textContent).toBe('Next: in 2 hours');
    const manual = screen.getByRole('listitem', { name: 'Pair Manual' });
    expect(within(manual).getByText(/^Next:/).textContent).toBe('Next: manual only');
    const off = screen.getByRole('listitem', { name: 'Pair Switched off' });
    expect(within(off).getByText(/^Next:/).textContent).toBe('Next: disabled');
  });

  it('marks a watched pair as live with its last change and what waits, updated by watch events', async () => {
    const watched = pair('00000000-0000-4000-8000-000000000004', 'Watched', {
      watch: { enabled: true, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
    });
    const plain = pair('00000000-0000-4000-8000-000000000005', 'Plain', {});
    const watchState = (pendingChanges: number) => ({
      isWatching: true,
      watchedBy: 'server',
      modes: { source: 'notify', destination: 'notify' },
      lastChangeAt: new Date(Date.now() - 120_000).toISOString(),
      pendingChanges,
      fallbackReason: null,
      lastRunAt: null,
      problem: null,
    });
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const json = (body: unknown) =>
          new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
        if (url === '/api/v1/pairs') return json({ items: [watched, plain] });
        const status = /^\/api\/v1\/pairs\/([^/]+)\/status$/.exec(url);
        if (status) {
          return json({
            pairId: status[1],
            state: 'in_sync',
            checkedAt: new Date().toISOString(),
            outOfSync: 0,
            items: [],
            problem: null,
            activeRunId: null,
            sides: null,
            watch: status[1] === watched.id ? watchState(0) : null,
          });
        }
        return new Response('{}', { status: 404 });
      }),
    );
    renderPairsPage();
    const socket = FakeSocket.instances[0]!;
    act(() => socket.open());

    const card = within(await screen.findByRole('listitem', { name: 'Pair Watched' }));
    expect((await card.findByTestId('watch-badge')).textContent).toBe('Live sync');
    expect((await card.findByTestId('watch-pending')).textContent).toBe('Nothing waiting');
    expect(card.getByTestId('watch-last-change').textContent).toBe('Last change: 2 minutes ago');
    const other = within(screen.getByRole('listitem', { name: 'Pair Plain' }));
    expect(other.queryByTestId('watch-glance')).toBeNull();

    act(() =>
      socket.receive({
        type: 'watch.changes',
        pairId: watched.id,
        side: 'destination',
        count: 1,
        paths: ['a.txt'],
        watch: { ...watchState(1), lastChangeAt: new Date().toISOString() },
      }),
    );
    await vi.waitFor(() => expect(card.getByTestId('watch-pending').textContent).toBe('1 change waiting'));
    expect(card.getByTestId('watch-last-change').textContent).toBe('Last change: now');
    // An event for a pair that is not watched (its setting is off) shows nothing.
    act(() => socket.receive({ type: 'watch.state', pairId: plain.id, watch: watchState(4) }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.queryByTestId('watch-glance')).toBeNull();
  });
});
