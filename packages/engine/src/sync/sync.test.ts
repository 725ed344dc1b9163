import { writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import type { SyncOptions, SyncResult } from '../api.js';
import { MemoryStorage } from '../backends/memory.js';
import type { SyncConfig } from '../config.js';
import { SyncController } from '../controller.js';
import { SyncError } from '../errors.js';
import type { SyncEvent } from '../events.js';
import type { ActionType } from '../model.js';
import { VERSIONS_DIR } from '../paths.js';
import { FileStateStore } from '../state/file-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';
import { previewSync, sync } from './sync.js';

const RUN_AT = Date.UTC(2026, 10, 26, 4, 28, 0);
const STAMP = '20261126T042800Z';
const T0 = Date.UTC(2026, 0, 1);

interface Pair {
  source: Storage;
  destination: Storage;
  state: StateStore;
}

interface Backend {
  name: string;
  make(): Promise<Pair>;
}

const memoryBackend: Backend = {
  name: 'memory',
  async make() {
    return {
      source: new MemoryStorage({ description: 'memory source' }),
      destination: new MemoryStorage({ description: 'memory destination' }),
      state: new MemoryStateStore(),
    };
  },
};

const tempRoots: string[] = [];
afterAll(async () => {
  await Promise.all(tempRoots.map((root) => rm(root, { recursive: true, force: true })));
});

const localBackend: Backend = {
  name: 'local folders',
  async make() {
    const root = await mkdtemp(join(tmpdir(), 'syncengine-sync-'));
    tempRoots.push(root);
    await mkdir(join(root, 'src'));
    await mkdir(join(root, 'dst'));
    return {
      source: new LocalStorage(join(root, 'src')),
      destination: new LocalStorage(join(root, 'dst')),
      state: new FileStateStore(join(root, 'state'), { fsync: false }),
    };
  },
};

let clockTick = T0;
/** Writes a file with an mtime later than anything written before. */
async function put(storage: Storage, path: string, content: string, mtime?: number): Promise<void> {
  clockTick += 10_000;
  await storage.write(path, Readable.from([Buffer.from(content)]), {
    size: Buffer.byteLength(content),
    mtime: mtime ?? clockTick,
  });
}

async function readText(storage: Storage, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(path)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Every file outside the engine's folder, with its content; directories as `path/`. */
async function contents(storage: Storage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of storage.list({ include: (path) => !path.startsWith('.syncengine') })) {
    if (entry.isDir) out[`${entry.path}/`] = '';
    else out[entry.path] = await readText(storage, entry.path);
  }
  return out;
}

/** Contents of the versions area, as sorted `relative path → content` lines. */
async function versions(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of storage.list()) {
    if (entry.isDir || !entry.path.startsWith(`${VERSIONS_DIR}/`)) continue;
    out.push(`${entry.path.slice(VERSIONS_DIR.length + 1)}=${await readText(storage, entry.path)}`);
  }
  return out.sort();
}

interface Run {
  result: SyncResult;
  events: SyncEvent[];
}

async function run(
  pair: Pair,
  config: Partial<SyncConfig> = {},
  extra: Partial<SyncOptions> = {},
): Promise<Run> {
  const events: SyncEvent[] = [];
  const result = await sync({
    ...pair,
    config: { transfers: 2, operations: 2, ...config },
    clock: { now: () => RUN_AT },
    onEvent: (event) => events.push(event),
    ...extra,
  });
  return { result, events };
}

const actionTypes = (result: SyncResult): ActionType[] =>
  result.plan.actions.map((action) => action.type).filter((type) => type !== 'NO_ACTION');

const transfers = (result: SyncResult): number =>
  Object.entries(result.stats.actions)
    .filter(([type]) => type.startsWith('UPLOAD_') || type.startsWith('DOWNLOAD_'))
    .reduce((sum, [, count]) => sum + (count ?? 0), 0);

/** Asserts a completed run left both sides holding the same files. */
async function expectInSync(pair: Pair): Promise<Record<string, string>> {
  const [source, destination] = await Promise.all([contents(pair.source), contents(pair.destination)]);
  expect(destination).toEqual(source);
  return source;
}

describe.each([memoryBackend, localBackend])('sync over $name', (backend) => {
  it('merges both sides on a first sync, never deleting, newest wins where they differ', async () => {
    const pair = await backend.make();
    await put(pair.source, 'only-source.txt', 'S');
    await put(pair.destination, 'dir/only-destination.txt', 'D');
    await put(pair.source, 'same.txt', 'same');
    await put(pair.destination, 'same.txt', 'same');
    await put(pair.source, 'differs.txt', 'older');
    await put(pair.destination, 'differs.txt', 'newer');

    const { result } = await run(pair);

    expect(result.status).toBe('completed');
    expect(result.plan.isFirstSync).toBe(true);
    expect(await expectInSync(pair)).toEqual({
      'differs.txt': 'newer',
      'dir/': '',
      'dir/only-destination.txt': 'D',
      'only-source.txt': 'S',
      'same.txt': 'same',
    });
    expect(await versions(pair.source)).toEqual([`${STAMP}/differs.txt=older`]);
    expect(result.stats.conflicts).toBe(1);

    const again = await run(pair);
    expect(actionTypes(again.result)).toEqual([]);
    expect(transfers(again.result)).toBe(0);
  });

  type Cell = {
    cell: string;
    change: (pair: Pair) => Promise<void>;
    expected: ActionType[];
    files: Record<string, string>;
    sourceVersions?: string[];
    destinationVersions?: string[];
  };
  const cells: Cell[] = [
    {
      cell: 'created at source → UPLOAD_NEW',
      change: (p) => put(p.source, 'new.txt', 'n'),
      expected: ['UPLOAD_NEW'],
      files: { 'a.txt': 'base', 'new.txt': 'n' },
    },
    {
      cell: 'created at destination → DOWNLOAD_NEW',
      change: (p) => put(p.destination, 'new.txt', 'n'),
      expected: ['DOWNLOAD_NEW'],
      files: { 'a.txt': 'base', 'new.txt': 'n' },
    },
    {
      cell: 'created identically on both sides → NO_ACTION',
      change: async (p) => {
        await put(p.source, 'new.txt', 'same');
        await put(p.destination, 'new.txt', 'same');
      },
      expected: [],
      files: { 'a.txt': 'base', 'new.txt': 'same' },
    },
    {
      cell: 'created differently on both sides → CONFLICT (newest wins)',
      change: async (p) => {
        await put(p.destination, 'new.txt', 'old one');
        await put(p.source, 'new.txt', 'new one');
      },
      expected: ['CONFLICT'],
      files: { 'a.txt': 'base', 'new.txt': 'new one' },
      destinationVersions: [`${STAMP}/new.txt=old one`],
    },
    {
      cell: 'modified at source → UPLOAD_UPDATE',
      change: (p) => put(p.source, 'a.txt', 'edited'),
      expected: ['UPLOAD_UPDATE'],
      files: { 'a.txt': 'edited' },
      destinationVersions: [`${STAMP}/a.txt=base`],
    },
    {
      cell: 'modified at destination → DOWNLOAD_UPDATE',
      change: (p) => put(p.destination, 'a.txt', 'edited'),
      expected: ['DOWNLOAD_UPDATE'],
      files: { 'a.txt': 'edited' },
      sourceVersions: [`${STAMP}/a.txt=base`],
    },
    {
      cell: 'modified identically on both sides → NO_ACTION',
      change: async (p) => {
        await put(p.source, 'a.txt', 'both');
        await put(p.destination, 'a.txt', 'both');
      },
      expected: [],
      files: { 'a.txt': 'both' },
    },
    {
      cell: 'modified differently on both sides → CONFLICT (newest wins)',
      change: async (p) => {
        await put(p.source, 'a.txt', 'source edit');
        await put(p.destination, 'a.txt', 'destination edit');
      },
      expected: ['CONFLICT'],
      files: { 'a.txt': 'destination edit' },
      sourceVersions: [`${STAMP}/a.txt=source edit`],
    },
    {
      cell: 'deleted at source → DELETE_DESTINATION',
      change: (p) => p.source.delete('a.txt'),
      expected: ['DELETE_DESTINATION'],
      files: { 'b.txt': 'keep' },
      destinationVersions: [`${STAMP}/a.txt=base`],
    },
    {
      cell: 'deleted at destination → DELETE_SOURCE',
      change: (p) => p.destination.delete('a.txt'),
      expected: ['DELETE_SOURCE'],
      files: { 'b.txt': 'keep' },
      sourceVersions: [`${STAMP}/a.txt=base`],
    },
    {
      cell: 'deleted on both sides → NO_ACTION',
      change: async (p) => {
        await p.source.delete('a.txt');
        await p.destination.delete('a.txt');
      },
      expected: [],
      files: { 'b.txt': 'keep' },
    },
    {
      cell: 'deleted at source, modified at destination → DOWNLOAD_RESTORE',
      change: async (p) => {
        await p.source.delete('a.txt');
        await put(p.destination, 'a.txt', 'edit wins');
      },
      expected: ['DOWNLOAD_RESTORE'],
      files: { 'a.txt': 'edit wins', 'b.txt': 'keep' },
    },
    {
      cell: 'modified at source, deleted at destination → UPLOAD_RESTORE',
      change: async (p) => {
        await put(p.source, 'a.txt', 'edit wins');
        await p.destination.delete('a.txt');
      },
      expected: ['UPLOAD_RESTORE'],
      files: { 'a.txt': 'edit wins', 'b.txt': 'keep' },
    },
    {
      cell: 'renamed at source → RENAME_DESTINATION',
      change: (p) => p.source.rename('a.txt', 'moved/a2.txt'),
      // The new folder `moved/` is created by the rename; its own action finds it there.
      expected: ['RENAME_DESTINATION', 'UPLOAD_NEW'],
      files: { 'b.txt': 'keep', 'moved/': '', 'moved/a2.txt': 'base' },
    },
    {
      cell: 'renamed at destination → RENAME_SOURCE',
      change: (p) => p.destination.rename('a.txt', 'a2.txt'),
      expected: ['RENAME_SOURCE'],
      files: { 'a2.txt': 'base', 'b.txt': 'keep' },
    },
  ];

  it.each(cells)(
    'two-way: $cell',
    async ({ change, expected, files, sourceVersions, destinationVersions }) => {
      const pair = await backend.make();
      await put(pair.source, 'a.txt', 'base');
      await put(pair.source, 'b.txt', 'keep');
      expect((await run(pair)).result.status).toBe('completed');

      await change(pair);
      const { result } = await run(pair);

      expect(result.errors).toEqual([]);
      expect(result.status).toBe('completed');
      expect(actionTypes(result)).toEqual(expected);
      const synced = await expectInSync(pair);
      expect(synced).toEqual(expect.objectContaining(files));
      for (const path of Object.keys(synced)) {
        if (!(path in files) && path !== 'a.txt' && path !== 'b.txt') throw new Error(`unexpected ${path}`);
      }
      expect(await versions(pair.source)).toEqual(sourceVersions ?? []);
      expect(await versions(pair.destination)).toEqual(destinationVersions ?? []);
      // Converged: a further run has nothing to do.
      expect(actionTypes((await run(pair)).result)).toEqual([]);
    },
  );

  it('mirrors source to destination, deleting what only the destination has (versions kept)', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await run(pair, { mode: 'SOURCE_TO_DESTINATION' });
    await put(pair.destination, 'extra.txt', 'x');
    await put(pair.destination, 'a.txt', 'changed at destination');
    const { result } = await run(pair, { mode: 'SOURCE_TO_DESTINATION' });
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a' });
    expect(await versions(pair.destination)).toEqual([
      `${STAMP}/a.txt=changed at destination`,
      `${STAMP}/extra.txt=x`,
    ]);
  });

  it('keeps destination-only files and deleted files in SOURCE_BACKUP, and tracks them', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.source, 'b.txt', 'b');
    await run(pair, { mode: 'SOURCE_BACKUP' });
    await pair.source.delete('a.txt');
    await put(pair.destination, 'extra.txt', 'x');
    const { result } = await run(pair, { mode: 'SOURCE_BACKUP' });
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a', 'b.txt': 'b', 'extra.txt': 'x' });
    expect(await contents(pair.source)).toEqual({ 'b.txt': 'b' });
    const again = await run(pair, { mode: 'SOURCE_BACKUP' });
    expect(actionTypes(again.result)).toEqual([]);
  });

  it('mirrors destination to source in DESTINATION_TO_SOURCE', async () => {
    const pair = await backend.make();
    await put(pair.destination, 'd.txt', 'd');
    await put(pair.source, 's.txt', 's');
    await run(pair, { mode: 'DESTINATION_TO_SOURCE', maxDeletePercent: 100 });
    expect(await contents(pair.source)).toEqual({ 'd.txt': 'd' });
    expect(await versions(pair.source)).toEqual([`${STAMP}/s.txt=s`]);
  });

  it('copies destination changes to the source in DESTINATION_BACKUP without deleting at the source', async () => {
    const pair = await backend.make();
    await put(pair.destination, 'd.txt', 'd');
    await put(pair.source, 's.txt', 's');
    await run(pair, { mode: 'DESTINATION_BACKUP' });
    expect(await contents(pair.source)).toEqual({ 'd.txt': 'd', 's.txt': 's' });
    expect(await contents(pair.destination)).toEqual({ 'd.txt': 'd' });
  });

  it('keeps both versions under conflict names beside each other when asked to', async () => {
    const pair = await backend.make();
    await put(pair.source, 'docs/report.txt', 'base');
    await run(pair);
    await put(pair.source, 'docs/report.txt', 'mine');
    await put(pair.destination, 'docs/report.txt', 'theirs');
    const { result } = await run(
      pair,
      { conflictResolution: 'MANUAL' },
      { onConflict: async () => 'keep-both' },
    );
    expect(result.status).toBe('completed');
    expect(await expectInSync(pair)).toEqual({
      'docs/': '',
      'docs/report.txt': 'theirs',
      [`docs/report.conflict-${STAMP}-source.txt`]: 'mine',
    });
    expect(actionTypes((await run(pair)).result)).toEqual([]);
  });

  it('keeps both a folder and a file of the same name, renaming the file', async () => {
    const pair = await backend.make();
    await put(pair.source, 'x/inside.txt', 'in the folder');
    await put(pair.destination, 'x', 'a file named x');
    const { result } = await run(
      pair,
      { conflictResolution: 'MANUAL' },
      { onConflict: async () => 'keep-both' },
    );
    expect(result.errors).toEqual([]);
    expect(await expectInSync(pair)).toEqual({
      'x/': '',
      'x/inside.txt': 'in the folder',
      [`x.conflict-${STAMP}-destination`]: 'a file named x',
    });
    expect(actionTypes((await run(pair)).result)).toEqual([]);
  });

  it('stops before changing anything when a run would delete more than maxDeletePercent', async () => {
    const pair = await backend.make();
    for (const name of ['a', 'b', 'c', 'd']) await put(pair.source, `${name}.txt`, name);
    await run(pair);
    for (const name of ['a', 'b', 'c']) await pair.source.delete(`${name}.txt`);
    await put(pair.source, 'new.txt', 'new');
    const { result, events } = await run(pair, { maxDeletePercent: 50 });
    expect(result.status).toBe('max-delete');
    expect(result.errors.map((error) => error.code)).toEqual(['MAX_DELETE']);
    expect(await contents(pair.destination)).toEqual({
      'a.txt': 'a',
      'b.txt': 'b',
      'c.txt': 'c',
      'd.txt': 'd',
    });
    expect(events.some((event) => event.type === 'sync_start')).toBe(false);

    const forced = await run(pair, { maxDeletePercent: 50, force: true });
    expect(forced.result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'd.txt': 'd', 'new.txt': 'new' });
  });

  it('changes nothing on a dry run and returns every action with its reason', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.destination, 'b.txt', 'b');
    const plan = await previewSync({ ...pair, clock: { now: () => RUN_AT } });
    expect(plan.actions.map((action) => [action.type, action.path]).sort()).toEqual([
      ['DOWNLOAD_NEW', 'b.txt'],
      ['UPLOAD_NEW', 'a.txt'],
    ]);
    expect(plan.actions.every((action) => action.reason.length > 0)).toBe(true);
    expect(await contents(pair.source)).toEqual({ 'a.txt': 'a' });
    expect(await contents(pair.destination)).toEqual({ 'b.txt': 'b' });
    expect(await pair.state.load()).toBeNull();
  });

  it('asks the handler in MANUAL mode and applies its decision', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'base');
    await run(pair);
    await put(pair.source, 'a.txt', 'source edit');
    await put(pair.destination, 'a.txt', 'destination edit');
    const asked: string[] = [];
    const { result } = await run(
      pair,
      { conflictResolution: 'MANUAL' },
      {
        onConflict: async (conflict) => {
          asked.push(conflict.path);
          return 'source';
        },
      },
    );
    expect(asked).toEqual(['a.txt']);
    expect(result.status).toBe('completed');
    expect(await expectInSync(pair)).toEqual({ 'a.txt': 'source edit' });
    expect(await versions(pair.destination)).toEqual([`${STAMP}/a.txt=destination edit`]);
  });

  it('leaves a MANUAL conflict pending without a handler, changing neither side', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'base');
    await run(pair);
    await put(pair.source, 'a.txt', 'source edit');
    await put(pair.destination, 'a.txt', 'destination edit');
    const { result, events } = await run(pair, { conflictResolution: 'MANUAL' });
    expect(result.status).toBe('completed');
    expect(result.pendingConflicts.map((conflict) => conflict.path)).toEqual(['a.txt']);
    expect(result.stats.conflictsPending).toBe(1);
    expect(events.filter((event) => event.type === 'conflict')).toHaveLength(1);
    expect(await contents(pair.source)).toEqual({ 'a.txt': 'source edit' });
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'destination edit' });
    expect((await pair.state.loadMetadata())?.pendingConflicts.map((record) => record.path)).toEqual([
      'a.txt',
    ]);

    // Still pending next time, until a handler settles it.
    const again = await run(pair, { conflictResolution: 'MANUAL' });
    expect(again.result.pendingConflicts.map((conflict) => conflict.path)).toEqual(['a.txt']);
    const settled = await run(
      pair,
      { conflictResolution: 'MANUAL' },
      { onConflict: async () => 'destination' },
    );
    expect(settled.result.pendingConflicts).toEqual([]);
    expect(await expectInSync(pair)).toEqual({ 'a.txt': 'destination edit' });
    expect((await pair.state.loadMetadata())?.pendingConflicts).toEqual([]);
  });

  it('neither copies nor deletes ignored paths, from the pair patterns and .syncignore', async () => {
    const pair = await backend.make();
    await put(pair.source, '.syncignore', 'build/\n');
    await put(pair.source, 'keep.txt', 'k');
    await put(pair.source, 'scratch.tmp', 'tmp');
    await put(pair.source, 'build/out.bin', 'bin');
    await put(pair.destination, 'local.tmp', 'mine');
    const { result } = await run(pair, { ignorePatterns: ['*.tmp'] });
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({
      '.syncignore': 'build/\n',
      'keep.txt': 'k',
      'local.tmp': 'mine',
    });
    await pair.source.delete('scratch.tmp');
    await run(pair, { ignorePatterns: ['*.tmp'] });
    expect(await contents(pair.destination)).toEqual({
      '.syncignore': 'build/\n',
      'keep.txt': 'k',
      'local.tmp': 'mine',
    });
    expect(await contents(pair.source)).toEqual({
      '.syncignore': 'build/\n',
      'build/': '',
      'build/out.bin': 'bin',
      'keep.txt': 'k',
    });
  });

  it('applies nested .syncignore files of the source to both sides, below folders the walk enters', async () => {
    const pair = await backend.make();
    await put(pair.source, 'web/.syncignore', 'cache/\n*.log\n');
    await put(pair.source, 'web/app.js', 'app');
    await put(pair.source, 'web/debug.log', 'src log');
    await put(pair.source, 'web/cache/a.bin', 'src cache');
    await put(pair.source, 'web/deep/x/trace.log', 'deep log');
    await put(pair.source, 'other/.syncignore', 'never/\n');
    await put(pair.source, 'other/never/n.txt', 'n');
    await put(pair.source, 'skipped/.syncignore', 'data.txt\n');
    await put(pair.source, 'skipped/data.txt', 'kept: its .syncignore is itself ignored');
    await put(pair.destination, 'web/cache/b.bin', 'dst cache');
    await put(pair.destination, 'web/zz.log', 'dst log');
    const { result } = await run(pair, { ignorePatterns: ['skipped/.syncignore'] });
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({
      'other/': '',
      'other/.syncignore': 'never/\n',
      'skipped/': '',
      'skipped/data.txt': 'kept: its .syncignore is itself ignored',
      'web/': '',
      'web/.syncignore': 'cache/\n*.log\n',
      'web/app.js': 'app',
      'web/cache/': '',
      'web/cache/b.bin': 'dst cache',
      'web/deep/': '',
      'web/deep/x/': '',
      'web/zz.log': 'dst log',
    });
    expect(await readText(pair.source, 'web/cache/a.bin')).toBe('src cache');
    expect(await contents(pair.source)).not.toHaveProperty('web/zz.log');
  });

  it('deletes versions older than the retention period and keeps them forever with 0 days', async () => {
    const pair = await backend.make();
    await put(pair.source, 'a.txt', 'v1');
    await run(pair);
    await put(pair.source, 'a.txt', 'v2');
    await sync({ ...pair, clock: { now: () => RUN_AT - 40 * 86_400_000 } });
    expect(await versions(pair.destination)).toHaveLength(1);

    await put(pair.source, 'b.txt', 'b');
    await run(pair, { versions: { retentionDays: 0 } });
    expect(await versions(pair.destination)).toHaveLength(1);

    await put(pair.source, 'c.txt', 'c');
    await run(pair, { versions: { retentionDays: 30 } });
    expect(await versions(pair.destination)).toEqual([]);
  });

  it('creates and deletes empty directories like files', async () => {
    const pair = await backend.make();
    await pair.source.mkdir('empty/inner');
    await run(pair);
    expect(await contents(pair.destination)).toEqual({ 'empty/': '', 'empty/inner/': '' });
    await pair.source.delete('empty/inner');
    await pair.source.delete('empty');
    const { result } = await run(pair);
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({});
  });
});

describe('sync onto real folders while they change', () => {
  it('never overwrites a file that appears at the target between the scan and the write', async () => {
    const pair = await localBackend.make();
    await put(pair.source, 'small.txt', 'from source');
    await put(pair.source, 'large.bin', 'x'.repeat(300 * 1024));
    const destinationRoot = (pair.destination as LocalStorage).root;
    const { result } = await run(
      pair,
      {},
      {
        onEvent: (event) => {
          if (event.type !== 'sync_start') return;
          writeFileSync(join(destinationRoot, 'small.txt'), 'made at the destination meanwhile');
          writeFileSync(join(destinationRoot, 'large.bin'), 'also made meanwhile');
        },
      },
    );
    expect(result.deferred.map((error) => [error.code, error.path]).sort()).toEqual([
      ['CHANGED_DURING_TRANSFER', 'large.bin'],
      ['CHANGED_DURING_TRANSFER', 'small.txt'],
    ]);
    expect(await contents(pair.destination)).toEqual({
      'large.bin': 'also made meanwhile',
      'small.txt': 'made at the destination meanwhile',
    });
  });
});

describe('sync with a state store bound to a pair (local)', () => {
  it('keeps the identity the store was given', async () => {
    const pair = await localBackend.make();
    if (!(pair.state instanceof FileStateStore)) throw new Error('expected a file state store');
    const state = new FileStateStore(pair.state.dir, { pairId: 'pair-1', fsync: false });
    await put(pair.source, 'a.txt', 'a');
    expect((await run({ ...pair, state })).result.status).toBe('completed');
    expect((await run({ ...pair, state })).result.status).toBe('completed');
    expect((await state.loadMetadata())?.pairId).toBe('pair-1');
  });
});

describe('sync with a damaged state folder (local)', () => {
  it('reports the damage and merges as on a first sync, deleting nothing', async () => {
    const pair = await localBackend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.source, 'b.txt', 'b');
    await run(pair);
    await pair.source.delete('a.txt');
    await put(pair.destination, 'c.txt', 'c');
    if (!(pair.state instanceof FileStateStore)) throw new Error('expected a file state store');
    // Damaged, and large next to the journal the next run writes: that run must still
    // replace it with a whole state rather than keep its journal on top.
    await writeFile(
      join(pair.state.dir, 'source_tree.json'),
      `{"a.txt": {"size": 1, "mti${' '.repeat(20_000)}`,
    );
    await appendFile(join(pair.state.dir, 'destination_tree.json'), ' '.repeat(20_000));

    const { result, events } = await run(pair);
    expect(result.status).toBe('completed');
    expect(events.some((event) => event.type === 'warning' && event.message.includes('unreadable'))).toBe(
      true,
    );
    // a.txt is not seen as deleted: without a trustworthy state it is copied back.
    expect(await expectInSync(pair)).toEqual({ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    expect([...((await pair.state.load())?.source.keys() ?? [])].sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(actionTypes((await run(pair)).result)).toEqual([]);
  });
});

describe('sync keeping the state journal (local)', () => {
  it('appends a few changes to the journal instead of rewriting the trees, and compacts a large journal', async () => {
    const pair = await localBackend.make();
    if (!(pair.state instanceof FileStateStore)) throw new Error('expected a file state store');
    const dir = pair.state.dir;
    for (let index = 0; index < 40; index++) await put(pair.source, `f${index}.txt`, `content ${index}`);
    await run(pair);
    const treeFile = join(dir, 'source_tree.json');
    const written = (await stat(treeFile)).mtimeMs;

    // One changed file: recorded in the journal, the trees stay as they are.
    await put(pair.source, 'f1.txt', 'changed once');
    expect(actionTypes((await run(pair)).result)).toEqual(['UPLOAD_UPDATE']);
    expect((await stat(treeFile)).mtimeMs).toBe(written);
    expect((await readFile(join(dir, 'journal.jsonl'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
    expect((await pair.state.load())?.source.get('f1.txt')?.size).toBe('changed once'.length);
    expect(actionTypes((await run(pair)).result)).toEqual([]);

    // Most files changed: the journal would outgrow the trees, so they are written anew.
    for (let index = 0; index < 40; index++)
      await put(pair.source, `f${index}.txt`, `content ${index}, changed`);
    expect((await run(pair)).result.errors).toEqual([]);
    expect((await stat(treeFile)).mtimeMs).toBeGreaterThan(written);
    await expect(stat(join(dir, 'journal.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await expectInSync(pair)).toHaveProperty('f39.txt', 'content 39, changed');
    expect(actionTypes((await run(pair)).result)).toEqual([]);
  });
});

/** A storage whose `write` fails on chosen calls (1-based), to break transfers mid-run. */
function failingWrites(inner: Storage, shouldFail: (call: number) => SyncError | null): Storage {
  let calls = 0;
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'write') {
        return async (...args: Parameters<Storage['write']>) => {
          calls++;
          const error = shouldFail(calls);
          if (error) {
            for await (const _ of args[1]) {
              // drain the source stream like a real backend would before failing
            }
            throw error;
          }
          return target.write(...args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('sync execution control (memory)', () => {
  const makeFiles = async (storage: Storage, count: number) => {
    for (let index = 0; index < count; index++)
      await put(storage, `f${String(index).padStart(2, '0')}.txt`, `file ${index}`);
  };

  it('emits sync_start before any transfer and sync_complete last', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 3);
    const { events } = await run(pair);
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('scan_start');
    expect(types.indexOf('scan_complete')).toBeLessThan(types.indexOf('plan_ready'));
    expect(types.indexOf('plan_ready')).toBeLessThan(types.indexOf('sync_start'));
    expect(types.indexOf('sync_start')).toBeLessThan(types.indexOf('upload_start'));
    expect(types.filter((type) => type === 'upload_complete')).toHaveLength(3);
    expect(types.at(-1)).toBe('sync_complete');
    const complete = events.at(-1);
    expect(complete?.type === 'sync_complete' && complete.stats.actions.UPLOAD_NEW).toBe(3);
  });

  it('pauses between operations and resumes where it stopped', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 6);
    const controller = new SyncController();
    const events: SyncEvent[] = [];
    let uploads = 0;
    let resumedAt = -1;
    const running = sync({
      ...pair,
      controller,
      config: { transfers: 1 },
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'upload_complete' && ++uploads === 2) {
          controller.pause();
          setTimeout(() => {
            resumedAt = uploads;
            controller.resume();
          }, 50);
        }
      },
    });
    const result = await running;
    expect(resumedAt).toBe(2);
    expect(result.status).toBe('completed');
    const types = events.map((event) => event.type);
    expect(types).toContain('paused');
    expect(types.indexOf('paused')).toBeLessThan(types.indexOf('resumed'));
    expect(Object.keys(await contents(pair.destination))).toHaveLength(6);
  });

  it('stops on cancel, keeps what was done, and the next run moves only the rest', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 8);
    const controller = new SyncController();
    let uploads = 0;
    const first = await sync({
      ...pair,
      controller,
      config: { transfers: 1 },
      onEvent: (event) => {
        if (event.type === 'upload_complete' && ++uploads === 3) controller.cancel();
      },
    });
    expect(first.status).toBe('cancelled');
    expect(transfers(first)).toBe(3);
    expect(Object.keys(await contents(pair.destination))).toHaveLength(3);

    const second = await run(pair);
    expect(second.result.errors).toEqual([]);
    expect(second.result.status).toBe('completed');
    expect(transfers(second.result)).toBe(5);
    await expectInSync(pair);
  });

  it('records a failed transfer as an error, keeps going, and the next run converges with nothing lost', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 4);
    await put(pair.destination, 'f01.txt', 'older destination copy', T0);
    await run(pair);
    for (let index = 0; index < 4; index++) await put(pair.source, `f0${index}.txt`, `edit ${index}`);
    const broken = {
      ...pair,
      destination: failingWrites(pair.destination, (call) =>
        call === 2 ? new SyncError('PERMISSION', 'disk says no') : null,
      ),
    };
    const { result, events } = await run(broken, { transfers: 1 });
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual([expect.objectContaining({ code: 'PERMISSION', path: 'f01.txt' })]);
    expect(events.filter((event) => event.type === 'error')).toHaveLength(1);
    expect(transfers(result)).toBe(3);
    // The file that failed is still there in its previous version, not half-replaced.
    expect(await readText(pair.destination, 'f01.txt')).toBe('file 1');

    const next = await run(pair);
    expect(next.result.status).toBe('completed');
    expect(transfers(next.result)).toBe(1);
    expect(await expectInSync(pair)).toEqual({
      'f00.txt': 'edit 0',
      'f01.txt': 'edit 1',
      'f02.txt': 'edit 2',
      'f03.txt': 'edit 3',
    });
  });

  it('retries transient errors and succeeds', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 2);
    const flaky = {
      ...pair,
      destination: failingWrites(pair.destination, (call) =>
        call <= 2 ? new SyncError('TRANSIENT', 'connection reset') : null,
      ),
    };
    const { result } = await run(flaky, { transfers: 1 });
    expect(result.status).toBe('completed');
    await expectInSync(pair);
  });

  it('does not record a file that changed while it was copied, and copies it next run', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'busy.txt', 'first');
    await put(pair.source, 'calm.txt', 'calm');
    const source = pair.source as MemoryStorage;
    const sneaky: Storage = new Proxy(source, {
      get(target, property, receiver) {
        if (property === 'read') {
          return async (path: string) => {
            const stream = await target.read(path);
            if (path === 'busy.txt') target.put('busy.txt', 'second!', { mtime: T0 + 999_000 });
            return stream;
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { result } = await run({ ...pair, source: sneaky });
    // Left for the next run and told as a warning; the run itself completes.
    expect(result.status).toBe('completed');
    expect(result.errors).toEqual([]);
    expect(result.deferred).toEqual([
      expect.objectContaining({ code: 'CHANGED_DURING_TRANSFER', path: 'busy.txt' }),
    ]);
    expect(result.warnings).toContain(result.deferred[0]!.message);
    expect(await contents(pair.destination)).toEqual({ 'calm.txt': 'calm' });
    expect((await pair.state.load())?.source.has('busy.txt')).toBe(false);

    const next = await run(pair);
    expect(next.result.status).toBe('completed');
    expect(await expectInSync(pair)).toEqual({ 'busy.txt': 'second!', 'calm.txt': 'calm' });
  });

  it('ends as cancelled without changing anything when cancelled before it starts', async () => {
    const pair = await memoryBackend.make();
    await makeFiles(pair.source, 2);
    const controller = new SyncController();
    controller.cancel();
    const { result, events } = await run(pair, {}, { controller });
    expect(result.status).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'sync_complete', status: 'cancelled' });
    expect(await contents(pair.destination)).toEqual({});
    expect(await pair.state.load()).toBeNull();
  });

  it('neither copies a source that changed after the scan nor overwrites a target that appeared since', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'edited.txt', 'scanned');
    await put(pair.source, 'arrives.txt', 'from source');
    const source = pair.source as MemoryStorage;
    const destination = pair.destination as MemoryStorage;
    const { result } = await run(
      pair,
      {},
      {
        onEvent: (event) => {
          if (event.type !== 'sync_start') return;
          source.put('edited.txt', 'edited after the scan', { mtime: T0 + 1 });
          destination.put('arrives.txt', 'made at the destination meanwhile', { mtime: RUN_AT });
        },
      },
    );
    expect(result.status).toBe('completed');
    expect(result.deferred.map((error) => [error.code, error.path]).sort()).toEqual([
      ['CHANGED_DURING_TRANSFER', 'arrives.txt'],
      ['CHANGED_DURING_TRANSFER', 'edited.txt'],
    ]);
    expect(await contents(destination)).toEqual({ 'arrives.txt': 'made at the destination meanwhile' });

    const next = await run(pair);
    expect(next.result.errors).toEqual([]);
    expect(await expectInSync(pair)).toEqual({
      'arrives.txt': 'made at the destination meanwhile',
      'edited.txt': 'edited after the scan',
    });
    expect(await versions(pair.source)).toEqual([`${STAMP}/arrives.txt=from source`]);
  });

  it('reports a copy whose hash at the target differs from the source, and does not record it', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'a.txt', 'a');
    const lying: Storage = new Proxy(pair.destination, {
      get(target, property, receiver) {
        if (property === 'write') {
          return async (...args: Parameters<Storage['write']>) => ({
            ...(await target.write(...args)),
            hash: '0000000000000000',
            hashAlgorithm: 'xxh3-64',
          });
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { result } = await run({ ...pair, destination: lying });
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual([
      expect.objectContaining({ path: 'a.txt', message: expect.stringContaining('hash') }),
    ]);
    expect((await pair.state.load())?.destination.has('a.txt') ?? false).toBe(false);
  });

  it('refuses HASH_ONLY when a side offers no hashes, naming it, before changing anything', async () => {
    const pair = await memoryBackend.make();
    const destination = new MemoryStorage({ description: 'hashless', capabilities: { hashAlgorithms: [] } });
    await put(pair.source, 'a.txt', 'a');
    await expect(run({ ...pair, destination }, { comparisonMode: 'HASH_ONLY' })).rejects.toMatchObject({
      code: 'HASH_UNAVAILABLE',
      message: expect.stringContaining('hashless'),
    });
    expect(await contents(destination)).toEqual({});
  });

  it('rejects an invalid configuration before touching anything', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'a.txt', 'a');
    await expect(run(pair, { transfers: 0 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(await contents(pair.destination)).toEqual({});
  });

  it('stops before any change when an access check file is missing on one side', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'CHECK', 'x');
    await put(pair.source, 'a.txt', 'a');
    await expect(run(pair, { accessCheckFiles: ['CHECK'] })).rejects.toMatchObject({ code: 'ACCESS_CHECK' });
    expect(await contents(pair.destination)).toEqual({});
    await put(pair.destination, 'CHECK', 'x');
    expect((await run(pair, { accessCheckFiles: ['CHECK'] })).result.status).toBe('completed');
  });

  it.each(['SIZE_AND_MTIME', 'MTIME_ONLY', 'SIZE_ONLY'] as const)(
    '%s: a file new on both sides with the same content is recorded as synced, without a conflict copy',
    async (comparison) => {
      const pair = await memoryBackend.make();
      await put(pair.source, 'same.txt', 'identical', T0 + 60_000);
      await put(pair.destination, 'same.txt', 'identical', T0);
      await put(pair.source, 'differs.txt', 'abcd', T0 + 60_000);
      await put(pair.destination, 'differs.txt', 'wxyz', T0 + 30_000);
      const { result } = await run(pair, { comparisonMode: comparison });
      expect(result.status).toBe('completed');
      const byPath = Object.fromEntries(result.plan.actions.map((action) => [action.path, action.type]));
      expect(byPath).toEqual({ 'same.txt': 'NO_ACTION', 'differs.txt': 'CONFLICT' });
      expect(Object.keys(await contents(pair.destination)).filter((path) => path.startsWith('same'))).toEqual(
        ['same.txt'],
      );
      expect((await pair.state.load())?.source.has('same.txt')).toBe(true);
      const mtimes = await Promise.all([pair.source.stat('same.txt'), pair.destination.stat('same.txt')]);
      if (comparison !== 'SIZE_ONLY')
        expect(mtimes.map((entry) => entry?.mtime)).toEqual([T0 + 60_000, T0 + 60_000]);
      expect(actionTypes((await run(pair, { comparisonMode: comparison })).result)).toEqual([]);
    },
  );

  it('stops before any change when a sentinel in a subfolder is missing on one side, unless ignored there', async () => {
    const pair = await memoryBackend.make();
    for (const side of [pair.source, pair.destination]) await put(side, 'CHECK', 'x');
    await put(pair.source, 'sub/CHECK', 'x');
    await put(pair.source, 'a.txt', 'a');
    await expect(run(pair, { accessCheckFiles: ['CHECK'] })).rejects.toMatchObject({
      code: 'ACCESS_CHECK',
      message: expect.stringContaining('"sub/CHECK" missing on the destination side'),
    });
    expect(await contents(pair.destination)).toEqual({ CHECK: 'x' });
    const ignored = await run(pair, { accessCheckFiles: ['CHECK'], ignorePatterns: ['/sub/'] });
    expect(ignored.result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ CHECK: 'x', 'a.txt': 'a' });
  });

  it('treats an unreadable state as a first sync, with a warning, deleting nothing', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'a.txt', 'a');
    await put(pair.destination, 'b.txt', 'b');
    const corrupt: StateStore = {
      ...pair.state,
      load: async () => {
        throw new SyncError('STATE_CORRUPT', 'source_tree.json is truncated');
      },
      save: (state) => pair.state.save(state),
      update: (changes) => pair.state.update(changes),
      loadMetadata: () => pair.state.loadMetadata(),
      saveMetadata: (metadata) => pair.state.saveMetadata(metadata),
    };
    const { result, events } = await run({ ...pair, state: corrupt });
    expect(result.status).toBe('completed');
    expect(events.some((event) => event.type === 'warning' && event.message.includes('truncated'))).toBe(
      true,
    );
    expect(await expectInSync(pair)).toEqual({ 'a.txt': 'a', 'b.txt': 'b' });
  });

  it('reports paths that differ only in case when a side is case-insensitive, and leaves them alone', async () => {
    const source = new MemoryStorage();
    const destination = new MemoryStorage({ capabilities: { caseSensitive: false } });
    const pair = { source, destination, state: new MemoryStateStore() };
    await put(source, 'Readme.md', 'one');
    await put(source, 'README.md', 'two');
    await put(source, 'other.txt', 'o');
    const { result } = await run(pair);
    expect(result.warnings.some((warning) => warning.includes('README.md'))).toBe(true);
    expect(await contents(destination)).toEqual({ 'other.txt': 'o' });
  });
});

describe('sync over local folders with entries it does not sync', () => {
  it('warns about each skipped symbolic link, in events and in the result, unless it is ignored', async () => {
    const pair = await localBackend.make();
    const root = (pair.source as LocalStorage).root;
    await writeFile(join(root, 'a.txt'), 'a');
    await symlink(join(root, 'a.txt'), join(root, 'link.txt'));
    await mkdir(join(root, 'build'));
    await symlink(join(root, 'a.txt'), join(root, 'build', 'ignored-link'));
    const { result, events } = await run(pair, { ignorePatterns: ['build/'] });
    expect(result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'a.txt': 'a' });
    const skipped = result.warnings.filter((warning) => warning.includes('symbolic link'));
    expect(skipped).toEqual([expect.stringContaining('"link.txt" on the source side')]);
    expect(events).toContainEqual({ type: 'warning', message: skipped[0], path: 'link.txt' });
  });
});

describe('sync durability', () => {
  it('flushes the storages before each recorded batch, so nothing is recorded before it is durable', async () => {
    const pair = await memoryBackend.make();
    for (let i = 0; i < 40; i++) await put(pair.source, `dir${i % 4}/f${i}.txt`, `content ${i}`);
    const written = new Set<string>();
    const durable = new Set<string>();
    let flushes = 0;
    const destination = new Proxy(pair.destination, {
      get(target, property, receiver) {
        if (property === 'write') {
          return async (...args: Parameters<Storage['write']>) => {
            const entry = await target.write(...args);
            written.add(entry.path);
            return entry;
          };
        }
        if (property === 'flush') {
          return async () => {
            flushes++;
            for (const path of written) durable.add(path);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const recordedBeforeDurable: string[] = [];
    let recorded = 0;
    const check = (path: string, entry: { isDir: boolean } | null) => {
      if (entry && !entry.isDir && !durable.has(path)) recordedBeforeDurable.push(path);
    };
    const state: StateStore = {
      load: () => pair.state.load(),
      loadMetadata: () => pair.state.loadMetadata(),
      saveMetadata: (metadata) => pair.state.saveMetadata(metadata),
      update: async (changes) => {
        for (const change of changes) check(change.path, change.destination);
        recorded += changes.length;
        await pair.state.update(changes);
      },
      save: async (saved) => {
        for (const [path, entry] of saved.destination) check(path, entry);
        await pair.state.save(saved);
      },
    };
    const { result } = await run({ source: pair.source, destination, state });
    expect(result.status).toBe('completed');
    expect(recorded).toBeGreaterThanOrEqual(40);
    expect(flushes).toBeGreaterThan(0);
    expect(recordedBeforeDurable).toEqual([]);
    expect(Object.keys(await contents(destination)).filter((path) => !path.endsWith('/'))).toHaveLength(40);
  });

  it('records nothing more and fails the run when a storage cannot make its writes durable', async () => {
    const pair = await memoryBackend.make();
    await put(pair.source, 'a.txt', 'a');
    const destination = new Proxy(pair.destination, {
      get(target, property, receiver) {
        if (property === 'flush') {
          return async () => {
            throw new SyncError('INTERNAL', 'fsync failed: EIO');
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { result } = await run({ ...pair, destination });
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('EIO') })]);
    expect((await pair.state.load())?.destination.has('a.txt') ?? false).toBe(false);
  });
});

describe('sync over local folders with ignored files inside a deleted folder', () => {
  it('keeps the folder without an error, and plans nothing for it on the next run', async () => {
    const pair = await localBackend.make();
    const config = { ignorePatterns: ['*.tmp'] };
    await put(pair.source, 'd/a.txt', 'a');
    await put(pair.source, 'keep.txt', 'k');
    expect((await run(pair, config)).result.status).toBe('completed');
    const destinationRoot = (pair.destination as LocalStorage).root;
    await writeFile(join(destinationRoot, 'd', 'cache.tmp'), 'ignored');
    await rm(join((pair.source as LocalStorage).root, 'd'), { recursive: true });

    const second = await run(pair, config);
    expect(second.result.errors).toEqual([]);
    expect(second.result.status).toBe('completed');
    expect(await contents(pair.destination)).toEqual({ 'd/': '', 'd/cache.tmp': 'ignored', 'keep.txt': 'k' });
    expect(second.events).toContainEqual(expect.objectContaining({ type: 'warning', path: 'd' }));

    const third = await run(pair, config);
    expect(third.result.status).toBe('completed');
    expect(third.result.plan.actions).toEqual([]);
    expect(await contents(pair.source)).toEqual({ 'keep.txt': 'k' });
    expect(await contents(pair.destination)).toEqual({ 'd/': '', 'd/cache.tmp': 'ignored', 'keep.txt': 'k' });
  });
});

describe('sync over local folders that did not change', () => {
  it('reads no file and leaves the saved state alone when nothing changed; a touched file is hashed once', async () => {
    const pair = await localBackend.make();
    for (let i = 0; i < 20; i++) await put(pair.source, `dir${i % 3}/f${i}.txt`, `content ${i}`);
    expect((await run(pair)).result.status).toBe('completed');

    const reads: string[] = [];
    let saves = 0;
    const counted = (storage: Storage): Storage =>
      new Proxy(storage, {
        get(target, property, receiver) {
          if (property === 'read' || property === 'hash') {
            return (path: string, ...rest: unknown[]) => {
              // Ignore files are looked for in every folder on every run; data files are what counts.
              if (path !== '.syncignore' && !path.endsWith('/.syncignore')) reads.push(path);
              return Reflect.apply(
                Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown,
                target,
                [path, ...rest],
              );
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const state: StateStore = {
      load: () => pair.state.load(),
      loadMetadata: () => pair.state.loadMetadata(),
      saveMetadata: (metadata) => pair.state.saveMetadata(metadata),
      update: (changes) => pair.state.update(changes),
      save: async (saved) => {
        saves++;
        await pair.state.save(saved);
      },
    };
    const watched = { source: counted(pair.source), destination: counted(pair.destination), state };

    const unchanged = await run(watched);
    expect(unchanged.result.plan.actions).toEqual([]);
    expect(reads).toEqual([]);
    expect(saves).toBe(0);

    // Same bytes, new mtime: hashed once to tell, then remembered.
    const file = join((pair.source as LocalStorage).root, 'dir0', 'f0.txt');
    await utimes(file, new Date(), new Date(T0 + 1_000_000));
    expect(actionTypes((await run(watched)).result)).toEqual([]);
    expect(reads).toEqual(['dir0/f0.txt']);
    reads.length = 0;
    expect(actionTypes((await run(watched)).result)).toEqual([]);
    expect(reads).toEqual([]);
  });
});
