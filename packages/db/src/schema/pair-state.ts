import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  pgTable,
  primaryKey,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
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
    /**
     * Relative, `/`-separated. Compared bytewise (`COLLATE "C"`, set by migration 0006, which
     * drizzle's schema cannot express): a subtree is the key range `root/` up to `root0`
     * whatever the database's locale.
     */
    path: text('path').notNull(),
    /** The folder the entry is in: `path` without its last segment (`''` at the top). */
    parent: text('parent').notNull().generatedAlwaysAs(sql`regexp_replace(path, '/?[^/]*$', '')`),
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
  (table) => [
    primaryKey({ columns: [table.pairId, table.side, table.path] }),
    /** A folder's direct items. */
    index('pair_state_parent_idx').on(table.pairId, table.side, table.parent),
    /** Files by size: where a new file may have been renamed or moved from. */
    index('pair_state_file_size_idx').on(table.pairId, table.side, table.size).where(sql`not ${table.isDir}`),
  ],
);
