import type { Run } from '@syncengine/contracts';
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
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
          counts: {
            file: { done: 2, total: 10 },
            folder: { done: 1, total: 2 },
            delete: { done: 0, total: 0 },
            rename: { done: 0, total: 0 },
            conflict: { done: 0, total: 0 },
            check: { done: 0, total: 0 },
          },
          transfers: [
            { path: 'photos/cat.jpg', bytesDone: 1024, size: 4096 },
            { path: 'photos/owl.jpg', bytesDone: 0, size: 2048 },
          ],
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
          isDir: false,
          reason: 'created at source',
          bytes: 1024,
          status: 'done',
          error: null,
          at: '2025-01-01T00:00:02.000Z',
        },
      }),
    );
    act(() =>
      socket.receive({
        type: 'run.action',
        runId: RUN_ID,
        pairId: PAIR_ID,
        action: {
          id: '2',
          runId: RUN_ID,
          type: 'UPLOAD_NEW',
          path: 'albums',
          to: null,
          isDir: true,
          reason: 'created at source',
          bytes: 0,
          status: 'done',
          error: null,
          at: '2025-01-01T00:00:02.000Z',
        },
      }),
    );

    expect((await screen.findByTestId('files-progress')).textContent).toBe('3 / 12');
    expect(screen.getByText('2.0 KiB / 8.0 KiB')).toBeTruthy();
    expect(screen.getByTestId('run-rate').textContent).toBe('1.0 MiB/s');
    // Files and folders apart; every transfer in flight with its bytes; the time left at this rate.
    expect(screen.getByTestId('run-counts').textContent).toBe('2/10 files · 1/2 folders');
    const inFlight = within(screen.getByTestId('transfers-in-flight'));
    expect(inFlight.getByText('In flight (2)')).toBeTruthy();
    expect(inFlight.getByText('photos/cat.jpg')).toBeTruthy();
    expect(inFlight.getByText('1.0 KiB / 4.0 KiB')).toBeTruthy();
    expect(inFlight.getByText('photos/owl.jpg')).toBeTruthy();
    expect(screen.getByTestId('run-times').textContent).toContain('about 6 ms left');
    // One vocabulary: the live list says what the action log says.
    const latest = within(await screen.findByRole('log', { name: 'Latest actions' }));
    expect(latest.getByText('Copy new file to destination')).toBeTruthy();
    // A folder reads as a folder, not as a file.
    expect(latest.getByText('Create folder at destination')).toBeTruthy();
    expect(latest.getByText('albums/')).toBeTruthy();
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

  it('asks the server for filtered actions and starts again at the first page when a filter changes', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const action = (id: string, path: string) => ({
      id,
      runId: RUN_ID,
      type: 'UPLOAD_NEW',
      path,
      to: null,
      isDir: false,
      reason: 'created at source',
      bytes: 10,
      status: 'done',
      error: null,
      at: '2025-01-01T00:00:02.000Z',
    });
    const requested: URLSearchParams[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const json = (body: unknown) =>
          new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
        if (url === `/api/v1/runs/${RUN_ID}`) {
          return json(run('completed', { finishedAt: '2025-01-01T00:00:09.000Z' }));
        }
        if (url.startsWith(`/api/v1/runs/${RUN_ID}/actions`)) {
          const params = new URL(url, 'http://x').searchParams;
          requested.push(params);
          if (params.get('path') === 'cat')
            return json({ items: [action('9', 'photos/cat.jpg')], nextCursor: null });
          return params.get('cursor')
            ? json({ items: [action('2', 'page-two.txt')], nextCursor: null })
            : json({ items: [action('1', 'page-one.txt')], nextCursor: '1' });
        }
        if (url === `/api/v1/pairs/${PAIR_ID}`) return json({ id: PAIR_ID, name: 'Photos' });
        return new Response('{}', { status: 404 });
      }),
    );
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

    expect(await screen.findByText('page-one.txt')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByText('page-two.txt')).toBeTruthy();
    expect(requested.at(-1)?.get('cursor')).toBe('1');

    await user.type(screen.getByLabelText('Path contains'), 'cat');
    expect(await screen.findByText('photos/cat.jpg', {}, { timeout: 2_000 })).toBeTruthy();
    const last = requested.at(-1)!;
    expect(last.get('path')).toBe('cat');
    expect(last.get('cursor')).toBeNull();
    expect(screen.getByText('Page 1')).toBeTruthy();
  });
});
