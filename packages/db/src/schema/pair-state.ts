import { bigint, boolean, doublePrecision, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';

/**
 * The last-known state of a pair: one row per side and path, as both sides held it at the
 * end of the last completed action on that path.
 */
export const pairState = pgTable(
  'pair_state',
  {
    pairId: uuid('pair_id')
      .notNull()
      .references(() => pairs.id, { onDelete: 'cascade' }),
    side: text('side').$type<'source' | 'destination'>().notNull(),
    path: text('path').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** ms since the epoch; fractional on file systems with sub-ms precision. */
    mtime: doublePrecision('mtime').notNull(),
    isDir: boolean('is_dir').notNull(),
    hash: text('hash'),
    hashAlgorithm: text('hash_algorithm'),
    fileId: text('file_id'),
    /** ms since the epoch (`Entry.ctime`), where the backend has one; null in rows of state format 1. */
    ctime: doublePrecision('ctime'),
  },
  (table) => [primaryKey({ columns: [table.pairId, table.side, table.path] })],
);
