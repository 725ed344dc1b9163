import type { Run } from '@syncengine/contracts';
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveProvider } from '../live/live-provider.js';
import { FakeSocket } from '../test/fake-socket.js';
import { pairFixture } from '../test/fixtures.js';
import { renderPage } from '../test/render.js';
import { OverviewPage } from './overview-page.js';

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

const PAIR_ID = '00000000-0000-4000-8000-000000000001';

const run = (id: string, trigger: Run['trigger']): Run => ({
  id,
  pairId: PAIR_ID,
  status: 'completed',
  trigger,
  dryRun: false,
  queuedAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:01.000Z',
  finishedAt: '2025-01-01T00:00:02.000Z',
  stats: null,
  error: null,
  progress: null,
});

describe('OverviewPage', () => {
  it('marks the recent runs a watch started as live sync', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const json = (body: unknown) =>
          new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
        if (url === '/api/v1/pairs') return json({ items: [pairFixture(PAIR_ID, 'Notes')] });
        if (url.startsWith('/api/v1/runs')) {
          return json({
            items: [
              run('00000000-0000-4000-8000-0000000000a1', 'watch'),
              run('00000000-0000-4000-8000-0000000000a2', 'schedule'),
            ],
            nextCursor: null,
          });
        }
        if (url.startsWith('/api/v1/changes')) return json({ items: [], nextCursor: null });
        return new Response('{}', { status: 404 });
      }),
    );
    renderPage('/', [
      {
        path: '/',
        element: (
          <LiveProvider>
            <OverviewPage />
          </LiveProvider>
        ),
      },
    ]);
    const table = within(await screen.findByRole('table', { name: 'Recent runs' }));
    const rows = table.getAllByRole('row').slice(1);
    expect(rows.map((row) => within(row).queryByTestId('run-trigger')?.textContent ?? null)).toEqual([
      'live sync',
      null,
    ]);
  });
});
