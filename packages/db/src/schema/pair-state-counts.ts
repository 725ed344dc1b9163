import { bigint, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';

/**
 * The size of each side of a pair's last-known state, kept by statement triggers on
 * `pair_state` (migration 0007, which drizzle's schema cannot express): what a run that
 * reads part of the state learns of the whole without counting it.
 */
export const pairStateCounts = pgTable(
  'pair_state_counts',
  {
    pairId: uuid('pair_id')
      .notNull()
      .references(() => pairs.id, { onDelete: 'cascade' }),
    side: text('side').$type<'source' | 'destination'>().notNull(),
    /** Records (files and folders). */
    entries: bigint('entries', { mode: 'number' }).notNull().default(0),
    /** Records of files. */
    files: bigint('files', { mode: 'number' }).notNull().default(0),
    /** The files' sizes, summed. */
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.pairId, table.side] })],
);
