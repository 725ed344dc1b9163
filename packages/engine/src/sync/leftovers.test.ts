import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { filesBelow } from '../../test/testing/local-folders.js';
import { writeText } from '../../test/testing/storage-contract.js';
import { MemoryStorage } from '../backends/memory.js';
import type { SyncEvent } from '../events.js';
import { isTempName, tempNameFor } from '../paths.js';
import { FileStateStore } from '../state/file-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { sync } from './sync.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function localPair() {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-leftovers-'));
  roots.push(root);
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  await mkdir(src);
  await mkdir(dst);
  return {
    src,
    dst,
    pair: {
      source: new LocalStorage(src),
      destination: new LocalStorage(dst),
      state: new FileStateStore(join(root, 'state'), { fsync: false }),
    },
  };
}

async function runSync(pair: Parameters<typeof sync>[0]) {
  const events: SyncEvent[] = [];
  const result = await sync({ ...pair, onEvent: (event) => events.push(event) });
  return { result, events };
}

/** Every name below `dir` that is a temporary name, with its path relative to `dir`. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((path) => isTempName(path.split('/').pop()!)).sort();
}

const files = (dir: string) => filesBelow(dir);

describe('temporary files an interrupted run left behind', () => {
  it('are removed by the next run on both sides and counted in its stats and events', async () => {
    const { src, dst, pair } = await localPair();
    await writeFile(join(src, 'a.txt'), 'a');
    await mkdir(join(dst, 'deep', 'er'), { recursive: true });
    await writeFile(join(dst, 'deep', 'er', 'b.txt'), 'b');
    await writeFile(join(src, tempNameFor('a.txt')), 'half of a');
    await writeFile(join(dst, 'deep', 'er', tempNameFor('b.txt')), 'half of b');
    await writeFile(join(dst, tempNameFor('gone.txt')), 'half of a file never finished');

    const { result, events } = await runSync(pair);

    expect(result.status).toBe('completed');
    expect(result.stats.temporaryFilesRemoved).toBe(3);
    expect(events).toContainEqual({ type: 'temporary_files_removed', side: 'source', count: 1 });
    expect(events).toContainEqual({ type: 'temporary_files_removed', side: 'destination', count: 2 });
    expect(await tempFiles(src)).toEqual([]);
    expect(await tempFiles(dst)).toEqual([]);
    const both = { 'a.txt': 'a', 'deep/er/b.txt': 'b' };
    expect(await files(src)).toEqual(both);
    expect(await files(dst)).toEqual(both);
  });

  it('are found by a run that would otherwise have nothing to do (trees unchanged since the last run)', async () => {
    const { src, dst, pair } = await localPair();
    await mkdir(join(src, 'docs'));
    await writeFile(join(src, 'docs', 'a.txt'), 'a');
    expect((await runSync(pair)).result.status).toBe('completed');
    // The fingerprint of both trees is recorded: unchanged trees are not listed again.
    expect((await runSync(pair)).result.plan.actions).toEqual([]);
    await writeFile(join(dst, 'docs', tempNameFor('a.txt')), 'half of a');

    const { result } = await runSync(pair);

    expect(result.plan.actions).toEqual([]);
    expect(result.stats.temporaryFilesRemoved).toBe(1);
    expect(await tempFiles(dst)).toEqual([]);
  });

  it('are left in place by a dry run', async () => {
    const { dst, pair } = await localPair();
    await writeFile(join(dst, tempNameFor('a.txt')), 'half of a');
    const result = await sync({ ...pair, config: { dryRun: true } });
    expect(result.stats.temporaryFilesRemoved).toBe(0);
    expect(await tempFiles(dst)).toHaveLength(1);
  });

  it('no longer keep alive a folder the other side deleted', async () => {
    const { src, dst, pair } = await localPair();
    await mkdir(join(src, 'old'));
    await writeFile(join(src, 'old', 'a.txt'), 'a');
    await writeFile(join(src, 'keep.txt'), 'k');
    expect((await runSync(pair)).result.status).toBe('completed');
    // A run killed while it wrote into the folder left its temporary file there.
    await writeFile(join(dst, 'old', tempNameFor('a.txt')), 'half of a newer a');
    await rm(join(src, 'old'), { recursive: true });

    const { result } = await runSync(pair);

    expect(result.status).toBe('completed');
    expect(result.errors).toEqual([]);
    expect(await readdir(dst)).not.toContain('old');
    expect(await files(dst)).toEqual({ 'keep.txt': 'k' });
    expect(await files(src)).toEqual({ 'keep.txt': 'k' });
    expect((await runSync(pair)).result.plan.actions).toEqual([]);
  });

  it('are removed on a backend that lists and deletes them like any file (memory)', async () => {
    const source = new MemoryStorage({ description: 'memory source' });
    const destination = new MemoryStorage({ description: 'memory destination' });
    await writeText(source, 'a.txt', 'a');
    const litter = `dir/${tempNameFor('b.txt')}`;
    await writeText(destination, litter, 'half of b');

    const { result } = await runSync({ source, destination, state: new MemoryStateStore() });

    expect(result.stats.temporaryFilesRemoved).toBe(1);
    expect(await destination.stat(litter)).toBeNull();
    const left: string[] = [];
    for await (const entry of destination.list()) left.push(entry.path);
    expect(left.filter((path) => isTempName(path.split('/').pop()!))).toEqual([]);
  });
});
