import type { Run } from '@syncengine/contracts';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../test/fake-socket.js';
import { LiveProvider, useLive } from './live-provider.js';

const run = (status: Run['status']): Run => ({
  id: '11111111-1111-4111-8111-111111111111',
  pairId: '22222222-2222-4222-8222-222222222222',
  status,
  trigger: 'manual',
  dryRun: false,
  queuedAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:01.000Z',
  finishedAt: null,
  stats: null,
  error: null,
  progress: null,
});

function Probe() {
  const live = useLive();
  const statuses = Object.values(live.runs).map((item) => item.run?.status);
  return (
    <p>
      {live.connection} runs:{statuses.join(',')}
    </p>
  );
}

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

describe('LiveProvider', () => {
  it('reconnects after the socket drops, then refetches and takes the new snapshot', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    render(
      <QueryClientProvider client={client}>
        <LiveProvider>
          <Probe />
        </LiveProvider>
      </QueryClientProvider>,
    );
    const first = FakeSocket.instances[0]!;
    expect(first.url).toMatch(/^ws:\/\/.+\/api\/v1\/ws$/);
    act(() => first.open());
    act(() => first.receive({ type: 'snapshot', activeRuns: [run('running')], pendingConflicts: [] }));
    await screen.findByText('open runs:running');
    expect(invalidate).not.toHaveBeenCalled();

    act(() => first.close());
    await screen.findByText(/^reconnecting/);

    // After the backoff a new socket is opened; the run was paused meanwhile.
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2), { timeout: 2_000 });
    const second = FakeSocket.instances[1]!;
    act(() => second.open());
    expect(invalidate).toHaveBeenCalledWith();
    act(() => second.receive({ type: 'snapshot', activeRuns: [run('paused')], pendingConflicts: [] }));
    await screen.findByText('open runs:paused');
  });

  it('ignores messages that are not valid events', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    render(
      <QueryClientProvider client={new QueryClient()}>
        <LiveProvider>
          <Probe />
        </LiveProvider>
      </QueryClientProvider>,
    );
    const socket = FakeSocket.instances[0]!;
    act(() => socket.open());
    act(() => socket.receive({ type: 'run.started', run: { id: 'not-a-run' } }));
    act(() => socket.receive({ type: 'run.started', run: run('running') }));
    await screen.findByText('open runs:running');
  });
});
