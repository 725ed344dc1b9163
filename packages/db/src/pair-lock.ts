import pg from 'pg';

/**
 * Mutual exclusion per key across processes. `tryAcquire` answers at once: a release
 * function when the key is now held by the caller, null when someone else holds it.
 */
export interface PairLock {
  tryAcquire(key: string): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}

/**
 * A PairLock on Postgres session advisory locks. Each held lock keeps its own connection
 * for as long as it is held, so a worker that dies (even by SIGKILL) drops its connection
 * and Postgres releases the lock with it: a crashed run never blocks its pair.
 */
export function createPostgresPairLock(options: { url: string }): PairLock {
  const held = new Set<pg.Client>();
  const lockKey = (key: string) => `syncengine:pair:${key}`;
  return {
    async tryAcquire(key) {
      const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 10_000 });
      // A dropped connection fails the next query; it must never become an unhandled 'error'.
      client.on('error', () => {});
      try {
        await client.connect();
        const { rows } = await client.query<{ isLocked: boolean }>(
          'select pg_try_advisory_lock(hashtextextended($1, 0)) as "isLocked"',
          [lockKey(key)],
        );
        if (!rows[0]?.isLocked) {
          await client.end().catch(() => {});
          return null;
        }
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      held.add(client);
      let isReleased = false;
      return async () => {
        if (isReleased) return;
        isReleased = true;
        held.delete(client);
        try {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(key)]);
        } finally {
          await client.end().catch(() => {});
        }
      };
    },
    async close() {
      // Held locks go with their connections.
      await Promise.all([...held].map((client) => client.end().catch(() => {})));
      held.clear();
    },
  };
}
