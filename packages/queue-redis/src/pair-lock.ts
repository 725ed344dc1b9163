import postgres from 'postgres';

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
export function createPostgresPairLock(options: {
  url: string;
  /** Locks held at once (one connection each); the worker's concurrency. */
  maxHeld: number;
}): PairLock {
  const sql = postgres(options.url, {
    max: options.maxHeld + 1,
    idle_timeout: 60,
    onnotice: () => {},
  });
  return {
    async tryAcquire(key) {
      const connection = await sql.reserve();
      try {
        const [row] = await connection<{ isLocked: boolean }[]>`
          select pg_try_advisory_lock(hashtextextended(${`syncengine:pair:${key}`}, 0)) as "isLocked"`;
        if (!row?.isLocked) {
          connection.release();
          return null;
        }
      } catch (error) {
        connection.release();
        throw error;
      }
      let isReleased = false;
      return async () => {
        if (isReleased) return;
        isReleased = true;
        try {
          await connection`select pg_advisory_unlock(hashtextextended(${`syncengine:pair:${key}`}, 0))`;
        } finally {
          connection.release();
        }
      };
    },
    async close() {
      // Held locks go with their connections.
      await sql.end({ timeout: 1 });
    },
  };
}
