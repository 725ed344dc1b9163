import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import { withUnreadableFolders } from '../../test/testing/unreadable-folders.js';
import { MemoryStorage } from '../backends/memory.js';
import type { SyncConfig } from '../config.js';
import type { SyncEvent } from '../events.js';
import type { Side } from '../model.js';
import { FileStateStore } from '../state/file-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';
import { sync } from './sync.js';

/**
 * A folder the sync cannot read never stops a run: it is reported, left alone on both
 * sides, and everything else syncs. Here a folder is made unreadable by a wrapper that
 * lists it as a disk without read permission does (`withUnreadableFolders`), on in-memory
 * storages and on real folders; the CLI tests do it with real permissions, as `nobody`.
 */

interface Pair {
  source: Storage;
  destination: Storage;
  state: StateStore;
  locked: Record<Side, Set<string>>;
  unreadableFiles: Record<Side, Set<string>>;
}

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

function lockable(source: Storage, destination: Storage, state: StateStore): Pair {
  const locked = { source: new Set<string>(), destination: new Set<string>() };
  const unreadableFiles = { source: new Set<string>(), destination: new Set<string>() };
  return {
    source: withUnreadableFolders(source, locked.source, unreadableFiles.source),
    destination: withUnreadableFolders(destination, locked.destination, unreadableFiles.destination),
    state,
    locked,
    unreadableFiles,
  };
}

const backends: { name: string; make(): Promise<Pair> }[] = [
  {
    name: 'memory',
    async make() {
      return lockable(
        new MemoryStorage({ description: 'memory source' }),
        new MemoryStorage({ description: 'memory destination' }),
        new MemoryStateStore(),
      );
    },
  },
  {
    name: 'local folders',
    async make() {
      const root = await mkdtemp(join(tmpdir(), 'syncengine-unreadable-'));
      roots.push(root);
      await mkdir(join(root, 'src'));
      await mkdir(join(root, 'dst'));
      return lockable(
        new LocalStorage(join(root, 'src')),
        new LocalStorage(join(root, 'dst')),
        new FileStateStore(join(root, 'state'), { fsync: false }),
      );
    },
  },
];

async function put(storage: Storage, path: string, content: string): Promise<void> {
  await storage.write(path, Readable.from([Buffer.from(content)]), { size: Buffer.byteLength(content) });
}

async function contents(storage: Storage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of storage.list({ include: (path) => !path.startsWith('.syncengine') })) {
    if (entry.isDir) {
      out[`${entry.path}/`] = '';
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await storage.read(entry.path)) chunks.push(Buffer.from(chunk as Buffer));
    out[entry.path] = Buffer.concat(chunks).toString('utf8');
  }
  return out;
}

async function run(pair: Pair, config: Partial<SyncConfig> = {}) {
  const events: SyncEvent[] = [];
  const result = await sync({
    source: pair.source,
    destination: pair.destination,
    state: pair.state,
    config: { maxDeletePercent: 100, ...config },
    onEvent: (event) => events.push(event),
  });
  return { result, events };
}

/** Both sides' contents, read with nothing locked. */
async function unlockedContents(pair: Pair) {
  const locked = { source: [...pair.locked.source], destination: [...pair.locked.destination] };
  pair.locked.source.clear();
  pair.locked.destination.clear();
  const out = { source: await contents(pair.source), destination: await contents(pair.destination) };
  for (const path of locked.source) pair.locked.source.add(path);
  for (const path of locked.destination) pair.locked.destination.add(path);
  return out;
}

describe.each(backends)('an unreadable folder over $name', (backend) => {
  it('is reported and left alone on a first sync, and everything else syncs', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.source, 'locked/inside.txt', 'secret');
    pair.locked.source.add('locked');

    const { result, events } = await run(pair);

    expect(result.status).toBe('completed');
    expect(result.errors).toEqual([
      {
        path: 'locked',
        code: 'UNREADABLE',
        message:
          'the folder locked on the source side could not be read (permission denied); it was left alone on both sides',
      },
    ]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'warning', path: 'locked' }));
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a' });
    expect(result.plan.actions.map((action) => action.path)).toEqual(['a.txt']);
  });

  it.each<[SyncConfig['mode'], Side]>([
    ['TWO_WAY', 'source'],
    ['TWO_WAY', 'destination'],
    ['SOURCE_TO_DESTINATION', 'source'],
    ['DESTINATION_TO_SOURCE', 'destination'],
    ['SOURCE_TO_DESTINATION', 'destination'],
  ])('%s: never deletes on the other side what the %s side could not list', async (mode, side) => {
    const pair = await backend.make();
    for (const target of [pair.source, pair.destination]) {
      await put(target, 'shared/kept.txt', 'kept');
      await put(target, 'b.txt', 'b');
    }
    expect((await run(pair, { mode })).result.errors).toEqual([]);
    const before = await unlockedContents(pair);

    pair.locked[side].add('shared');
    await put(pair.source, 'c.txt', 'new at the source');
    const { result } = await run(pair, { mode });
    expect(result.status).toBe('completed');
    expect(result.errors.map((error) => `${error.code} ${error.path}`)).toEqual(['UNREADABLE shared']);
    expect(result.plan.actions.filter((action) => action.path.startsWith('shared'))).toEqual([]);
    const after = await unlockedContents(pair);
    for (const which of ['source', 'destination'] as const) {
      expect(after[which]['shared/kept.txt']).toBe(before[which]['shared/kept.txt']);
    }

    // Readable again: the records were kept, so nothing looks new or deleted there.
    pair.locked[side].clear();
    const again = await run(pair, { mode });
    expect(again.result.errors).toEqual([]);
    expect(again.result.plan.actions.filter((action) => action.type !== 'NO_ACTION')).toEqual([]);
  });

  it('fails the run under strict, still syncing the rest', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.destination, 'locked/inside.txt', 'secret');
    pair.locked.destination.add('locked');
    const { result } = await run(pair, { strict: true });
    expect(result.status).toBe('failed');
    expect(result.errors.map((error) => error.code)).toEqual(['UNREADABLE']);
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a', 'locked/': '' });
  });

  it('is left alone when only its ignore rules cannot be read', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.source, 'rules/.syncignore', '*.log');
    await put(pair.source, 'rules/debug.log', 'ignored');
    // The folder lists, but its `.syncignore` cannot be read: what is ignored there is unknown.
    pair.unreadableFiles.source.add('rules/.syncignore');
    const { result } = await run(pair);
    expect(result.errors.map((error) => `${error.code} ${error.path}`)).toEqual(['UNREADABLE rules']);
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a' });
  });
});
