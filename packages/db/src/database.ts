import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
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
  /** Connections in the Postgres pool. */
  maxConnections?: number;
  /**
   * Told about connection errors that no query is waiting for (an idle connection dropped
   * by a Postgres restart). They never end the process; the pool opens new connections.
   */
  onConnectionError?: (error: Error) => void;
}

export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A node-postgres pool that survives Postgres going away: a query on a dropped connection
 * fails (its caller decides what to do), the connection is discarded, and the next query
 * opens a new one. Errors that reach a connection while no query waits on it (idle in the
 * pool, or checked out between two statements of a transaction) go to `onError` instead of
 * becoming an unhandled 'error' event that would end the process.
 */
export function createPostgresPool(
  url: string,
  options: { max?: number; onError?: (error: Error) => void } = {},
): pg.Pool {
  // A dropped idle connection reaches both its own listener and the pool's 'error' event,
  // often twice (Postgres' message, then the socket's end): each connection is reported
  // once, so one dropped connection counts (and logs) once.
  const reported = new WeakSet<pg.PoolClient>();
  const onError = (error: Error, client: pg.PoolClient): void => {
    if (reported.has(client)) return;
    reported.add(client);
    options.onError?.(error);
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // An unreachable host fails a query after this long instead of hanging it.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Notices a peer that vanished without closing the connection (a host gone, a cut network).
    keepAlive: true,
  });
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', (error) => onError(error, client)));
  return pool;
}

/**
 * Opens the database and applies pending migrations: Postgres through node-postgres when a
 * URL is given, else embedded PGlite with the same schema and migrations.
 */
export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const pool = createPostgresPool(options.url, {
      max: options.maxConnections ?? 10,
      ...(options.onConnectionError ? { onError: options.onConnectionError } : {}),
    });
    const db = drizzlePostgres(pool, { schema });
    try {
      await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    let isClosed = false;
    return {
      db: db as unknown as Database,
      driver: 'postgres',
      ping: () => ping(db as unknown as Database),
      async close() {
        if (isClosed) return;
        isClosed = true;
        await pool.end();
      },
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

/** How long a health check waits for the database before calling it down. */
const PING_TIMEOUT_MS = 3_000;

async function ping(db: Database): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      db.execute(sql`select 1`).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
