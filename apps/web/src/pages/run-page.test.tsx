import type { Run } from '@syncengine/contracts';
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveProvider } from '../live/live-provider.js';
import { FakeSocket } from '../test/fake-socket.js';
import { renderPage } from '../test/render.js';
import { RunPage } from './run-page.js';

const RUN_ID = '11111111-1111-4111-8111-111111111111';
const PAIR_ID = '22222222-2222-4222-8222-222222222222';

const run = (status: Run['status'], overrides: Partial<Run> = {}): Run => ({
  id: RUN_ID,
  pairId: PAIR_ID,
  status,
  trigger: 'manual',
  dryRun: false,
  queuedAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:01.000Z',
  finishedAt: null,
  stats: null,
  error: null,
  progress: null,
  ...overrides,
});

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  vi.unstubAllGlobals();
});

function fakeApi() {
  const commands: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (body: unknown, status = 200) =>
        new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
      if (url === `/api/v1/runs/${RUN_ID}`) return json(run('running'));
      if (url.startsWith(`/api/v1/runs/${RUN_ID}/actions`)) return json({ items: [], nextCursor: null });
      if (url === `/api/v1/pairs/${PAIR_ID}`) return json({ id: PAIR_ID, name: 'Photos' });
      const command = /\/runs\/[^/]+\/(pause|resume|cancel)$/.exec(url);
      if (command && init?.method === 'POST') {
        commands.push(command[1]!);
        return json(run(command[1] === 'pause' ? 'paused' : 'running'), 202);
      }
      return json({ message: 'no such route' }, 404);
    }),
  );
  return commands;
}

describe('RunPage', () => {
  it('shows live progress and actions from the socket, and pauses the run', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const commands = fakeApi();
    const user = userEvent.setup();
    renderPage(`/runs/${RUN_ID}`, [
      {
        path: '/runs/:id',
        element: (
          <LiveProvider>
            <RunPage />
          </LiveProvider>
        ),
      },
    ]);
    const socket = FakeSocket.instances[0]!;
    act(() => socket.open());
    act(() =>
      socket.receive({
        type: 'run.progress',
        runId: RUN_ID,
        pairId: PAIR_ID,
        progress: {
          phase: 'transferring',
          filesDone: 3,
          filesTotal: 12,
          bytesDone: 2048,
          bytesTotal: 8192,
          currentFile: 'photos/cat.jpg',
          rateBytesPerSecond: 1_048_576,
        },
      }),
    );
    act(() =>
      socket.receive({
        type: 'run.action',
        runId: RUN_ID,
        pairId: PAIR_ID,
        action: {
          id: '1',
          runId: RUN_ID,
          type: 'UPLOAD_NEW',
          path: 'photos/dog.jpg',
          to: null,
          reason: 'created at source',
          bytes: 1024,
          status: 'done',
          error: null,
          at: '2025-01-01T00:00:02.000Z',
        },
      }),
    );

    expect((await screen.findByTestId('files-progress')).textContent).toBe('3 / 12');
    expect(screen.getByText('2.0 KiB / 8.0 KiB')).toBeTruthy();
    expect(screen.getByTestId('run-rate').textContent).toBe('1.0 MiB/s');
    expect(screen.getByText('Current: photos/cat.jpg')).toBeTruthy();
    expect(await screen.findByText('photos/dog.jpg')).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(commands).toEqual(['pause']));
    act(() => socket.receive({ type: 'run.paused', runId: RUN_ID, pairId: PAIR_ID }));
    expect(await screen.findByRole('button', { name: 'Resume' })).toBeTruthy();
    expect(screen.getByTestId('run-status').textContent).toBe('paused');

    act(() =>
      socket.receive({
        type: 'run.cancelled',
        run: run('cancelled', { finishedAt: '2025-01-01T00:00:09.000Z' }),
      }),
    );
    await waitFor(() => expect(screen.getByTestId('run-status').textContent).toBe('cancelled'));
    expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull();
  });
});
