import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderPage } from '../test/render.js';
import { PairFormPage } from './pair-form-page.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Sets an input's value as typing would, in one event. */
function type(element: Element, value: string) {
  fireEvent.change(element, { target: { value } });
}

const routes = [
  { path: '/pairs/new', element: <PairFormPage /> },
  { path: '/pairs/:id', element: <p>pair page</p> },
];

describe('PairFormPage', () => {
  it('shows the shared schema’s messages beside the wrong fields and sends nothing', async () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal('fetch', fetchSpy);
    const user = userEvent.setup();
    renderPage('/pairs/new', routes);

    type(screen.getAllByLabelText(/^Folder/)[0]!, 'not/absolute');
    type(screen.getByLabelText('Transfers at once'), '0');
    type(screen.getByLabelText('Schedule (cron)'), '* *');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));

    expect(await screen.findByText('The pair was not saved')).toBeTruthy();
    expect(screen.getByText('name must not be empty')).toBeTruthy();
    expect(screen.getByText('must be an absolute path')).toBeTruthy();
    expect(screen.getByText('Must be at least 1')).toBeTruthy();
    expect(screen.getAllByText(/5 or 6 fields/).length).toBeGreaterThan(0);
    expect(fetchSpy.mock.calls.filter(([url]) => String(url).startsWith('/api/v1/pairs'))).toEqual([]);
  });

  it('posts a valid form and opens the new pair', async () => {
    const fetchSpy = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith('/api/v1/folders')) return new Response('{}', { status: 404 });
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, id: '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c11' }), {
        status: 201,
        headers: { 'content-type': 'application/json' },
      });
    });
    vi.stubGlobal('fetch', fetchSpy);
    const user = userEvent.setup();
    const { router } = renderPage('/pairs/new', routes);

    type(screen.getByLabelText(/^Name/), 'Photos');
    const paths = screen.getAllByLabelText(/^Folder/);
    type(paths[0]!, '/data/photos');
    type(paths[1]!, '/backup/photos');
    type(screen.getByLabelText('Schedule (cron)'), '0 3 * * *');
    expect(screen.getByTestId('schedule-preview').textContent).toContain('At 03:00');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));

    await waitFor(() =>
      expect(router.state.location.pathname).toBe('/pairs/7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c11'),
    );
    const [url, init] = fetchSpy.mock.calls.find(([called]) => called.startsWith('/api/v1/pairs'))!;
    expect(url).toBe('/api/v1/pairs');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toMatchObject({
      name: 'Photos',
      source: { type: 'local', path: '/data/photos' },
      destination: { type: 'local', path: '/backup/photos' },
      schedule: '0 3 * * *',
      mode: 'TWO_WAY',
    });
  });

  it('sends the watch settings, refusing a quiet time below the minimum beside its field', async () => {
    const fetchSpy = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith('/api/v1/folders')) return new Response('{}', { status: 404 });
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, id: '7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c12' }), {
        status: 201,
        headers: { 'content-type': 'application/json' },
      });
    });
    vi.stubGlobal('fetch', fetchSpy);
    const user = userEvent.setup();
    const { router } = renderPage('/pairs/new', routes);
    type(screen.getByLabelText(/^Name/), 'Live');
    const paths = screen.getAllByLabelText(/^Folder/);
    type(paths[0]!, '/data/live');
    type(paths[1]!, '/backup/live');
    const watch = screen.getByRole('switch', { name: /Watch both sides/ }) as HTMLInputElement;
    expect(watch.checked).toBe(false);
    await user.click(watch);
    const quietTime = screen.getByLabelText('Quiet time before a run (ms)');
    type(quietTime, '10');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));
    const tooShort = await screen.findByText('Must be at least 50');
    // The message describes the field, so a screen reader reads it with the field.
    expect(quietTime.getAttribute('aria-invalid')).toBe('true');
    expect(quietTime.getAttribute('aria-describedby')?.split(' ')).toContain(tooShort.id);
    expect(fetchSpy.mock.calls.filter(([url]) => String(url).startsWith('/api/v1/pairs'))).toEqual([]);

    type(quietTime, '300');
    type(screen.getByLabelText('Poll remote sides every (s)'), '30');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));
    await waitFor(() =>
      expect(router.state.location.pathname).toBe('/pairs/7d8f0d0e-4c41-4a39-9d1e-3f7b0e6b2c12'),
    );
    const [, init] = fetchSpy.mock.calls.find(([called]) => called.startsWith('/api/v1/pairs'))!;
    expect(JSON.parse(String(init?.body)).watch).toEqual({
      enabled: true,
      debounceMs: 300,
      rescanMinutes: 60,
      pollSeconds: 30,
    });
  });

  it('says what polling costs for the kinds of sides the pair has', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('{}', { status: 404 })),
    );
    const user = userEvent.setup();
    renderPage('/pairs/new', routes);
    const poll = screen.getByLabelText('Poll remote sides every (s)');
    const description = () =>
      (poll.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ');
    expect(description()).toContain('Both sides are local folders');
    await user.click(screen.getAllByLabelText('Storage')[1]!);
    await user.click((await screen.findAllByText('S3 bucket'))[0]!);
    expect(description()).toContain('one paid LIST request per 1 000 objects');
    expect(description()).not.toContain('Both sides are local folders');
  });

  it('shows the server’s refusal of a watch setting beside that setting', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url.startsWith('/api/v1/folders')
          ? new Response('{}', { status: 404 })
          : new Response(
              JSON.stringify({
                statusCode: 400,
                error: 'Bad Request',
                message: 'body/watch/pollSeconds: the server polls no more often than every 30 s',
                requestId: 'r2',
                issues: [
                  {
                    path: '/body/watch/pollSeconds',
                    message: 'the server polls no more often than every 30 s',
                  },
                ],
              }),
              { status: 400, headers: { 'content-type': 'application/json' } },
            ),
      ),
    );
    const user = userEvent.setup();
    renderPage('/pairs/new', routes);
    type(screen.getByLabelText(/^Name/), 'Live');
    const paths = screen.getAllByLabelText(/^Folder/);
    type(paths[0]!, '/data/live');
    type(paths[1]!, '/backup/live');
    await user.click(screen.getByRole('switch', { name: /Watch both sides/ }));
    type(screen.getByLabelText('Poll remote sides every (s)'), '10');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));

    const message = await screen.findByText('the server polls no more often than every 30 s');
    const poll = screen.getByLabelText('Poll remote sides every (s)');
    expect(poll.getAttribute('aria-invalid')).toBe('true');
    expect(poll.getAttribute('aria-describedby')?.split(' ')).toContain(message.id);
  });

  it('shows the server’s field errors beside the fields, and above them the form’s one message', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(
            JSON.stringify({
              statusCode: 422,
              error: 'Unprocessable Entity',
              message: 'source.path: not under an allowed root',
              requestId: 'r1',
              issues: [{ path: 'source.path', message: 'not under an allowed root' }],
            }),
            { status: 422, headers: { 'content-type': 'application/json' } },
          ),
      ),
    );
    const user = userEvent.setup();
    renderPage('/pairs/new', routes);
    type(screen.getByLabelText(/^Name/), 'Outside');
    const paths = screen.getAllByLabelText(/^Folder/);
    type(paths[0]!, '/etc');
    type(paths[1]!, '/var');
    await user.click(screen.getByRole('button', { name: 'Create pair' }));

    expect(await screen.findByText('not under an allowed root')).toBeTruthy();
    expect(screen.getByText('Some fields need attention: see the messages below each one.')).toBeTruthy();
    // The API's field path is not shown to the user.
    expect(screen.queryByText(/source\.path/)).toBeNull();
  });

  it('renders the inputs of another backend, with secrets as password fields', async () => {
    vi.stubGlobal('fetch', vi.fn());
    const user = userEvent.setup();
    renderPage('/pairs/new', routes);
    const storages = screen.getAllByLabelText('Storage');
    await user.click(storages[0]!);
    await user.click((await screen.findAllByText('SFTP server'))[0]!);

    expect(screen.getAllByLabelText(/^Host/)).toHaveLength(2);
    expect((screen.getByLabelText(/^Port/) as HTMLInputElement).value).toBe('22');
    expect((screen.getAllByLabelText(/^Password/)[0] as HTMLInputElement).type).toBe('password');
  });
});
