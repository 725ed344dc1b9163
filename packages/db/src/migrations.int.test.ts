import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
} from '../test/testing/index.js';
import { createDatabase, type Database, MIGRATIONS_FOLDER } from './database.js';
import { PostgresStateStore } from './state-store.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

const scratch = mkdtempSync(join(tmpdir(), 'se-migrations-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The migrations up to `last` (its journal index), as a database of that release applied them. */
function migrationsUpTo(last: number): string {
  const folder = join(scratch, `upto-${last}`);
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ idx: number }> };
  journal.entries = journal.entries.filter((entry) => entry.idx <= last);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

/** A pair with state rows, written as release 0005 wrote them (no `parent` column yet). */
async function seedRelease5(db: Database): Promise<string> {
  const result = await db.execute(sql`
    insert into pairs (name, source, destination, mode, comparison_mode, conflict_resolution,
      transfers, operations, max_delete_percent)
    values ('p', '{}', '{}', 'TWO_WAY', 'HASH_THEN_MTIME', 'NEWEST_WINS', 1, 1, 50)
    returning id`);
  const pairId = (result as unknown as { rows: Array<{ id: string }> }).rows[0]!.id;
  await db.execute(sql`insert into pair_metadata (pair_id, has_state) values (${pairId}, true)`);
  await db.execute(sql`
    insert into pair_state (pair_id, side, path, size, mtime, is_dir, ctime) values
      (${pairId}, 'source', 'top.txt', 1, 1, false, 2),
      (${pairId}, 'source', 'a', 0, 1, true, null),
      (${pairId}, 'source', 'a/b c', 0, 1, true, null),
      (${pairId}, 'source', 'a/b c/é%_.txt', 3, 1, false, null),
      (${pairId}, 'source', 'a%', 4, 1, false, null),
      (${pairId}, 'destination', 'a/b c/é%_.txt', 3, 1, false, null)`);
  return pairId;
}

/** Checks a migrated database: every old row has its folder and is counted, and a part loads from it. */
async function expectMigrated(db: Database, pairId: string): Promise<void> {
  const result = await db.execute(sql`select side, path, parent from pair_state order by side, path`);
  expect((result as unknown as { rows: unknown[] }).rows).toEqual([
    { side: 'destination', path: 'a/b c/é%_.txt', parent: 'a/b c' },
    { side: 'source', path: 'a', parent: '' },
    { side: 'source', path: 'a%', parent: '' },
    { side: 'source', path: 'a/b c', parent: 'a' },
    { side: 'source', path: 'a/b c/é%_.txt', parent: 'a/b c' },
    { side: 'source', path: 'top.txt', parent: '' },
  ]);
  const store = new PostgresStateStore(db, pairId);
  const part = await store.loadPart({ folders: [''], subtrees: ['a'], paths: [] });
  expect([...part!.state.source.keys()]).toEqual(['a', 'a%', 'a/b c', 'a/b c/é%_.txt', 'top.txt']);
  expect([...part!.state.destination.keys()]).toEqual(['a/b c/é%_.txt']);
  expect(part!.counts).toEqual({ source: { entries: 5, files: 3 }, destination: { entries: 1, files: 1 } });
  expect(await store.recordsOfSize('source', [3, 4], 5)).toHaveLength(2);
}

describe('migrations 0006 and 0007 (folders, sizes and counts of state rows) on a database of release 0005', () => {
  it('applies on PGlite', async () => {
    const client = new PGlite();
    try {
      const db = drizzlePglite(client);
      await migratePglite(db, { migrationsFolder: migrationsUpTo(5) });
      const pairId = await seedRelease5(db as unknown as Database);
      await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
      await expectMigrated(db as unknown as Database, pairId);
    } finally {
      await client.close();
    }
  });

  it.skipIf(!hasPostgres)('applies on Postgres', async () => {
    const testDb = await createTestDatabase(TEST_DATABASE_URL, { icuLocale: 'en-US' });
    try {
      const pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
      const old = drizzlePostgres(pool);
      await migratePostgres(old, { migrationsFolder: migrationsUpTo(5) });
      const pairId = await seedRelease5(old as unknown as Database);
      await pool.end();

      const handle = await createDatabase({ url: testDb.url });
      try {
        await expectMigrated(handle.db, pairId);
      } finally {
        await handle.close();
      }
    } finally {
      await testDb.drop();
    }
  });
});
