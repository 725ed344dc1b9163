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
 * raises the pair's epoch; writes fenced with an older epoch are refused. Taking the lock
 * with its lease is one statement, and so is giving both back.
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
      const attempt = (candidate: pg.Client) => tryLockAndLease(candidate, pairId, leaseMs);
      const reused = takeIdle();
      let client = reused ?? (await connect());
      let taken: Awaited<ReturnType<typeof attempt>>;
      try {
        taken = await attempt(client);
      } catch (error) {
        await client.end().catch(() => {});
        // A kept connection may have gone away while idle: once more on a new one.
        if (!reused) throw error;
        client = await connect();
        try {
          taken = await attempt(client);
        } catch (retryError) {
          await client.end().catch(() => {});
          throw retryError;
        }
      }
      if (taken === 'busy') {
        keepIdle(client);
        return null;
      }
      if (taken === 'leased') {
        // A previous holder lost its connection and may still be writing until its lease ends.
        await client.end().catch(() => {});
        return null;
      }
      const epoch = taken;

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
              [asPairUuid(pairId), epoch, leaseMs],
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
            // The lease is cleared before the lock goes, in one statement: a next holder that
            // takes the lock at once waits for this statement to commit, then finds no lease.
            const { rows } = await client.query<{ isUnlocked: boolean }>(
              `with cleared as (
                 update pair_metadata set lease_expires_at = null
                 where pair_id = $1 and lock_epoch = $2
                 returning 1
               )
               select pg_advisory_unlock(hashtextextended($3, 0)) as "isUnlocked",
                 set_config('application_name', $4, false)
               from (select count(*) from cleared) as done`,
              [asPairUuid(pairId), epoch, lockKey(pairId), IDLE_NAME],
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
                [asPairUuid(pairId), epoch],
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

const lockKey = (pairId: string) => `syncengine:pair:${pairId}`;

/** A pair id as the `uuid` columns take it; null for one that cannot be a pair's (no such pair). */
const asPairUuid = (pairId: string): string | null =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(pairId) ? pairId : null;

/**
 * Tries the pair's advisory lock and, when it is taken, raises the pair's epoch and starts
 * a lease, in one statement (one round trip): the epoch, `busy` when someone else holds the
 * lock, `leased` when a lease of an earlier holder is still running (the lock is then taken,
 * and goes with the connection). A pair without a row (deleted meanwhile, or an id that
 * cannot be a pair's) gets epoch 0, which fences every write: there is nothing left to
 * write to. The connection is named after the pair it holds (operators and tests find it
 * by name).
 */
async function tryLockAndLease(
  client: pg.Client,
  pairId: string,
  leaseMs: number,
): Promise<number | 'busy' | 'leased'> {
  const pairUuid = asPairUuid(pairId);
  const holderName = `syncengine pair lock ${pairId}`;
  try {
    // `attempt` runs once (a CTE calling a volatile function is never inlined), before the
    // lease, which is only started where the lock was taken.
    const { rows } = await client.query<{ isLocked: boolean; epoch: string | null; isPair: boolean }>(
      `with attempt as (
         select pg_try_advisory_lock(hashtextextended($1, 0)) as locked
       ),
       lease as (
         insert into pair_metadata (pair_id, lock_epoch, lease_expires_at)
         select pairs.id, 1, now() + $4 * interval '1 millisecond'
         from attempt, pairs
         where attempt.locked and pairs.id = $3
         on conflict (pair_id) do update
           set lock_epoch = pair_metadata.lock_epoch + 1, lease_expires_at = excluded.lease_expires_at
           where pair_metadata.lease_expires_at is null or pair_metadata.lease_expires_at <= now()
         returning lock_epoch
       )
       select attempt.locked as "isLocked",
         case when attempt.locked then set_config('application_name', $2, false) end,
         (select lock_epoch from lease) as epoch,
         attempt.locked and exists (select 1 from pairs where id = $3) as "isPair"
       from attempt`,
      [lockKey(pairId), holderName, pairUuid, leaseMs],
    );
    const row = rows[0];
    if (!row?.isLocked) return 'busy';
    if (row.epoch !== null) return Number(row.epoch);
    return row.isPair ? 'leased' : 0;
  } catch (error) {
    // 23503: the pair was deleted after this statement began. The lease was only tried with
    // the lock taken, and a session's advisory lock outlives the failed statement (its new
    // name does not).
    if ((error as { code?: string }).code !== '23503') throw error;
    await client.query(`select set_config('application_name', $1, false)`, [holderName]);
    return 0;
  }
}
