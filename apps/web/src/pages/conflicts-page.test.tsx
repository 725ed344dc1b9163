import type { Conflict, ConflictPreview } from '@syncengine/contracts';
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderPage } from '../test/render.js';
import { ConflictsPage } from './conflicts-page.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const PAIR = '5b0c6f7e-0000-4000-8000-000000000001';
const entry = (mtime: number, size = 10) => ({ path: 'x', size, mtime, isDir: false });
const conflict = (id: string, path: string, sourceMtime: number, destinationMtime: number): Conflict => ({
  id,
  pairId: PAIR,
  runId: null,
  path,
  source: entry(sourceMtime),
  destination: entry(destinationMtime),
  status: 'pending',
  resolution: null,
  resolvedBy: null,
  resolvedAt: null,
  detectedAt: '2025-01-01T00:00:00.000Z',
  appliedAt: null,
  outcome: null,
});

/** A fake API: the conflicts above until they are resolved; records each resolution. */
function fakeApi(conflicts: Conflict[], previews: Record<string, ConflictPreview> = {}) {
  const resolved = new Map<string, string>();
  const fetchSpy = vi.fn(async (url: string, init?: RequestInit) => {
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.startsWith('/api/v1/conflicts?') && url.includes('status=resolved')) {
      // Decisions are applied at once here, and say what they did.
      return json({
        items: conflicts
          .filter((item) => resolved.has(item.id))
          .map((item) => ({
            ...item,
            status: 'resolved',
            resolution: resolved.get(item.id),
            resolvedBy: 'admin',
            resolvedAt: '2025-01-02T00:00:00.000Z',
            appliedAt: '2025-01-02T00:00:01.000Z',
            outcome: `kept the ${resolved.get(item.id)}'s copy on both sides`,
          })),
      });
    }
    if (url.startsWith('/api/v1/conflicts?')) {
      return json({ items: conflicts.filter((item) => !resolved.has(item.id)) });
    }
    if (url === '/api/v1/pairs') return json({ items: [{ id: PAIR, name: 'Photos' }] });
    const preview = /^\/api\/v1\/conflicts\/([^/]+)\/preview\?side=(source|destination)$/.exec(url);
    const answer = preview ? previews[`${preview[1]}:${preview[2]}`] : undefined;
    if (answer) return json(answer);
    const match = /^\/api\/v1\/conflicts\/([^/]+)\/resolve$/.exec(url);
    if (match && init?.method === 'POST') {
      const { resolution } = JSON.parse(String(init.body)) as { resolution: string };
      resolved.set(match[1]!, resolution);
      return json({ ...conflicts.find((item) => item.id === match[1]), status: 'resolved', resolution });
    }
    return json({ statusCode: 404, error: 'Not Found', message: 'no such route', requestId: 'r' }, 404);
  });
  vi.stubGlobal('fetch', fetchSpy);
  return resolved;
}

const routes = [{ path: '/conflicts', element: <ConflictsPage /> }];

describe('ConflictsPage', () => {
  it('shows the same facts for both sides, saying where a hash was not read', async () => {
    const withHash = conflict('c9', 'h.txt', 50_000, 10_000);
    fakeApi([{ ...withHash, source: { ...withHash.source!, hash: 'ab12cd34', hashAlgorithm: 'xxh128' } }]);
    renderPage('/conflicts', routes);
    const source = await screen.findByLabelText('Source version');
    const destination = screen.getByLabelText('Destination version');
    expect(within(source).getByText(/xxh128: ab12cd34/)).toBeTruthy();
    expect(within(source).queryByText('Hash: not read on this side')).toBeNull();
    expect(within(destination).getByText('Hash: not read on this side')).toBeTruthy();
    for (const side of [source, destination]) {
      expect(within(side).getByText(/^Size: /)).toBeTruthy();
      expect(within(side).getByText(/^Modified: /)).toBeTruthy();
    }
  });

  it('resolves every selected conflict for its newest side, keeping both when the times are too close', async () => {
    const resolved = fakeApi([
      conflict('c1', 'a.txt', 50_000, 10_000),
      conflict('c2', 'b.txt', 10_000, 50_000),
      conflict('c3', 'c.txt', 10_000, 11_000),
    ]);
    const user = userEvent.setup();
    renderPage('/conflicts', routes);

    expect(await screen.findByText('a.txt')).toBeTruthy();
    await user.click(screen.getByLabelText('Select all'));
    await user.click(screen.getByRole('button', { name: 'Resolve 3 selected' }));
    await user.click(await screen.findByText('Newest wins'));

    await waitFor(() => expect(resolved.size).toBe(3));
    expect(Object.fromEntries(resolved)).toEqual({ c1: 'source', c2: 'destination', c3: 'keep-both' });
    expect(await screen.findByText('No conflicts waiting')).toBeTruthy();
  });

  it('resolves one conflict with the chosen side and leaves the others waiting', async () => {
    const resolved = fakeApi([conflict('c1', 'a.txt', 50_000, 10_000), conflict('c2', 'b.txt', 1, 2)]);
    const user = userEvent.setup();
    renderPage('/conflicts', routes);

    const card = await screen.findByRole('listitem', { name: 'Conflict on a.txt' });
    await user.click(within(card).getByRole('button', { name: 'Keep destination' }));

    await waitFor(() => expect(screen.queryByRole('listitem', { name: 'Conflict on a.txt' })).toBeNull());
    expect(Object.fromEntries(resolved)).toEqual({ c1: 'destination' });
    expect(screen.getAllByText('b.txt')).toHaveLength(1);
    // The outcome is told, and the conflict joins the resolved history with who and what.
    expect(await screen.findByText("a.txt: kept the destination's copy on both sides")).toBeTruthy();
    const history = screen.getByRole('list', { name: 'Resolved conflicts' });
    expect(history.textContent).toContain('by admin');
    expect(history.textContent).toContain("kept the destination's copy on both sides");
  });

  it('says so when there is nothing to decide', async () => {
    fakeApi([]);
    renderPage('/conflicts', routes);
    expect(await screen.findByText('No conflicts waiting')).toBeTruthy();
  });

  it('shows the differences of a text file at once: − source lines, + destination lines', async () => {
    fakeApi([conflict('c1', 'list.md', 50_000, 10_000)], {
      'c1:source': { isText: true, text: 'title\nmilk\neggs\nbread\n', truncated: false },
      'c1:destination': { isText: true, text: 'title\nmilk\noat milk\nbread\n', truncated: false },
    });
    renderPage('/conflicts', routes);

    const card = await screen.findByRole('listitem', { name: 'Conflict on list.md' });
    const diff = await within(card).findByTestId('conflict-diff');
    const lines = [...diff.querySelectorAll('[data-kind]')].map((line) => [
      line.getAttribute('data-kind'),
      line.textContent,
    ]);
    expect(lines).toEqual([
      ['same', '  title'],
      ['same', '  milk'],
      ['source', '− eggs'],
      ['destination', '+ oat milk'],
      ['same', '  bread'],
    ]);
    expect(within(card).getByText(/2 lines differ/)).toBeTruthy();
    expect(within(card).queryByText(/first 64 KiB/)).toBeNull();
  });

  it('says when only the start of a long file was compared, and when the texts are the same', async () => {
    fakeApi([conflict('c1', 'long.txt', 50_000, 10_000), conflict('c2', 'same.txt', 50_000, 10_000)], {
      'c1:source': { isText: true, text: 'a\nb\n', truncated: true },
      'c1:destination': { isText: true, text: 'a\nc\n', truncated: false },
      'c2:source': { isText: true, text: 'same\n', truncated: false },
      'c2:destination': { isText: true, text: 'same\n', truncated: false },
    });
    renderPage('/conflicts', routes);

    const long = await screen.findByRole('listitem', { name: 'Conflict on long.txt' });
    expect(await within(long).findByText(/Compared the first 64 KiB of each side/)).toBeTruthy();
    const same = screen.getByRole('listitem', { name: 'Conflict on same.txt' });
    expect(await within(same).findByText(/The text is the same on both sides/)).toBeTruthy();
  });

  it('shows each side on its own when one is binary, and calls it so', async () => {
    fakeApi([conflict('c1', 'notes.txt', 50_000, 10_000)], {
      'c1:source': { isText: true, text: 'hello from the source', truncated: true },
      'c1:destination': { isText: false, text: null, truncated: false },
    });
    renderPage('/conflicts', routes);

    const card = await screen.findByRole('listitem', { name: 'Conflict on notes.txt' });
    const preview = await within(card).findByLabelText('Text preview');
    expect(await within(preview).findByText('hello from the source')).toBeTruthy();
    expect(within(preview).getAllByText(/truncated/)).toHaveLength(1);
    expect(within(preview).getByText('binary file, no preview')).toBeTruthy();
    expect(within(card).queryByTestId('conflict-diff')).toBeNull();
  });

  it('shows thumbnails of both versions of an image, from the image route, and reads no text of it', async () => {
    fakeApi([conflict('c1', 'holiday/Beach.JPG', 50_000, 10_000)]);
    renderPage('/conflicts', routes);

    const card = await screen.findByRole('listitem', { name: 'Conflict on holiday/Beach.JPG' });
    const source = await within(card).findByAltText('Source version of holiday/Beach.JPG');
    expect(source.getAttribute('src')).toBe('/api/v1/conflicts/c1/image?side=source');
    const destination = within(card).getByAltText('Destination version of holiday/Beach.JPG');
    expect(destination.getAttribute('src')).toBe('/api/v1/conflicts/c1/image?side=destination');
    const calls = vi.mocked(fetch).mock.calls.map(([url]) => String(url));
    expect(calls.some((url) => url.includes('/preview'))).toBe(false);
  });

  it('shows the differences of the first ten cards at once, and of the others on a click', async () => {
    const many = Array.from({ length: 11 }, (_, index) =>
      conflict(`c${index}`, `f${index}.txt`, 50_000, 10_000),
    );
    const previews: Record<string, ConflictPreview> = {};
    for (const item of many) {
      previews[`${item.id}:source`] = {
        isText: true,
        text: `${item.path} at the source\n`,
        truncated: false,
      };
      previews[`${item.id}:destination`] = {
        isText: true,
        text: `${item.path} at the destination\n`,
        truncated: false,
      };
    }
    fakeApi(many, previews);
    const user = userEvent.setup();
    renderPage('/conflicts', routes);

    const last = await screen.findByRole('listitem', { name: 'Conflict on f10.txt' });
    await waitFor(() => expect(screen.getAllByTestId('conflict-diff')).toHaveLength(10));
    expect(within(last).queryByTestId('conflict-diff')).toBeNull();
    await user.click(within(last).getByRole('button', { name: 'Show differences' }));
    expect(await within(last).findByText('− f10.txt at the source')).toBeTruthy();
  });
});
