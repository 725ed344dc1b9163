import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
  withClient,
} from '../test/testing/index.js';
import { createDatabase, type DatabaseHandle } from './database.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

/** Ends every connection to `database` but the caller's, as a Postgres restart would. */
async function terminateConnections(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  return withClient(url, async (admin) => {
    const { rows } = await admin.query<{ pid: number }>(
      'select pg_terminate_backend(pid) as ok, pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return rows.length;
  });
}

describe.skipIf(!hasPostgres)('a Postgres database whose connections drop', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  const connectionErrors: Error[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase();
    handle = await createDatabase({
      url: testDb.url,
      maxConnections: 4,
      onConnectionError: (error) => connectionErrors.push(error),
    });
  });
  afterAll(async () => {
    await handle?.close();
    await testDb?.drop();
  });

  it('fails the queries that were using them, reports the rest, and carries on with new connections', async () => {
    // Connections of every kind: idle in the pool, and one held by a transaction between statements.
    await Promise.all([1, 2, 3].map(() => handle.db.execute(sql`select pg_sleep(0.05)`)));
    let enterTransaction!: () => void;
    const inTransaction = new Promise<void>((resolve) => {
      enterTransaction = resolve;
    });
    let finishTransaction!: () => void;
    const mayFinish = new Promise<void>((resolve) => {
      finishTransaction = resolve;
    });
    const transaction = handle.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      enterTransaction();
      await mayFinish;
      await tx.execute(sql`select 2`);
    });
    const transactionOutcome = transaction.then(
      () => 'committed',
      (error: Error) => error.message,
    );
    await inTransaction;
    const terminated = await terminateConnections(testDb.url);
    expect(terminated).toBeGreaterThanOrEqual(2);
    // The dropped connections are noticed (idle ones and the one between two statements),
    // each reported once, so the next query cannot meet one not yet noticed.
    const deadline = Date.now() + 10_000;
    while (connectionErrors.length < terminated && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(connectionErrors.length).toBe(terminated);
    finishTransaction();
    expect(await transactionOutcome).not.toBe('committed');
    // The process is still here, and the next queries get fresh connections.
    const rows = await handle.db.execute(sql`select 41 + 1 as answer`);
    expect((rows as unknown as { rows: Array<{ answer: number }> }).rows[0]?.answer).toBe(42);
    expect(await handle.ping()).toBe(true);
  });
});
