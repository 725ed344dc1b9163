import { boolean, jsonb, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';

/**
 * Per-pair sync metadata (the engine's `SyncMetadata`), and whether a last-known state
 * exists at all: an empty state after a sync is not the same as no state (a first sync).
 */
export const pairMetadata = pgTable('pair_metadata', {
  pairId: uuid('pair_id')
    .primaryKey()
    .references(() => pairs.id, { onDelete: 'cascade' }),
  hasState: boolean('has_state').notNull().default(false),
  metadata: jsonb('metadata').$type<Record<string, unknown>>(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
