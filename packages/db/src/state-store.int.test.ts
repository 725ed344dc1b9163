import type { Entry, LastKnownState, Side, StateChange, StatePart, Tree } from '@syncengine/engine';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  newPairRecord,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../test/testing/index.js';
import { createDatabase, type DatabaseHandle } from './database.js';
import { PairLockLostError } from './pair-lock.js';
import { createPairRepo } from './repos/index.js';
import { PostgresStateStore } from './state-store.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({
  path,
  size: 10,
  mtime: 1_700_000_000_123.5,
  isDir: false,
  ...extra,
});

/** A small deterministic generator (mulberry32), so a failing tree can be made again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Names that sort around `/` and `0` bytewise and in locales (`a.`, `a-`, `a0`, `a b`), LIKE's
 * wildcards, and characters of one to four UTF-8 bytes.
 */
const NAMES = [
  'a',
  'a0',
  'a.',
  'a-',
  'a b',
  'A',
  '%',
  '_',
  'a%',
  'a_b',
  '!x',
  '~',
  'é',
  'ä0',
  '日本',
  '😀',
  'z',
];

/** A random tree of folders and files of both sides (the destination a variation of the source). */
function randomState(next: () => number, size: number): LastKnownState {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const folders = [''];
  const source: Tree = new Map();
  while (source.size < size) {
    const parent = pick(folders);
    const path = parent === '' ? pick(NAMES) : `${parent}/${pick(NAMES)}`;
    if (source.has(path)) continue;
    if (next() < 0.3 && path.split('/').length < 5) {
      folders.push(path);
      source.set(path, { path, size: 0, mtime: 1_000, isDir: true });
    } else {
      const entry: Entry = {
        path,
        size: Math.floor(next() * 4),
        mtime: 1_700_000_000_000 + next(),
        isDir: false,
      };
      if (next() < 0.5) Object.assign(entry, { hash: `h${source.size}`, hashAlgorithm: 'xxh3-128' });
      if (next() < 0.5) entry.ctime = 1_700_000_000_000 + source.size;
      if (next() < 0.3) entry.id = `${source.size}`;
      source.set(path, entry);
    }
  }
  const destination: Tree = new Map();
  for (const [path, entry] of source) if (next() < 0.8) destination.set(path, { ...entry });
  return { source, destination };
}

/** A random part: folders and subtrees among the tree's folders (and ones it lacks), single paths. */
function randomPart(next: () => number, state: LastKnownState): StatePart {
  const paths = [...state.source.keys(), 'missing', 'a/missing', 'a'];
  const folders = [
    '',
    ...[...state.source.values()].filter((entry) => entry.isDir).map((entry) => entry.path),
  ];
  const some = (items: readonly string[], most: number) =>
    Array.from({ length: Math.floor(next() * (most + 1)) }, () => items[Math.floor(next() * items.length)]!);
  return { folders: some(folders, 3), subtrees: some(folders.slice(1), 2), paths: some(paths, 4) };
}

/** What `loadPart` must return for `part`: the same records as a whole `load()`, filtered. */
function within(state: LastKnownState, part: StatePart): LastKnownState {
  const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
  const wanted = (path: string) =>
    part.paths.includes(path) ||
    part.folders.includes(path) ||
    part.folders.includes(parentOf(path)) ||
    part.subtrees.some((root) => root === '' || path === root || path.startsWith(`${root}/`));
  const filter = (tree: Tree): Tree => new Map([...tree].filter(([path]) => wanted(path)));
  return { source: filter(state.source), destination: filter(state.destination) };
}

const countsOf = (state: LastKnownState) => {
  const of = (tree: Tree) => ({
    entries: tree.size,
    files: [...tree.values()].filter((entry) => !entry.isDir).length,
  });
  return { source: of(state.source), destination: of(state.destination) };
};

function describeStateStore(
  name: string,
  open: () => Promise<{ handle: DatabaseHandle; drop(): Promise<void> }>,
) {
  describe(`PostgresStateStore on ${name}`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    const newStore = async () => {
      const pair = await createPairRepo(handle.db).create(newPairRecord());
      return new PostgresStateStore(handle.db, pair.id);
    };

    beforeAll(async () => {
      ({ handle, drop } = await open());
    });
    afterAll(async () => {
      await handle?.close();
      await drop?.();
    });

    it('loads null before the first sync, and an empty state after syncing nothing', async () => {
      const store = await newStore();
      expect(await store.load()).toBeNull();
      await store.save({ source: new Map(), destination: new Map() });
      expect(await store.load()).toEqual({ source: new Map(), destination: new Map() });
    });

    it('round-trips every entry field, including hashes, ids, ctimes and fractional mtimes', async () => {
      const store = await newStore();
      const state: LastKnownState = {
        source: new Map([
          [
            'a.txt',
            file('a.txt', { hash: 'abc', hashAlgorithm: 'xxh3-128', id: '42', ctime: 1_700_000_000_456 }),
          ],
          ['dir', { path: 'dir', size: 0, mtime: 1, isDir: true }],
        ]),
        destination: new Map([['a.txt', file('a.txt', { hash: 'abc', hashAlgorithm: 'xxh3-128' })]]),
      };
      await store.save(state);
      expect(await store.load()).toEqual(state);
    });

    it('saves a record whose ctime alone changed', async () => {
      const store = await newStore();
      const before = file('a.txt', { hash: 'abc', hashAlgorithm: 'xxh3-128', id: '42', ctime: 1 });
      await store.save({ source: new Map([['a.txt', before]]), destination: new Map() });
      await store.load();
      await store.save({ source: new Map([['a.txt', { ...before, ctime: 2 }]]), destination: new Map() });
      const again = new PostgresStateStore(handle.db, store.pairId);
      expect((await again.load())?.source.get('a.txt')?.ctime).toBe(2);
    });

    it('applies per-action changes: upserts both sides, forgets a path when both are null', async () => {
      const store = await newStore();
      await store.save({
        source: new Map([['old.txt', file('old.txt')]]),
        destination: new Map([['old.txt', file('old.txt')]]),
      });
      await store.update([
        { path: 'old.txt', source: null, destination: null },
        { path: 'new.txt', source: file('new.txt', { size: 5 }), destination: file('new.txt', { size: 5 }) },
      ]);
      await store.update([{ path: 'new.txt', source: file('new.txt', { size: 7 }), destination: null }]);
      const state = await store.load();
      expect([...state!.source.keys()]).toEqual(['new.txt']);
      expect(state!.source.get('new.txt')?.size).toBe(7);
      expect(state!.destination.size).toBe(0);
    });

    it('records that a state exists as soon as one change is written (an interrupted first sync resumes)', async () => {
      const store = await newStore();
      await store.update([{ path: 'x', source: file('x'), destination: file('x') }]);
      expect((await store.load())?.source.has('x')).toBe(true);
    });

    it('writes and reads states larger than one batch', async () => {
      const store = await newStore();
      const count = 12_345;
      const tree = new Map<string, Entry>();
      for (let i = 0; i < count; i += 1) tree.set(`f/${i}`, file(`f/${i}`, { size: i }));
      await store.save({ source: tree, destination: new Map(tree) });
      const loaded = await store.load();
      expect(loaded?.source.size).toBe(count);
      expect(loaded?.destination.get('f/12344')?.size).toBe(12_344);
      await store.save({ source: new Map([['only', file('only')]]), destination: new Map() });
      expect((await store.load())?.source.size).toBe(1);
    });

    it('reads a side of more records than one page holds, each record once and whole', async () => {
      const store = await newStore();
      const count = 50_000 + 1_234;
      const tree = new Map<string, Entry>();
      for (let i = 0; i < count; i += 1) {
        const path = `d${i % 7}/f${i}`;
        tree.set(path, file(path, { size: i, mtime: 1_700_000_000_000 + i + 0.25, hash: `h${i}`, ctime: i }));
      }
      await store.save({ source: tree, destination: new Map() });
      const loaded = (await new PostgresStateStore(handle.db, store.pairId).load())!;
      expect(loaded.source.size).toBe(count);
      for (const [path, entry] of tree) expect(loaded.source.get(path)).toMatchObject(entry);
      expect(loaded.destination.size).toBe(0);
    }, 120_000);

    it('saves a loaded state by its differences, which a fresh store reads back exactly', async () => {
      const store = await newStore();
      const tree = new Map<string, Entry>();
      for (let i = 0; i < 50; i += 1) tree.set(`f${i}`, file(`f${i}`, { size: i }));
      await store.save({ source: tree, destination: new Map(tree) });

      const run = new PostgresStateStore(handle.db, store.pairId);
      const loaded = (await run.load())!;
      loaded.source.delete('f1');
      loaded.destination.delete('f1');
      loaded.source.set('f2', file('f2', { size: 999, hash: 'new' }));
      loaded.destination.set('added', file('added'));
      await run.update([{ path: 'f3', source: null, destination: null }]);
      loaded.source.delete('f3');
      loaded.destination.delete('f3');
      await run.save(loaded);

      const fresh = await new PostgresStateStore(handle.db, store.pairId).load();
      expect(fresh).toEqual(loaded);
      expect(fresh?.source.get('f2')).toMatchObject({ size: 999, hash: 'new' });
      expect(fresh?.source.has('f1')).toBe(false);
      expect(fresh?.destination.has('added')).toBe(true);
    });

    it('loads part of the state: the same records as load() for those paths, on random trees and after updates', async () => {
      for (const seed of [1, 2, 3]) {
        const next = random(seed);
        const store = await newStore();
        expect(await store.loadPart({ folders: [''], subtrees: [], paths: [] })).toBeNull();
        await store.save(randomState(next, 150));
        for (let round = 0; round < 4; round += 1) {
          const whole = (await new PostgresStateStore(handle.db, store.pairId).load())!;
          for (let i = 0; i < 12; i += 1) {
            const part = randomPart(next, whole);
            const loaded = await new PostgresStateStore(handle.db, store.pairId).loadPart(part);
            expect(loaded?.state, JSON.stringify(part)).toEqual(within(whole, part));
            expect(loaded?.counts).toEqual(countsOf(whole));
          }
          // Changes as a run records them, on a store that loaded a part only.
          const run = new PostgresStateStore(handle.db, store.pairId);
          await run.loadPart(randomPart(next, whole));
          const paths = [...whole.source.keys()];
          const changes = new Map<string, StateChange>();
          for (let i = 0; i < 20; i += 1) {
            const path = paths[Math.floor(next() * paths.length)]!;
            const entry = whole.source.get(path)!;
            const changed = { ...entry, mtime: entry.mtime + 1, size: entry.isDir ? 0 : entry.size + 7 };
            changes.set(
              path,
              next() < 0.3
                ? { path, source: null, destination: null }
                : { path, source: changed, destination: next() < 0.5 ? null : changed },
            );
          }
          const added = `new${round}/%_ é`;
          changes.set(added, { path: added, source: file(added), destination: null });
          await run.update([...changes.values()]);
          expect(await run.keepsUpdates()).toBe(true);
          await run.compact();
        }
      }
    }, 120_000);

    it('loads the whole state for the root subtree, and a part larger than one page', async () => {
      const store = await newStore();
      const tree = new Map<string, Entry>();
      for (let i = 0; i < 50_000 + 321; i += 1) tree.set(`big/${i}`, file(`big/${i}`, { size: i % 100 }));
      tree.set('big', { path: 'big', size: 0, mtime: 1, isDir: true });
      tree.set('other', file('other'));
      await store.save({ source: tree, destination: new Map([['other', file('other', { size: 3 })]]) });
      const whole = (await store.load())!;
      for (const part of [
        { folders: [], subtrees: [''], paths: [] },
        { folders: [''], subtrees: ['big'], paths: [] },
        { folders: ['big'], subtrees: [], paths: ['other'] },
      ]) {
        const loaded = await new PostgresStateStore(handle.db, store.pairId).loadPart(part);
        expect(loaded?.state.source.size).toBe(tree.size);
        expect(loaded?.state).toEqual(within(whole, part));
        expect(loaded?.counts).toEqual({
          source: { entries: tree.size, files: tree.size - 1 },
          destination: { entries: 1, files: 1 },
        });
      }
    }, 120_000);

    it('counts an empty saved state as empty, and answers null for a pair without one (as load() does)', async () => {
      const store = await newStore();
      await store.loadMetadata();
      expect(await store.loadPart({ folders: [''], subtrees: [''], paths: [] })).toBeNull();
      await store.save({ source: new Map(), destination: new Map() });
      expect(await store.loadPart({ folders: [''], subtrees: [], paths: ['x'] })).toEqual({
        state: { source: new Map(), destination: new Map() },
        counts: { source: { entries: 0, files: 0 }, destination: { entries: 0, files: 0 } },
      });
    });

    it('after loading a part, records changes fenced by the lock epoch, and a save replaces the whole state', async () => {
      const store = await newStore();
      await store.save({
        source: new Map([
          ['d', { path: 'd', size: 0, mtime: 1, isDir: true }],
          ['d/a', file('d/a')],
          ['e/b', file('e/b')],
        ]),
        destination: new Map([['d/a', file('d/a')]]),
      });
      await handle.db.execute(sql`update pair_metadata set lock_epoch = 7 where pair_id = ${store.pairId}`);
      const run = new PostgresStateStore(handle.db, store.pairId, { lockEpoch: 7 });
      const part = await run.loadPart({ folders: ['d'], subtrees: [], paths: [] });
      expect([...part!.state.source.keys()].sort()).toEqual(['d', 'd/a']);
      await run.update([{ path: 'd/c', source: file('d/c'), destination: file('d/c') }]);
      await handle.db.execute(sql`update pair_metadata set lock_epoch = 8 where pair_id = ${store.pairId}`);
      await expect(run.update([{ path: 'd/a', source: null, destination: null }])).rejects.toBeInstanceOf(
        PairLockLostError,
      );
      const after = (await new PostgresStateStore(handle.db, store.pairId).load())!;
      expect([...after.source.keys()].sort()).toEqual(['d', 'd/a', 'd/c', 'e/b']);
      expect([...after.destination.keys()].sort()).toEqual(['d/a', 'd/c']);

      // A store that read a part knows nothing of the rest: save() replaces it all.
      const unfenced = new PostgresStateStore(handle.db, store.pairId);
      await unfenced.loadPart({ folders: ['d'], subtrees: [], paths: [] });
      const whole = { source: new Map([['e/b', file('e/b', { size: 1 })]]), destination: new Map() };
      await unfenced.save(whole);
      expect(await new PostgresStateStore(handle.db, store.pairId).load()).toEqual(whole);
    });

    it('keeps the counts through every write: upserts turning a file into a folder, deletes, whole saves, the pair deleted', async () => {
      const store = await newStore();
      const countsNow = async () =>
        (
          await new PostgresStateStore(handle.db, store.pairId).loadPart({
            folders: [],
            subtrees: [],
            paths: [],
          })
        )?.counts;
      await store.save({
        source: new Map([
          ['a', file('a', { size: 5 })],
          ['b', file('b', { size: 6 })],
        ]),
        destination: new Map([['a', file('a', { size: 5 })]]),
      });
      expect(await countsNow()).toEqual({
        source: { entries: 2, files: 2 },
        destination: { entries: 1, files: 1 },
      });
      await store.update([
        { path: 'a', source: { path: 'a', size: 0, mtime: 1, isDir: true }, destination: null },
        { path: 'c', source: file('c'), destination: file('c') },
      ]);
      expect(await countsNow()).toEqual({
        source: { entries: 3, files: 2 },
        destination: { entries: 1, files: 1 },
      });
      const bytes = await handle.db.execute(
        sql`select side, bytes::int as bytes from pair_state_counts where pair_id = ${store.pairId} order by side`,
      );
      expect((bytes as unknown as { rows: unknown[] }).rows).toEqual([
        { side: 'destination', bytes: 10 },
        { side: 'source', bytes: 16 },
      ]);
      await new PostgresStateStore(handle.db, store.pairId).save({
        source: new Map([['z', file('z')]]),
        destination: new Map(),
      });
      expect(await countsNow()).toEqual({
        source: { entries: 1, files: 1 },
        destination: { entries: 0, files: 0 },
      });
      expect(await createPairRepo(handle.db).delete(store.pairId)).toBe(true);
      const left = await handle.db.execute(
        sql`select * from pair_state_counts where pair_id = ${store.pairId}`,
      );
      expect((left as unknown as { rows: unknown[] }).rows).toEqual([]);
    });

    it('finds file records of one side by size, at most perSize of each', async () => {
      const store = await newStore();
      const source: Tree = new Map();
      for (let i = 0; i < 40; i += 1) source.set(`s/${i}`, file(`s/${i}`, { size: i % 4, hash: `h${i}` }));
      source.set('dir', { path: 'dir', size: 2, mtime: 1, isDir: true });
      const destination: Tree = new Map([['s/0', file('s/0', { size: 1 })]]);
      await store.save({ source, destination });
      const found = await store.recordsOfSize('source', [1, 2, 2, 9], 3);
      const bySize = (side: Side, entries: Entry[], size: number) => {
        const these = entries.filter((entry) => entry.size === size);
        for (const entry of these)
          expect(entry).toEqual((side === 'source' ? source : destination).get(entry.path));
        return these.length;
      };
      expect(found).toHaveLength(6);
      expect(bySize('source', found, 1)).toBe(3);
      expect(bySize('source', found, 2)).toBe(3);
      const all = await store.recordsOfSize('source', [0], 100);
      expect(all.map((entry) => entry.path).sort()).toEqual(
        [...source.values()]
          .filter((e) => !e.isDir && e.size === 0)
          .map((e) => e.path)
          .sort(),
      );
      const other = await store.recordsOfSize('destination', [1], 5);
      expect(other).toEqual([destination.get('s/0')]);
      expect(await store.recordsOfSize('source', [], 5)).toEqual([]);
      expect(await store.recordsOfSize('source', [1], 0)).toEqual([]);
    });

    it('keeps metadata per pair', async () => {
      const store = await newStore();
      const other = await newStore();
      expect(await store.loadMetadata()).toBeNull();
      const metadata = {
        pairId: store.pairId,
        formatVersion: 1,
        pendingConflicts: [],
        lastRunStatus: 'completed',
      };
      await store.saveMetadata(metadata);
      expect(await store.loadMetadata()).toEqual(metadata);
      expect(await other.loadMetadata()).toBeNull();
    });
  });
}

describeStateStore('PGlite', async () => ({
  handle: await createDatabase({ inMemory: true }),
  drop: async () => {},
}));

describe.skipIf(!hasPostgres)('on Postgres', () => {
  let testDb: TestDatabase;
  describeStateStore('Postgres', async () => {
    testDb = await createTestDatabase();
    return { handle: await createDatabase({ url: testDb.url }), drop: () => testDb.drop() };
  });
});

// Where text sorts by a locale ('a%' between 'a/' and 'a0', 'A' beside 'a'), a subtree is still its paths alone.
describe.skipIf(!hasPostgres)('on Postgres sorting text by an ICU locale', () => {
  let testDb: TestDatabase;
  describeStateStore('Postgres (ICU en-US)', async () => {
    testDb = await createTestDatabase(TEST_DATABASE_URL, { icuLocale: 'en-US' });
    return { handle: await createDatabase({ url: testDb.url }), drop: () => testDb.drop() };
  });
});
