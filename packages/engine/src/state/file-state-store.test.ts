import {
  appendFile,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import type { Entry, LastKnownState, Side } from '../model.js';
import type { StateChange, StatePart, SyncMetadata } from '../state-store.js';
import { FileStateStore } from './file-state-store.js';
import { partMatcher } from './tree-index.js';

/** The files a save leaves: both trees and their indexes. */
const TREE_FILES = [
  'destination_tree.index.json',
  'destination_tree.json',
  'source_tree.index.json',
  'source_tree.json',
];

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
    expect((await readdir(dir)).sort()).toEqual(TREE_FILES);
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
    expect((await readdir(dir)).sort()).toEqual(TREE_FILES);
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

describe('FileStateStore.loadPart', () => {
  let dir: string;

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'syncengine-state-part-')), '.sync_state');
  });

  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  const SIDES = ['source', 'destination'] as const;

  /** What `loadPart(part)` must give: `load()`'s records within the part, and its sizes. */
  async function expected(part: StatePart) {
    const whole = await new FileStateStore(dir).load();
    if (!whole) return null;
    const inPart = partMatcher(part);
    const restrict = (side: Side) => new Map([...whole[side]].filter(([path]) => inPart(path)));
    const countsOf = (side: Side) => ({
      entries: whole[side].size,
      files: [...whole[side].values()].filter((entry) => !entry.isDir).length,
    });
    return {
      state: { source: restrict('source'), destination: restrict('destination') },
      counts: { source: countsOf('source'), destination: countsOf('destination') },
    };
  }

  /** `loadPart`'s answer with each side's records in path order (order is not part of the contract). */
  const sorted = (found: Awaited<ReturnType<typeof expected>>) =>
    found && {
      counts: found.counts,
      state: Object.fromEntries(SIDES.map((side) => [side, [...found.state[side]].sort()])),
    };

  const segment = fc.constantFrom('a', 'b', 'c', 'ü', '__proto__', 'x"y', 'a b');
  const pathArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
  const entryArb = (path: string) =>
    fc
      .record({ size: fc.nat({ max: 5 }), isDir: fc.boolean(), id: fc.constantFrom(undefined, 'i', 'j\n') })
      .map(
        ({ size, isDir, id }): Entry =>
          isDir
            ? { path, size: 0, mtime: 7, isDir: true, ...(id ? { id } : {}) }
            : file(path, { size, ...(id ? { id } : {}) }),
      );
  const treeArb = fc
    .uniqueArray(pathArb, { maxLength: 40 })
    .chain((paths) => fc.tuple(...paths.map(entryArb)))
    .map((entries) => new Map(entries.map((entry) => [entry.path, entry])));
  const changeArb = pathArb.chain((path) =>
    fc
      .tuple(fc.option(entryArb(path), { nil: null }), fc.option(entryArb(path), { nil: null }))
      .map(([source, destination]): StateChange => ({ path, source, destination })),
  );
  const folderArb = fc.oneof(fc.constant(''), pathArb);
  const partArb = fc.record({
    folders: fc.array(folderArb, { maxLength: 3 }),
    subtrees: fc.array(folderArb, { maxLength: 2 }),
    paths: fc.array(pathArb, { maxLength: 3 }),
  });

  it('gives the records load() gives within the part, and the whole sizes, with the journal replayed', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.record({ source: treeArb, destination: treeArb }), { nil: null }),
        fc.array(fc.array(changeArb, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
        fc.array(partArb, { minLength: 1, maxLength: 3 }),
        async (saved, batches, parts) => {
          await rm(dir, { recursive: true, force: true });
          const store = new FileStateStore(dir, { fsync: false });
          if (saved) await store.save(saved);
          for (const batch of batches) await store.update(batch);
          for (const part of parts) {
            // A store that already read the journal, and a fresh one.
            for (const reader of [store, new FileStateStore(dir, { fsync: false })]) {
              expect(sorted(await reader.loadPart(part))).toEqual(sorted(await expected(part)));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads only the lines of the part', async () => {
    const state: LastKnownState = { source: new Map(), destination: new Map() };
    for (let folder = 0; folder < 50; folder++) {
      for (const side of SIDES)
        state[side].set(`d${folder}`, { path: `d${folder}`, size: 0, mtime: 1, isDir: true });
      for (let item = 0; item < 20; item++) {
        const path = `d${folder}/f${item}`;
        for (const side of SIDES) state[side].set(path, file(path));
      }
    }
    const store = new FileStateStore(dir, { fsync: false });
    await store.save(state);
    // A damaged line outside the part is never read: load() fails, loadPart() does not.
    const treeFile = join(dir, 'source_tree.json');
    const text = await readFile(treeFile, 'utf8');
    await writeFile(treeFile, text.replace('"d40/f3":{"size":10', '"d40/f3":{"size":1X'));
    await store.update([{ path: 'd7/new', source: file('d7/new'), destination: null }]);
    // The tree was edited by hand since the index was written: the index is stale, and the part is read whole.
    expect(
      isSyncError(
        await errorOf(store.loadPart({ folders: ['d7'], subtrees: [], paths: [] })),
        'STATE_CORRUPT',
      ),
    ).toBe(true);
    await store.save(state);
    const indexFile = join(dir, 'source_tree.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    const treeStats = await stat(treeFile, { bigint: true });
    await writeFile(treeFile, text.replace('"d40/f3":{"size":10', '"d40/f3":{"size":1X'));
    // …unless the index is made to look current again: then only the part's lines are read.
    const edited = await stat(treeFile, { bigint: true });
    expect(edited.size).toBe(treeStats.size);
    await writeFile(indexFile, JSON.stringify({ ...index, tree_mtime_ns: edited.mtimeNs.toString() }));
    await store.update([{ path: 'd7/new', source: file('d7/new'), destination: null }]);
    const found = await store.loadPart({ folders: ['d7'], subtrees: ['d8'], paths: ['d9', 'd10/f1'] });
    expect([...found!.state.source.keys()].sort()).toEqual(
      [
        'd7',
        ...Array.from({ length: 20 }, (_, item) => `d7/f${item}`),
        'd7/new',
        'd8',
        ...Array.from({ length: 20 }, (_, item) => `d8/f${item}`),
        'd9',
        'd10/f1',
      ].sort(),
    );
    expect([...found!.state.destination.keys()]).not.toContain('d7/new');
    expect(found!.counts).toEqual({
      source: { entries: 1051, files: 1001 },
      destination: { entries: 1050, files: 1000 },
    });
  });

  it('reads the whole trees where an index is missing, stale or damaged, never a wrong record', async () => {
    const part: StatePart = { folders: ['a'], subtrees: ['b'], paths: ['c/x'] };
    const first = stateOf('a/1', 'a/2', 'b/1', 'b/c/1', 'c/x', 'c/y');
    const second = stateOf('a/22', 'b/c/11', 'b/c/12', 'c/x', 'c/yy', 'a/3');
    const store = new FileStateStore(dir, { fsync: false });
    await store.save(first);
    const stale = join(dir, '..', 'stale.index.json');
    await copyFile(join(dir, 'source_tree.index.json'), stale);
    await store.save(second);
    const want = sorted(await expected(part));
    expect(want!.state.source!.map(([path]) => path)).toEqual(['a/22', 'a/3', 'b/c/11', 'b/c/12', 'c/x']);
    expect(sorted(await store.loadPart(part))).toEqual(want);

    // The first tree's index left beside the second tree (a crash between the writes).
    await copyFile(stale, join(dir, 'source_tree.index.json'));
    expect(await store.keepsUpdates()).toBe(false);
    expect(sorted(await store.loadPart(part))).toEqual(want);
    // …even where it names the second tree's size and time: its lines are not where it says.
    const { size, mtimeNs } = await stat(join(dir, 'source_tree.json'), { bigint: true });
    const index = JSON.parse(await readFile(stale, 'utf8'));
    await writeFile(
      join(dir, 'source_tree.index.json'),
      JSON.stringify({ ...index, tree_bytes: Number(size), tree_mtime_ns: mtimeNs.toString() }),
    );
    expect(sorted(await store.loadPart(part))).toEqual(want);
    // Damaged, or missing.
    await writeFile(join(dir, 'source_tree.index.json'), '{"version":1,"tree_');
    expect(sorted(await store.loadPart(part))).toEqual(want);
    await rm(join(dir, 'source_tree.index.json'));
    expect(sorted(await store.loadPart(part))).toEqual(want);
    // A state without indexes (saved by an earlier version) is compacted by the next run that records.
    await store.update([{ path: 'd', source: file('d'), destination: file('d') }]);
    expect(await store.keepsUpdates()).toBe(false);
    await store.compact();
    expect((await readdir(dir)).sort()).toEqual(TREE_FILES);
    expect(await store.keepsUpdates()).toBe(false);
    await store.update([{ path: 'e', source: file('e'), destination: file('e') }]);
    expect(sorted(await store.loadPart(part))).toEqual(sorted(await expected(part)));
  });

  it('keeps a journal of changes in a few folders, and has one spread over many folders compacted', async () => {
    // Two hundred folders of ten files; a part load reads every folder the journal touches.
    const paths = Array.from({ length: 2000 }, (_, index) => `f${Math.floor(index / 10)}/${index}`);
    const store = new FileStateStore(dir, { fsync: false });
    await store.save(stateOf(...paths));
    const changed = (path: string) => ({
      path,
      source: file(path, { size: 2 }),
      destination: file(path, { size: 2 }),
    });

    await store.update(Array.from({ length: 64 }, (_, folder) => changed(`f${folder}/${folder * 10}`)));
    expect(await store.keepsUpdates()).toBe(true);
    await store.update([changed('f64/640')]);
    expect(await store.keepsUpdates()).toBe(false);
    await store.compact();
    expect(await store.keepsUpdates()).toBe(false);
    await store.update([changed('f1/10'), changed('f1/11'), changed('f2/20')]);
    expect(await store.keepsUpdates()).toBe(true);
    const found = await store.loadPart({ folders: ['f1'], subtrees: [], paths: [] });
    expect(found!.state.source.get('f1/10')?.size).toBe(2);
    expect(found!.counts.source).toEqual({ entries: 2000, files: 2000 });
  });

  it('counts from a checkpoint of the counts, and ignores one of other trees or of more changes than the journal holds', async () => {
    const paths = Array.from({ length: 2000 }, (_, index) => `f${Math.floor(index / 10)}/${index}`);
    const store = new FileStateStore(dir, { fsync: false });
    await store.save(stateOf(...paths));
    const both = (path: string, entry: Entry | null) => ({ path, source: entry, destination: entry });
    const countsNow = async () => {
      const whole = await store.load();
      const count = (tree: Map<string, Entry>) => ({
        entries: tree.size,
        files: [...tree.values()].filter((entry) => !entry.isDir).length,
      });
      return { source: count(whole!.source), destination: count(whole!.destination) };
    };
    const part: StatePart = { folders: ['f1'], subtrees: [], paths: [] };

    // Changes in 70 folders (one removed, one added), then the checkpoint of the counts.
    await store.update([
      ...Array.from({ length: 70 }, (_, folder) => both(`f${folder}/${folder * 10}`, file('x', { size: 3 }))),
      both('f80/800', null),
      both('f80/new', file('f80/new')),
    ]);
    expect(await store.keepsUpdates()).toBe(false);
    await store.checkpointCounts(await countsNow());
    expect(await store.keepsUpdates()).toBe(true);
    // Later changes: one replacing a record the journal wrote before the checkpoint, one a
    // tree record, one removing what the journal added, one a new folder.
    await store.update([
      both('f1/10', null),
      both('f2/21', null),
      both('f80/new', null),
      { path: 'g', source: { path: 'g', size: 0, mtime: 1, isDir: true }, destination: null },
    ]);
    expect((await store.loadPart(part))!.counts).toEqual(await countsNow());
    expect((await store.loadPart(part))!.counts.source).toEqual({ entries: 1998, files: 1997 });

    // The counts come from the checkpoint (here made 100 too high), not from the trees.
    const checkpoint = join(dir, 'journal.counts.json');
    const record = JSON.parse(await readFile(checkpoint, 'utf8'));
    const high = (counts: { entries: number; files: number }) => ({
      entries: counts.entries + 100,
      files: counts.files + 100,
    });
    await writeFile(
      checkpoint,
      JSON.stringify({
        ...record,
        counts: { source: high(record.counts.source), destination: high(record.counts.destination) },
      }),
    );
    expect((await store.loadPart(part))!.counts.source).toEqual({ entries: 2098, files: 2097 });
    // A checkpoint claiming more changes than the journal holds, a damaged one, and one of
    // trees saved since are not used.
    await writeFile(
      checkpoint,
      JSON.stringify({
        ...record,
        changes: 500,
        counts: { source: { entries: 1, files: 1 }, destination: { entries: 1, files: 1 } },
      }),
    );
    expect((await store.loadPart(part))!.counts).toEqual(await countsNow());
    await writeFile(checkpoint, '{"version":1,"changes":');
    expect((await store.loadPart(part))!.counts).toEqual(await countsNow());
    const wrong = {
      ...record,
      counts: { source: { entries: 1, files: 1 }, destination: { entries: 1, files: 1 } },
    };
    await store.save((await store.load())!);
    expect((await readdir(dir)).includes('journal.counts.json')).toBe(false);
    await store.update([both('f3/30', null)]);
    await writeFile(checkpoint, JSON.stringify({ ...wrong, changes: 1 }));
    expect((await store.loadPart(part))!.counts).toEqual(await countsNow());
  });

  it('ignores a torn last journal line as load() does', async () => {
    const store = new FileStateStore(dir, { fsync: false });
    await store.save(stateOf('a/1', 'a/2'));
    await store.update([{ path: 'a/3', source: file('a/3'), destination: null }]);
    await appendFile(join(dir, 'journal.jsonl'), '{"p":"a/4","s":{"size":1,"mt');
    const found = await new FileStateStore(dir).loadPart({ folders: ['a'], subtrees: [], paths: [] });
    expect([...found!.state.source.keys()].sort()).toEqual(['a/1', 'a/2', 'a/3']);
    expect(found!.counts).toEqual({
      source: { entries: 3, files: 3 },
      destination: { entries: 2, files: 2 },
    });
  });

  it('returns null where nothing is saved, and reads an interrupted first sync from the journal', async () => {
    const part: StatePart = { folders: [''], subtrees: [], paths: [] };
    expect(await new FileStateStore(dir).loadPart(part)).toBeNull();
    await new FileStateStore(dir).update([{ path: 'x', source: file('x'), destination: null }]);
    const found = await new FileStateStore(dir).loadPart(part);
    expect([...found!.state.source.keys()]).toEqual(['x']);
    expect(found!.counts).toEqual({
      source: { entries: 1, files: 1 },
      destination: { entries: 0, files: 0 },
    });
  });

  it('finds records by size in the order load() gives them, the journal included', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.record({ source: treeArb, destination: treeArb }), { nil: null }),
        fc.array(fc.array(changeArb, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
        fc.uniqueArray(fc.nat({ max: 6 }), { maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        async (saved, batches, sizes, perSize) => {
          await rm(dir, { recursive: true, force: true });
          const store = new FileStateStore(dir, { fsync: false });
          if (saved) await store.save(saved);
          for (const batch of batches) await store.update(batch);
          const whole = await store.load();
          for (const side of SIDES) {
            const taken = new Map<number, number>();
            const want: Entry[] = [];
            for (const entry of whole?.[side].values() ?? []) {
              if (entry.isDir || !sizes.includes(entry.size)) continue;
              const count = taken.get(entry.size) ?? 0;
              if (count >= perSize) continue;
              taken.set(entry.size, count + 1);
              want.push(entry);
            }
            expect(await store.recordsOfSize(side, sizes, perSize)).toEqual(want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
