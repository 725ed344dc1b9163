import type { Pair } from '@syncengine/contracts';
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveProvider } from '../live/live-provider.js';
import { FakeSocket } from '../test/fake-socket.js';
import { renderPage } from '../test/render.js';
import { PairsPage } from './pairs-page.js';

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

const pair = (id: string, name: string, overrides: Partial<Pair>): Pair => ({
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
  schedule: null,
  enabled: true,
  watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  lastRun: null,
  nextRunAt: null,
  ...overrides,
});

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
    renderPage('/pairs', [
      {
        path: '/pairs',
        element: (
          <LiveProvider>
            <PairsPage />
          </LiveProvider>
        ),
      },
    ]);

    const scheduled = await screen.findByRole('listitem', { name: 'Pair Scheduled' });
    expect(within(scheduled).getByText(/^Next:/).textContent).toBe('Next: in 2 hours');
    const manual = screen.getByRole('listitem', { name: 'Pair Manual' });
    expect(within(manual).getByText(/^Next:/).textContent).toBe('Next: manual only');
    const off = screen.getByRole('listitem', { name: 'Pair Switched off' });
    expect(within(off).getByText(/^Next:/).textContent).toBe('Next: disabled');
  });
});
