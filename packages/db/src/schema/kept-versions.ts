import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';
import { runs } from './runs.js';

/**
 * Why each kept version of a file exists: the run (or restore) that moved it into the
 * versions area of its side. The files themselves, in `.syncengine/versions/`, are the
 * truth about which versions exist; a row whose file was pruned is simply never shown.
 */
export const keptVersions = pgTable(
  'kept_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pairId: uuid('pair_id')
      .notNull()
      .references(() => pairs.id, { onDelete: 'cascade' }),
    side: text('side').notNull(),
    /** Where the version is kept, relative to the side's root. */
    versionPath: text('version_path').notNull(),
    /** The path the file had. */
    path: text('path').notNull(),
    reason: text('reason').notNull(),
    runId: uuid('run_id').references(() => runs.id, { onDelete: 'set null' }),
    keptAt: timestamp('kept_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('kept_versions_one_per_file').on(table.pairId, table.side, table.versionPath),
    index('kept_versions_run_idx').on(table.runId),
  ],
);
