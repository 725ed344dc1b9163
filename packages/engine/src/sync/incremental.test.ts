import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../backends/memory.js';
import type { SyncEvent } from '../events.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { IncrementalScope } from './incremental.js';
import { sync } from './sync.js';

async function pair(files: number) {
  const source = new MemoryStorage({ description: 'source' });
  const destination = new MemoryStorage({ description: 'destination' });
  for (let index = 0; index < files; index++) {
    source.put(`dir${index % 10}/file${index}.txt`, `content of file ${index}`, {
      mtime: Date.UTC(2026, 0, 1),
    });
  }
  const state = new MemoryStateStore();
  const first = await sync({ source, destination, state });
  expect(first.status).toBe('completed');
  return { source, destination, state };
}

function scanned(events: SyncEvent[]): number[] {
  return events.flatMap((event) => (event.type === 'scan_complete' ? [event.files] : []));
}

describe('IncrementalScope', () => {
  it('holds the changed paths with everything below them, and the folders above them', () => {
    const scope = new IncrementalScope(['a/b/c.txt', 'x', 'x/y/z']);
    expect([...scope.roots].sort()).toEqual(['a/b/c.txt', 'x']);
    for (const path of ['a', 'a/b', 'a/b/c.txt', 'x', 'x/y', 'x/y/z/w'])
      expect(scope.includes(path)).toBe(true);
    for (const path of ['a/b/d.txt', 'a/c', 'b', 'xx', 'a/b/c.txt2'])
      expect(scope.includes(path)).toBe(false);
    scope.add('a');
    expect([...scope.roots].sort()).toEqual(['a', 'x']);
    expect(scope.includes('a/c')).toBe(true);
  });
});

describe('incremental runs (changedPaths)', () => {
  it('list only the changed paths and the folders above them', async () => {
    const { source, destination, state } = await pair(500);
    source.put('dir3/new.txt', 'new', { mtime: Date.UTC(2026, 0, 2) });
    await source.delete('dir4/file4.txt');
    const events: SyncEvent[] = [];
    const result = await sync({
      source,
      destination,
      state,
      changedPaths: ['dir3/new.txt', 'dir4/file4.txt'],
      onEvent: (event) => events.push(event),
    });
    expect(result.status).toBe('completed');
    expect(result.plan.actions.map((action) => [action.type, action.path]).sort()).toEqual([
      ['DELETE_DESTINATION', 'dir4/file4.txt'],
      ['UPLOAD_NEW', 'dir3/new.txt'],
    ]);
    // Per side: the two folders above, and the file where it is.
    expect(scanned(events)).toEqual([3, 3]);
    expect(destination.getText('dir3/new.txt')).toBe('new');
    expect(destination.getText('dir4/file4.txt')).toBeUndefined();
    // The state still knows every other file.
    expect((await state.load())!.destination.size).toBe(510);
  });

  it('find where a new file was moved from when only its new path is told', async () => {
    const { source, destination, state } = await pair(50);
    await source.rename('dir1/file1.txt', 'dir2/moved.txt');
    const result = await sync({ source, destination, state, changedPaths: ['dir2/moved.txt'] });
    expect(result.plan.actions.map((action) => [action.type, action.path, action.to])).toEqual([
      ['RENAME_DESTINATION', 'dir1/file1.txt', 'dir2/moved.txt'],
    ]);
    expect(destination.getText('dir2/moved.txt')).toBe('content of file 1');
    expect(destination.getText('dir1/file1.txt')).toBeUndefined();
  });

  it('measure the max-delete guard against the whole side', async () => {
    const { source, destination, state } = await pair(20);
    await source.delete('dir0/file0.txt');
    const result = await sync({
      source,
      destination,
      state,
      config: { maxDeletePercent: 10 },
      changedPaths: ['dir0/file0.txt'],
    });
    // One of 20 files (5 %), not one of the one file listed (100 %).
    expect(result.status).toBe('completed');
    expect(destination.getText('dir0/file0.txt')).toBeUndefined();
  });

  it('are full runs on a first sync and when an ignore file changed', async () => {
    const { source, destination, state } = await pair(30);
    source.put('.syncignore', 'dir5/\n', { mtime: Date.UTC(2026, 0, 2) });
    const events: SyncEvent[] = [];
    await sync({ source, destination, state, changedPaths: ['.syncignore'], onEvent: (e) => events.push(e) });
    expect(scanned(events)[0]).toBeGreaterThan(20);

    const fresh = new MemoryStorage();
    fresh.put('a.txt', 'a');
    const other = new MemoryStorage();
    const first = await sync({
      source: fresh,
      destination: other,
      state: new MemoryStateStore(),
      changedPaths: [],
    });
    expect(first.plan.isFirstSync).toBe(true);
    expect(other.getText('a.txt')).toBe('a');
  });
});
