import pg from 'pg';

/** Why a run's pair lock was lost: the run must stop, and its writes are refused. */
export class PairLockLostError extends Error {
  override readonly name = 'PairLockLostError';
}

/** A pair's lock, held by one run. */
export interface HeldPairLock {
  /**
   * The fencing token: larger than that of every earlier holder of the pair. Writes to
   * the pair's last-known state carry it (`PostgresStateStore`'s `lockEpoch`).
   */
  readonly epoch: number;
  /**
   * Aborted, with a PairLockLostError as its reason, once the lock may be someone else's:
   * its connection failed or closed, or its lease could not be renewed in time.
   */
  readonly signal: AbortSignal;
  /** Lets go of the lock (the run has stopped writing). */
  release(): Promise<void>;
}

/**
 * Mutual exclusion per pair across processes. `tryAcquire` answers at once: the held lock
 * when the pair is now the caller's, null when someone else holds it (or a previous
 * holder's lease has not yet run out).
 */
export interface PairLock {
  tryAcquire(pairId: string): Promise<HeldPairLock | null>;
  close(): Promise<void>;
}

/** The name of a lock connection that holds no pair. */
const IDLE_NAME = 'syncengine pair lock (idle)';

/** How long a lease lasts without renewal (ms). */
export const DEFAULT_PAIR_LEASE_MS = 30_000;

/**
 * A PairLock on Postgres: a session advisory lock, held on a connection of its own for as
 * long as the run lasts, plus a lease and a fencing token in `pair_metadata`.
 *
 * The advisory lock goes with its connection, so a worker that dies (even by SIGKILL)
 * never blocks its pair. But a connection can also drop while its process goes on (a
 * Postgres restart, `pg_terminate_backend`, a cut network): then the holder's signal is
 * aborted at once, and the lease, which only the holder renews (every third of its
 * length), keeps everyone else out until the old run has had the time to notice and stop.
 * A holder that cannot renew stops by itself before its lease ends. Every acquisition
 * raises the pair's epoch; writes fenced with an older epoch are refused.
 */
export function createPostgresPairLock(options: {
  url: string;
  /** Lease length (ms); the worst-case wait before a pair whose holder vanished runs again. */
  leaseMs?: number;
  /** Connections kept open after a clean release, for the next runs (default 4). */
  maxIdleConnections?: number;
  log?: { warn(message: string): void };
}): PairLock {
  const leaseMs = options.leaseMs ?? DEFAULT_PAIR_LEASE_MS;
  const maxIdle = options.maxIdleConnections ?? 4;
  const held = new Set<() => Promise<void>>();
  /**
   * Connections whose lock was released cleanly (unlocked, lease cleared), reused by the
   * next acquisitions: a new connection per run costs more than a tiny run itself. One
   * that fails or closes while idle is dropped.
   */
  const idle = new Map<pg.Client, () => void>();
  const keepIdle = (client: pg.Client) => {
    if (idle.size >= maxIdle) {
      void client.end().catch(() => {});
      return;
    }
    const drop = () => {
      idle.delete(client);
      client.off('end', drop);
      void client.end().catch(() => {});
    };
    client.once('end', drop);
    idle.set(client, drop);
  };
  const takeIdle = (): pg.Client | null => {
    const next = idle.entries().next();
    if (next.done) return null;
    const [client, drop] = next.value;
    idle.delete(client);
    client.off('end', drop);
    return client;
  };
  const lockKey = (pairId: string) => `syncengine:pair:${pairId}`;
  const connect = async () => {
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      // Names the connection in pg_stat_activity, for operators (and the fault tests).
      application_name: IDLE_NAME,
    });
    // Errors are handled through the listeners below and the failing queries; never unhandled.
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  return {
    async tryAcquire(pairId) {
      // A connection is named after the pair it holds (operators and tests find it by name).
      const tryLock = (candidate: pg.Client) =>
        candidate.query<{ isLocked: boolean }>(
          `select locked as "isLocked", case when locked then set_config('application_name', $2, false) end
           from (select pg_try_advisory_lock(hashtextextended($1, 0)) as locked) as attempt`,
          [lockKey(pairId), `syncengine pair lock ${pairId}`],
        );
      const reused = takeIdle();
      let client = reused ?? (await connect());
      let locked: Awaited<ReturnType<typeof tryLock>>;
      try {
        locked = await tryLock(client);
      } catch (error) {
        await client.end().catch(() => {});
        // A kept connection may have gone away while idle: once more on a new one.
        if (!reused) throw error;
        client = await connect();
        try {
          locked = await tryLock(client);
        } catch (retryError) {
          await client.end().catch(() => {});
          throw retryError;
        }
      }
      let epoch: number;
      try {
        const { rows } = locked;
        if (!rows[0]?.isLocked) {
          keepIdle(client);
          return null;
        }
        const taken = await takeLease(client, pairId, leaseMs);
        if (taken === null) {
          // A previous holder lost its connection and may still be writing until its lease ends.
          await client.end().catch(() => {});
          return null;
        }
        epoch = taken;
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }

      const controller = new AbortController();
      let isReleased = false;
      const lose = (why: string) => {
        if (isReleased || controller.signal.aborted) return;
        options.log?.warn(`lost the lock of pair ${pairId}: ${why}`);
        controller.abort(new PairLockLostError(`the run lost its pair lock: ${why}`));
      };
      const onError = (error: Error) => lose(`its database connection failed (${error.message})`);
      const onEnd = () => lose('its database connection closed');
      client.on('error', onError);
      client.on('end', onEnd);

      // Renewed from the holder's own clock: the lease counts from when a renewal is sent,
      // which is never later than when Postgres extends it.
      let renewedAt = performance.now();
      let isRenewing = false;
      const renewal = setInterval(
        () => {
          if (performance.now() - renewedAt > leaseMs * 0.8) {
            lose(`its lease could not be renewed for ${Math.round(performance.now() - renewedAt)} ms`);
            return;
          }
          if (isRenewing || controller.signal.aborted) return;
          isRenewing = true;
          const sentAt = performance.now();
          client
            .query(
              `update pair_metadata set lease_expires_at = now() + $3 * interval '1 millisecond'
             where pair_id = $1 and lock_epoch = $2`,
              [pairId, epoch, leaseMs],
            )
            .then((result) => {
              if (result.rowCount === 0 && epoch > 0) lose('another run has taken the pair');
              else renewedAt = sentAt;
            })
            .catch((error: Error) => lose(`its lease could not be renewed (${error.message})`))
            .finally(() => {
              isRenewing = false;
            });
        },
        Math.max(50, Math.floor(leaseMs / 3)),
      );
      renewal.unref();

      const release = async () => {
        if (isReleased) return;
        isReleased = true;
        clearInterval(renewal);
        held.delete(release);
        const wasLost = controller.signal.aborted;
        let isClean = false;
        try {
          if (!wasLost) {
            await client.query(
              'update pair_metadata set lease_expires_at = null where pair_id = $1 and lock_epoch = $2',
              [pairId, epoch],
            );
            const { rows } = await client.query<{ isUnlocked: boolean }>(
              `select pg_advisory_unlock(hashtextextended($1, 0)) as "isUnlocked", set_config('application_name', $2, false)`,
              [lockKey(pairId), IDLE_NAME],
            );
            isClean = rows[0]?.isUnlocked === true && !controller.signal.aborted;
          }
        } finally {
          client.off('error', onError);
          client.off('end', onEnd);
          if (isClean) keepIdle(client);
          else await client.end().catch(() => {});
        }
        if (wasLost) {
          // The run has stopped: its lease need not be waited out. Only while the epoch is
          // still its own (nobody took the pair meanwhile), on a new connection.
          const fresh = await connect().catch(() => null);
          if (fresh) {
            await fresh
              .query(
                'update pair_metadata set lease_expires_at = null where pair_id = $1 and lock_epoch = $2',
                [pairId, epoch],
              )
              .catch(() => {});
            await fresh.end().catch(() => {});
          }
        }
      };
      held.add(release);
      return { epoch, signal: controller.signal, release };
    },
    async close() {
      await Promise.all([...held].map((release) => release().catch(() => {})));
      for (const client of [...idle.keys()]) {
        idle.delete(client);
        await client.end().catch(() => {});
      }
    },
  };
}

/**
 * Raises the pair's epoch and starts a lease, unless a lease of an earlier holder is still
 * running (null). A pair without a row (deleted meanwhile) gets epoch 0, which fences
 * every write: there is nothing left to write to.
 */
async function takeLease(client: pg.Client, pairId: string, leaseMs: number): Promise<number | null> {
  try {
    const { rows } = await client.query<{ epoch: string }>(
      `insert into pair_metadata (pair_id, lock_epoch, lease_expires_at)
       values ($1, 1, now() + $2 * interval '1 millisecond')
       on conflict (pair_id) do update
         set lock_epoch = pair_metadata.lock_epoch + 1, lease_expires_at = excluded.lease_expires_at
         where pair_metadata.lease_expires_at is null or pair_metadata.lease_expires_at <= now()
       returning lock_epoch as epoch`,
      [pairId, leaseMs],
    );
    return rows[0] ? Number(rows[0].epoch) : null;
  } catch (error) {
    // 23503: the pair does not exist (any more); 22P02: not even a valid pair id.
    const code = (error as { code?: string }).code;
    if (code === '23503' || code === '22P02') return 0;
    throw error;
  }
}
