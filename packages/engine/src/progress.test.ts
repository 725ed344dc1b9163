import { describe, expect, it } from 'vitest';
import { MemoryStorage } from './backends/memory.js';
import type { SyncEvent } from './events.js';
import { PROGRESS_KINDS, type ProgressSnapshot, progressKindOf, SyncProgress } from './progress.js';
import { MemoryStateStore } from './state/memory-state-store.js';
import { sync } from './sync/sync.js';

const T0 = Date.UTC(2026, 0, 1);

/** Syncs the pair, checking after every event that no count has run past its total. */
async function syncWatchingCounts(
  source: MemoryStorage,
  destination: MemoryStorage,
  state: MemoryStateStore,
) {
  const progress = new SyncProgress();
  const overshoots: string[] = [];
  const onEvent = (event: SyncEvent) => {
    progress.apply(event);
    const { done, total, bytesDone } = progress.snapshot;
    for (const kind of PROGRESS_KINDS) {
      if (done[kind] > total[kind])
        overshoots.push(`${kind} ${done[kind]}/${total[kind]} after ${event.type}`);
    }
    if (bytesDone > progress.snapshot.total.bytes) overshoots.push(`bytes after ${event.type}`);
  };
  const result = await sync({ source, destination, state, config: { transfers: 4 }, onEvent });
  return { result, overshoots, snapshot: progress.snapshot as ProgressSnapshot };
}

describe('SyncProgress', () => {
  it('counts files and folders apart, so neither count runs past its total', async () => {
    const source = new MemoryStorage();
    const destination = new MemoryStorage();
    const state = new MemoryStateStore();
    for (let folder = 0; folder < 11; folder++) {
      for (let file = 0; file < 20; file++)
        source.put(`f${folder}/n${file}.txt`, `content ${folder} ${file}`, { mtime: T0 });
    }
    destination.put('only-here/x.txt', 'x', { mtime: T0 });

    const first = await syncWatchingCounts(source, destination, state);

    expect(first.result.status).toBe('completed');
    expect(first.overshoots).toEqual([]);
    // 220 files up and 1 down; the 12 folders are counted apart (they once made "233/221 files").
    expect(first.snapshot.total).toMatchObject({ file: 221, folder: 12 });
    expect(first.snapshot.done).toMatchObject({ file: 221, folder: 12 });
    expect(first.snapshot.bytesDone).toBe(first.snapshot.total.bytes);
    expect(first.snapshot.transfers).toEqual([]);
    expect(first.snapshot.phase).toBe('finished');

    await source.delete('f0/n0.txt');
    await source.rename('f1/n1.txt', 'f1/renamed.txt');
    source.put('f2/n2.txt', 'edited at the source', { mtime: T0 + 60_000 });
    const second = await syncWatchingCounts(source, destination, state);

    expect(second.overshoots).toEqual([]);
    expect(second.snapshot.total).toMatchObject({ file: 1, delete: 1, rename: 1, folder: 0 });
    expect(second.snapshot.done).toMatchObject({ file: 1, delete: 1, rename: 1 });
  });

  it('classifies actions: checks, conflicts, and any action on a folder as a folder', () => {
    expect(progressKindOf({ type: 'NO_ACTION', isDir: false })).toBe('check');
    expect(progressKindOf({ type: 'CONFLICT', isDir: false })).toBe('conflict');
    expect(progressKindOf({ type: 'DELETE_SOURCE', isDir: true })).toBe('folder');
    expect(progressKindOf({ type: 'DELETE_DESTINATION', isDir: false })).toBe('delete');
    expect(progressKindOf({ type: 'RENAME_SOURCE', isDir: false })).toBe('rename');
    expect(progressKindOf({ type: 'DOWNLOAD_UPDATE', isDir: false })).toBe('file');
  });

  it('lists transfers in flight with their bytes, and ends a failed one', () => {
    let now = 0;
    const progress = new SyncProgress(() => now);
    const action = { type: 'UPLOAD_NEW' as const, path: 'a.bin', reason: 'r', bytes: 100, isDir: false };
    progress.apply({ type: 'upload_start', path: 'a.bin', total_bytes: 100 });
    now = 1_000;
    progress.apply({ type: 'upload_progress', path: 'a.bin', bytes_transferred: 40, total_bytes: 100 });
    expect(progress.snapshot.transfers).toEqual([
      { path: 'a.bin', direction: 'upload', bytesDone: 40, size: 100, startedAt: 0 },
    ]);
    expect(progress.snapshot.rateBytesPerSecond).toBe(40);
    progress.apply({ type: 'action_complete', action, error: 'disk full' });
    expect(progress.snapshot.transfers).toEqual([]);
    expect(progress.snapshot.errors).toBe(1);
    expect(progress.snapshot.done.file).toBe(0);
  });
});
