import type { Entry, LastKnownState } from '@syncengine/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../test/testing/index.js';
import { createDatabase, type DatabaseHandle } from './database.js';
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

function describeStateStore(
  name: string,
  open: () => Promise<{ handle: DatabaseHandle; drop(): Promise<void> }>,
) {
  describe(`PostgresStateStore on ${name}`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    const newStore = async () => {
      const pair = await createPairRepo(handle.db).create({
        name: 'p',
        source: { type: 'local', path: '/a' },
        destination: { type: 'local', path: '/b' },
        mode: 'TWO_WAY',
        comparisonMode: 'HASH_THEN_MTIME',
        conflictResolution: 'NEWEST_WINS',
        ignorePatterns: [],
        concurrency: { transfers: 5, operations: 10 },
        maxDeletePercent: 50,
        schedule: null,
        enabled: true,
        watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
      });
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
