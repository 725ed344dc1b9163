import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** A drizzle database on either driver; repositories use only what both offer. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/**
 * The generated SQL migrations: the repository's top-level `migrations/`, or
 * `SYNCENGINE_MIGRATIONS_DIR` where a deployment keeps them elsewhere (the Docker images).
 */
export const MIGRATIONS_FOLDER =
  process.env.SYNCENGINE_MIGRATIONS_DIR ?? fileURLToPath(new URL('../../../migrations', import.meta.url));

export interface DatabaseOptions {
  /** A postgres:// URL. Without one, an embedded PGlite database under `dataDir` is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files (`<dataDir>/pglite`). Required when `url` is absent. */
  dataDir?: string | undefined;
  /** Keep the embedded database in memory (tests). */
  inMemory?: boolean;
  /** Connections in the postgres-js pool. */
  maxConnections?: number;
}

export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens the database and applies pending migrations: Postgres through postgres-js when a
 * URL is given, else embedded PGlite with the same schema and migrations.
 */
export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
    });
    const db = drizzlePostgres(client, { schema });
    try {
      await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } catch (error) {
      await client.end({ timeout: 1 });
      throw error;
    }
    return {
      db: db as unknown as Database,
      driver: 'postgres',
      ping: () => ping(db as unknown as Database),
      close: () => client.end({ timeout: 5 }),
    };
  }
  let client: PGlite;
  if (options.inMemory) {
    client = new PGlite();
  } else {
    if (!options.dataDir) throw new Error('createDatabase needs a url or a dataDir');
    const dir = join(options.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    client = new PGlite(dir);
  }
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Database,
    driver: 'pglite',
    ping: () => ping(db as unknown as Database),
    close: () => client.close(),
  };
}

async function ping(db: Database): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
