import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  newPairRecord,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
  withClient,
} from '../test/testing/index.js';
import { createDatabase, type DatabaseHandle } from './database.js';
import { createPostgresPairLock, type HeldPairLock, PairLockLostError } from './pair-lock.js';
import { createPairRepo } from './repos/index.js';
import { PostgresStateStore } from './state-store.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

const waitFor = async <T>(what: string, check: () => Promise<T | null | undefined>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const emptyState = { source: new Map(), destination: new Map() };

describe.skipIf(!hasPostgres)('Postgres pair lock', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  const newPair = async () => (await createPairRepo(handle.db).create(newPairRecord())).id;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    handle = await createDatabase({ url: testDb.url });
  });
  afterAll(async () => {
    await handle?.close();
    await testDb?.drop();
  });

  it('lets one holder at a time hold a pair, across connections, with a larger epoch each time', async () => {
    const first = createPostgresPairLock({ url: testDb.url });
    const second = createPostgresPairLock({ url: testDb.url });
    try {
      const pairId = await newPair();
      const results = await Promise.all([first.tryAcquire(pairId), second.tryAcquire(pairId)]);
      const held = results.filter((lock): lock is HeldPairLock => lock !== null);
      expect(held).toHaveLength(1);
      expect(await second.tryAcquire(pairId)).toBeNull();
      const otherPair = await second.tryAcquire(await newPair());
      expect(otherPair).not.toBeNull();
      await held[0]!.release();
      const again = await second.tryAcquire(pairId);
      expect(again?.epoch).toBeGreaterThan(held[0]!.epoch);
      expect(again?.signal.aborted).toBe(false);
      await again!.release();
      await otherPair!.release();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('takes the lock and its lease together and gives both back together: racing holders exclude each other, each with a larger epoch, and a released pair keeps no lease', async () => {
    const locks = Array.from({ length: 4 }, () => createPostgresPairLock({ url: testDb.url }));
    const leaseOf = (pairId: string) =>
      withClient(testDb.url, async (client) => {
        const { rows } = await client.query<{ epoch: string; leaseExpiresAt: Date | null }>(
          'select lock_epoch as epoch, lease_expires_at as "leaseExpiresAt" from pair_metadata where pair_id = $1',
          [pairId],
        );
        return rows[0] ? { epoch: Number(rows[0].epoch), leaseExpiresAt: rows[0].leaseExpiresAt } : null;
      });
    try {
      const pairId = await newPair();
      let lastEpoch = 0;
      for (let round = 0; round < 5; round += 1) {
        const results = await Promise.all(locks.map((lock) => lock.tryAcquire(pairId)));
        const held = results.filter((lock): lock is HeldPairLock => lock !== null);
        expect(held).toHaveLength(1);
        expect(held[0]!.epoch).toBeGreaterThan(lastEpoch);
        lastEpoch = held[0]!.epoch;
        const lease = await leaseOf(pairId);
        expect(lease?.epoch).toBe(lastEpoch);
        expect(lease?.leaseExpiresAt).not.toBeNull();
        // A refused attempt raised nothing: the holder's writes still pass the fence.
        const store = new PostgresStateStore(handle.db, pairId, { lockEpoch: lastEpoch });
        await store.load();
        await store.save(emptyState);
        await held[0]!.release();
        expect(await leaseOf(pairId)).toEqual({ epoch: lastEpoch, leaseExpiresAt: null });
      }
    } finally {
      await Promise.all(locks.map((lock) => lock.close()));
    }
  });

  it("gives a holder's state store the pair's metadata as it left it", async () => {
    const lock = createPostgresPairLock({ url: testDb.url });
    try {
      const pairId = await newPair();
      const held = await lock.tryAcquire(pairId);
      const store = new PostgresStateStore(handle.db, pairId, { lockEpoch: held!.epoch });
      expect(await store.loadMetadata()).toBeNull();
      expect(await store.load()).toBeNull();
      expect(await store.loadMetadata()).toBeNull();
      const metadata = { pairId, pendingConflicts: [], lastRunStatus: 'completed' } as never;
      await store.saveMetadata(metadata);
      expect(await store.loadMetadata()).toEqual(metadata);
      expect(await new PostgresStateStore(handle.db, pairId).loadMetadata()).toEqual(metadata);
      await held!.release();
    } finally {
      await lock.close();
    }
  });

  it('keeps a cleanly released connection for the next pair, named after the pair it holds, and replaces one that died while idle', async () => {
    const lock = createPostgresPairLock({ url: testDb.url });
    const connectionsNamed = (pairId: string) =>
      withClient(testDb.url, async (client) => {
        const { rows } = await client.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = current_database() and application_name = $1`,
          [`syncengine pair lock ${pairId}`],
        );
        return rows.map((row) => row.pid);
      });
    try {
      const [a, b, c] = [await newPair(), await newPair(), await newPair()];
      const first = await lock.tryAcquire(a);
      const [pid] = await connectionsNamed(a);
      expect(pid).toBeDefined();
      // Not held by this lock: tried, refused, kept without the pair's name.
      const other = createPostgresPairLock({ url: testDb.url });
      expect(await other.tryAcquire(a)).toBeNull();
      expect(await connectionsNamed(a)).toEqual([pid]);
      await other.close();
      await first!.release();
      expect(await connectionsNamed(a)).toEqual([]);
      const second = await lock.tryAcquire(b);
      expect(await connectionsNamed(b)).toEqual([pid]);
      expect(await connectionsNamed(a)).toEqual([]);
      await second!.release();

      await withClient(testDb.url, (client) => client.query('select pg_terminate_backend($1)', [pid]));
      const third = await lock.tryAcquire(c);
      expect(third?.signal.aborted).toBe(false);
      const [replacement] = await connectionsNamed(c);
      expect(replacement).toBeDefined();
      expect(replacement).not.toBe(pid);
      await third!.release();
    } finally {
      await lock.close();
    }
  });

  it('frees a pair at once when its holder closes, even without releasing', async () => {
    const dying = createPostgresPairLock({ url: testDb.url });
    const survivor = createPostgresPairLock({ url: testDb.url });
    try {
      const pairId = await newPair();
      expect(await dying.tryAcquire(pairId)).not.toBeNull();
      expect(await survivor.tryAcquire(pairId)).toBeNull();
      await dying.close();
      const taken = await waitFor('the pair to be free', () => survivor.tryAcquire(pairId), 3_000);
      await taken.release();
    } finally {
      await survivor.close();
    }
  });

  it('tells a holder whose connection is terminated at once, keeps the pair until its lease ends, and fences its writes out', async () => {
    const leaseMs = 2_000;
    const first = createPostgresPairLock({ url: testDb.url, leaseMs });
    const second = createPostgresPairLock({ url: testDb.url, leaseMs });
    try {
      const pairId = await newPair();
      const held = await first.tryAcquire(pairId);
      expect(held).not.toBeNull();
      const store = new PostgresStateStore(handle.db, pairId, { lockEpoch: held!.epoch });
      await store.load();
      await store.save(emptyState);

      const terminated = await withClient(testDb.url, async (admin) => {
        const { rowCount } = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
          [`syncengine pair lock ${pairId}`],
        );
        return rowCount;
      });
      expect(terminated).toBe(1);
      await waitFor('the holder to be told', async () => (held!.signal.aborted ? true : null), 5_000);
      expect(held!.signal.reason).toBeInstanceOf(PairLockLostError);
      const lostAt = Date.now();

      // Postgres has let go of the advisory lock, but the old holder may still be writing: its lease holds.
      expect(await second.tryAcquire(pairId)).toBeNull();
      const taken = await waitFor('the lease to run out', () => second.tryAcquire(pairId), 10_000);
      expect(Date.now() - lostAt).toBeGreaterThan(leaseMs / 2);
      expect(taken.epoch).toBeGreaterThan(held!.epoch);

      // The newer holder writes; the old one can no longer overwrite it.
      const newer = new PostgresStateStore(handle.db, pairId, { lockEpoch: taken.epoch });
      await newer.load();
      const newerState = {
        source: new Map([['new.txt', { path: 'new.txt', size: 1, mtime: 1, isDir: false }]]),
        destination: new Map([['new.txt', { path: 'new.txt', size: 1, mtime: 1, isDir: false }]]),
      };
      await newer.save(newerState);
      await newer.saveMetadata({ pairId, pendingConflicts: [] } as never);
      await expect(store.save(emptyState)).rejects.toBeInstanceOf(PairLockLostError);
      await expect(
        store.update([{ path: 'new.txt', source: null, destination: null }]),
      ).rejects.toBeInstanceOf(PairLockLostError);
      await expect(
        store.saveMetadata({ pairId: 'stale', pendingConflicts: [] } as never),
      ).rejects.toBeInstanceOf(PairLockLostError);
      expect(await new PostgresStateStore(handle.db, pairId).load()).toEqual(newerState);
      expect((await new PostgresStateStore(handle.db, pairId).loadMetadata())?.pairId).toBe(pairId);
      await held!.release();
      await taken.release();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('lets the next holder in at once when a holder that lost its connection has stopped and released', async () => {
    const leaseMs = 60_000;
    const first = createPostgresPairLock({ url: testDb.url, leaseMs });
    const second = createPostgresPairLock({ url: testDb.url, leaseMs });
    try {
      const pairId = await newPair();
      const held = await first.tryAcquire(pairId);
      await withClient(testDb.url, (admin) =>
        admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
          `syncengine pair lock ${pairId}`,
        ]),
      );
      await waitFor('the holder to be told', async () => (held!.signal.aborted ? true : null), 5_000);
      expect(await second.tryAcquire(pairId)).toBeNull();
      await held!.release();
      const taken = await waitFor('the pair to be free', () => second.tryAcquire(pairId), 3_000);
      await taken.release();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('gives a pair that does not exist epoch 0, which fences every write', async () => {
    const lock = createPostgresPairLock({ url: testDb.url });
    const other = createPostgresPairLock({ url: testDb.url });
    try {
      const missing = randomUUID();
      const held = await lock.tryAcquire(missing);
      expect(held?.epoch).toBe(0);
      expect(await other.tryAcquire(missing)).toBeNull();
      const store = new PostgresStateStore(handle.db, missing, { lockEpoch: 0 });
      await store.load();
      await expect(store.save(emptyState)).rejects.toBeInstanceOf(PairLockLostError);
      await held!.release();
      // Not even a pair id: held all the same, epoch 0, and given back.
      const odd = await lock.tryAcquire('not-a-pair');
      expect(odd?.epoch).toBe(0);
      expect(await other.tryAcquire('not-a-pair')).toBeNull();
      await odd!.release();
      const again = await other.tryAcquire('not-a-pair');
      expect(again?.epoch).toBe(0);
      await again!.release();
    } finally {
      await other.close();
      await lock.close();
    }
  });
});
