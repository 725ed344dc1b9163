import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import type { Entry, LastKnownState } from '../model.js';
import type { SyncMetadata } from '../state-store.js';
import { FileStateStore } from './file-state-store.js';

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({
  path,
  size: 10,
  mtime: 1_700_000_000_123,
  isDir: false,
  hash: `h-${path}`,
  hashAlgorithm: 'xxh3-64',
  id: `id-${path}`,
  ...extra,
});

const stateOf = (...paths: string[]): LastKnownState => ({
  source: new Map(paths.map((path) => [path, file(path)])),
  destination: new Map(paths.map((path) => [path, file(path, { id: `dest-${path}` })])),
});

/** A record in the layout of the tree files, as the store writes it (key order included). */
function record(entry: Entry): Record<string, unknown> {
  const out: Record<string, unknown> = { size: entry.size, mtime: entry.mtime, is_dir: entry.isDir };
  if (entry.hash !== undefined) {
    out.hash = entry.hash;
    if (entry.hashAlgorithm !== undefined) out.hash_algorithm = entry.hashAlgorithm;
  }
  if (entry.id !== undefined) out.id = entry.id;
  return out;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('FileStateStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'syncengine-state-')), '.sync_state');
  });

  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('returns null when nothing was saved yet (first sync)', async () => {
    expect(await new FileStateStore(dir).load()).toBeNull();
    expect(await new FileStateStore(dir).loadMetadata()).toBeNull();
  });

  it('round-trips both trees in the SPEC layout, with odd paths and directories', async () => {
    const state = stateOf('a.txt', 'dir/ünï 😀.txt', '__proto__', 'constructor');
    state.source.set('dir', { path: 'dir', size: 0, mtime: 5, isDir: true, id: '7' });
    await new FileStateStore(dir).save(state);
    expect((await readdir(dir)).sort()).toEqual(['destination_tree.json', 'source_tree.json']);
    const onDisk = JSON.parse(await readFile(join(dir, 'source_tree.json'), 'utf8'));
    expect(onDisk['a.txt']).toEqual({
      hash: 'h-a.txt',
      hash_algorithm: 'xxh3-64',
      size: 10,
      mtime: 1_700_000_000_123,
      is_dir: false,
      id: 'id-a.txt',
    });
    const loaded = await new FileStateStore(dir).load();
    expect(loaded).toEqual(state);
  });

  it('loads the trees it wrote with keys holding quotes, braces and newlines, and trees laid out by hand', async () => {
    const state = stateOf('a":{b', 'q\\":{"size":1}', 'line\nbreak', 'end,', '{"x":{', 'tab\there');
    // Values beyond plain strings and integers: an ETag in quotes, a fractional mtime, no id.
    state.source.set('etag', {
      path: 'etag',
      size: 0,
      mtime: 1.5,
      isDir: false,
      hash: '"abc-2"\\',
      hashAlgorithm: 'etag',
    });
    state.destination.set('neg', { path: 'neg', size: 1, mtime: -5, isDir: false });
    await new FileStateStore(dir).save(state);
    expect(await new FileStateStore(dir).load()).toEqual(state);

    const record = { size: 3, mtime: 9, is_dir: false, id: 'i' };
    const entry = { path: 'k', size: 3, mtime: 9, isDir: false, id: 'i' };
    for (const text of [
      JSON.stringify({ k: record }),
      `${JSON.stringify({ k: record }, null, 2)}\n`,
      `{\n"k":{"size":1,"mtime":1,"is_dir":false},\n"k":${JSON.stringify(record)}\n}\n`,
    ]) {
      await writeFile(join(dir, 'source_tree.json'), text);
      await writeFile(join(dir, 'destination_tree.json'), '{}');
      expect((await new FileStateStore(dir).load())?.source).toEqual(new Map([['k', entry]]));
    }
    await writeFile(join(dir, 'source_tree.json'), `{\n"k":${JSON.stringify(record)},\n"m":{"size":1}\n}\n`);
    await expect(new FileStateStore(dir).load()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('reads every record line as JSON.parse would, beyond the plain form too', async () => {
    // Written out by hand: a number literal this long would be rounded in the source already.
    const big = '"big":{"size":12345678901234567,"mtime":1,"is_dir":false}';
    const records: Record<string, unknown> = {
      longest: { size: 999999999999999, mtime: -999999999999999, is_dir: false },
      zero: { size: 0, mtime: 0, is_dir: true },
      control: { size: 1, mtime: 2, is_dir: false, hash: 'a\u0001b', hash_algorithm: 'md5', id: 'x' },
      partial: { size: 1, mtime: 2, is_dir: false, hash: 'h' },
      idOnly: { size: 1, mtime: 2, is_dir: false, id: '7' },
    };
    const lines = Object.entries(records).map(
      ([path, record]) => `${JSON.stringify(path)}:${JSON.stringify(record)}`,
    );
    const text = `{\n${[big, ...lines].join(',\n')}\n}\n`;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'source_tree.json'), text);
    await writeFile(join(dir, 'destination_tree.json'), '{}');
    const loaded = (await new FileStateStore(dir).load())!.source;
    expect(loaded.get('big')).toEqual({ path: 'big', size: 12345678901234568, mtime: 1, isDir: false });
    expect(loaded.get('longest')).toMatchObject({ size: 999999999999999, mtime: -999999999999999 });
    expect(loaded.get('zero')).toEqual({ path: 'zero', size: 0, mtime: 0, isDir: true });
    expect(loaded.get('control')).toMatchObject({ hash: 'a\u0001b', hashAlgorithm: 'md5', id: 'x' });
    expect(loaded.get('partial')).toEqual({ path: 'partial', size: 1, mtime: 2, isDir: false, hash: 'h' });
    expect(loaded.get('idOnly')).toEqual({ path: 'idOnly', size: 1, mtime: 2, isDir: false, id: '7' });

    // Not JSON (a leading zero): the whole file is reported, not misread.
    await writeFile(join(dir, 'source_tree.json'), '{\n"k":{"size":01,"mtime":1,"is_dir":false}\n}\n');
    await expect(new FileStateStore(dir).load()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  // 150 stores written and read back: the generous timeout only keeps a busy machine from failing it.
  it('writes trees and journal lines exactly as JSON.stringify would, whatever the strings', {
    timeout: 60_000,
  }, async () => {
    const text = fc.string({
      unit: fc.constantFrom(
        'a',
        '"',
        '\\',
        '\n',
        '\u0001',
        '\u007f',
        'é',
        '\u2028',
        '\ud800',
        '\udc00',
        '😀',
      ),
    });
    const entry = fc.record(
      {
        size: fc.oneof(fc.nat(), fc.constant(2 ** 53 - 1)),
        mtime: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        isDir: fc.boolean(),
        hash: text,
        hashAlgorithm: text,
        id: text,
      },
      { requiredKeys: ['size', 'mtime', 'isDir'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(text, entry, fc.option(entry)), { minLength: 1, maxLength: 8 }),
        async (rows) => {
          const root = await mkdtemp(join(tmpdir(), 'syncengine-state-text-'));
          try {
            const store = new FileStateStore(join(root, 'state'), { fsync: false });
            const paths = [...new Set(rows.map(([path]) => `p${path}`))];
            const at = (index: number) => rows.find(([path]) => `p${path}` === paths[index])!;
            const tree = (side: 1 | 2): Entry[] =>
              paths.map((path, index) => ({ path, ...(at(index)[side] ?? at(index)[1]) }) as Entry);
            await store.save({
              source: new Map(tree(1).map((item) => [item.path, item])),
              destination: new Map(tree(2).map((item) => [item.path, item])),
            });
            const sourceText = await readFile(join(root, 'state', 'source_tree.json'), 'utf8');
            expect(JSON.parse(sourceText)).toEqual(
              JSON.parse(
                JSON.stringify(Object.fromEntries(tree(1).map((item) => [item.path, record(item)]))),
              ),
            );
            await store.update(tree(2).map((item) => ({ path: item.path, source: null, destination: item })));
            const lines = (await readFile(join(root, 'state', 'journal.jsonl'), 'utf8'))
              .split('\n')
              .filter(Boolean);
            expect(lines).toEqual(
              tree(2).map((item) => JSON.stringify({ p: item.path, s: null, d: record(item) })),
            );
          } finally {
            await rm(root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('replays per-action updates from the journal and compacts it on save', async () => {
    const store = new FileStateStore(dir);
    await store.save(stateOf('a', 'b'));
    await store.update([{ path: 'c', source: file('c'), destination: file('c') }]);
    await store.update([
      { path: 'a', source: null, destination: null },
      { path: 'b', source: file('b', { size: 99 }), destination: file('b', { size: 99 }) },
    ]);
    const loaded = await new FileStateStore(dir).load();
    expect([...loaded!.source.keys()].sort()).toEqual(['b', 'c']);
    expect(loaded!.destination.get('b')!.size).toBe(99);
    // Private like the trees: only the owner reads what was synced.
    for (const name of ['journal.jsonl', 'source_tree.json', 'destination_tree.json']) {
      expect((await stat(join(dir, name))).mode & 0o777, name).toBe(0o600);
    }

    await store.save(loaded!);
    expect((await readdir(dir)).sort()).toEqual(['destination_tree.json', 'source_tree.json']);
    expect(await new FileStateStore(dir).load()).toEqual(loaded);
  });

  it('resumes an interrupted first sync from the journal alone', async () => {
    await new FileStateStore(dir).update([
      { path: 'done.txt', source: file('done.txt'), destination: file('done.txt') },
    ]);
    const loaded = await new FileStateStore(dir).load();
    expect([...loaded!.source.keys()]).toEqual(['done.txt']);
  });

  it('ignores a torn last journal line and appends cleanly after it', async () => {
    const store = new FileStateStore(dir);
    await store.save(stateOf('a'));
    await store.update([{ path: 'b', source: file('b'), destination: file('b') }]);
    await appendFile(join(dir, 'journal.jsonl'), '{"p":"c","s":{"size":1,"mt');
    const loaded = await new FileStateStore(dir).load();
    expect([...loaded!.source.keys()].sort()).toEqual(['a', 'b']);

    const next = new FileStateStore(dir);
    await next.update([{ path: 'd', source: file('d'), destination: file('d') }]);
    const after = await new FileStateStore(dir).load();
    expect([...after!.source.keys()].sort()).toEqual(['a', 'b', 'd']);
  });

  it('reports damage before the last journal line as STATE_CORRUPT', async () => {
    const store = new FileStateStore(dir);
    await store.update([{ path: 'b', source: file('b'), destination: file('b') }]);
    await appendFile(join(dir, 'journal.jsonl'), 'garbage\n{"p":"x","s":null,"d":null}\n');
    const error = await errorOf(new FileStateStore(dir).load());
    expect(isSyncError(error, 'STATE_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain('journal.jsonl');
  });

  it.each([
    ['a truncated tree', '{\n"a":{"size":1,"mtime":2,"is_dir":false},\n"b":{"si'],
    ['an entry without its fields', '{"a":{"hash":"x"}}'],
    ['a JSON array', '[]'],
  ])('reports %s as STATE_CORRUPT naming the file, never as an empty state', async (_name, content) => {
    await new FileStateStore(dir).save(stateOf('a'));
    await writeFile(join(dir, 'destination_tree.json'), content);
    const error = await errorOf(new FileStateStore(dir).load());
    expect(isSyncError(error, 'STATE_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain('destination_tree.json');
  });

  it('reports a tree missing beside its counterpart as STATE_CORRUPT', async () => {
    await new FileStateStore(dir).save(stateOf('a'));
    await rm(join(dir, 'source_tree.json'));
    expect(isSyncError(await errorOf(new FileStateStore(dir).load()), 'STATE_CORRUPT')).toBe(true);
  });

  it('round-trips metadata with pending conflicts', async () => {
    const metadata: SyncMetadata = {
      pairId: 'pair-1',
      sourceDescription: 'local:/a',
      destinationDescription: 'local:/b',
      formatVersion: 1,
      lastRunAt: 1234,
      lastRunStatus: 'completed',
      pendingConflicts: [{ path: 'x.txt', source: file('x.txt'), destination: null, detectedAt: 99 }],
    };
    await new FileStateStore(dir, { pairId: 'pair-1' }).saveMetadata(metadata);
    expect(await new FileStateStore(dir, { pairId: 'pair-1' }).loadMetadata()).toEqual(metadata);
    expect(JSON.parse(await readFile(join(dir, 'sync_metadata.json'), 'utf8')).pair_id).toBe('pair-1');
  });

  it("refuses another pair's state with INVALID_CONFIG", async () => {
    await new FileStateStore(dir, { pairId: 'pair-1' }).save(stateOf('a'));
    const other = new FileStateStore(dir, { pairId: 'pair-2' });
    expect(isSyncError(await errorOf(other.load()), 'INVALID_CONFIG')).toBe(true);
    expect(isSyncError(await errorOf(other.loadMetadata()), 'INVALID_CONFIG')).toBe(true);
    const metadata = { pairId: 'pair-2', formatVersion: 1, pendingConflicts: [] };
    expect(
      isSyncError(
        await errorOf(new FileStateStore(dir, { pairId: 'pair-1' }).saveMetadata(metadata)),
        'INVALID_CONFIG',
      ),
    ).toBe(true);
  });

  it('reports corrupt metadata as STATE_CORRUPT without losing the intact trees', async () => {
    await new FileStateStore(dir, { pairId: 'p' }).save(stateOf('a'));
    await writeFile(join(dir, 'sync_metadata.json'), '{"pair_id": "p", ');
    const store = new FileStateStore(dir, { pairId: 'p' });
    const error = await errorOf(store.loadMetadata());
    expect(isSyncError(error, 'STATE_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain('sync_metadata.json');
    expect([...(await store.load())!.source.keys()]).toEqual(['a']);
    await store.save(stateOf('b'));
    expect((await store.loadMetadata())?.pairId).toBe('p');
  });

  // Scale, not speed: the generous timeout only keeps a busy machine from failing it.
  it('round-trips 100 000 entries per side', { timeout: 60_000 }, async () => {
    const state: LastKnownState = { source: new Map(), destination: new Map() };
    for (let i = 0; i < 100_000; i++) {
      const path = `folder-${i % 100}/sub-${i % 7}/file-${i}.dat`;
      state.source.set(path, file(path, { size: i }));
      state.destination.set(path, file(path, { size: i, id: String(i) }));
    }
    const store = new FileStateStore(dir);
    await store.save(state);
    await store.update([{ path: 'extra', source: file('extra'), destination: file('extra') }]);
    const loaded = await new FileStateStore(dir).load();
    expect(loaded!.source.size).toBe(100_001);
    expect(loaded!.destination.get('folder-5/sub-5/file-12345.dat')).toEqual(
      state.destination.get('folder-5/sub-5/file-12345.dat'),
    );
  });
});
