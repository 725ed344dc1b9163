import { bigint, boolean, jsonb, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';

/**
 * Per-pair sync metadata (the engine's `SyncMetadata`), whether a last-known state
 * exists at all (an empty state after a sync is not the same as no state: a first sync),
 * and the pair lock's fencing token and lease.
 */
export const pairMetadata = pgTable('pair_metadata', {
  pairId: uuid('pair_id')
    .primaryKey()
    .references(() => pairs.id, { onDelete: 'cascade' }),
  hasState: boolean('has_state').notNull().default(false),
  metadata: jsonb('metadata').$type<Record<string, unknown>>(),
  /**
   * The fencing token: raised each time a run takes the pair's lock. Writes of a run to
   * the state and metadata require the epoch it took the lock with, so a run that lost
   * its lock can never overwrite what a newer run recorded.
   */
  lockEpoch: bigint('lock_epoch', { mode: 'number' }).notNull().default(0),
  /**
   * Until when the holder of the lock may still be writing (renewed while it runs, cleared
   * when it lets go). A holder whose connection dropped keeps its lease until then, and
   * nobody else takes the pair before it has run out.
   */
  leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
