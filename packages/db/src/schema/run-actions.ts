import { bigint, bigserial, boolean, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { runs } from './runs.js';

/** A run's per-file log. `id` orders the log and is the pagination cursor. */
export const runActions = pgTable(
  'run_actions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    path: text('path').notNull(),
    toPath: text('to_path'),
    /** The action is on a folder (logged before this column existed: false). */
    isDir: boolean('is_dir').notNull().default(false),
    reason: text('reason').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    status: text('status').notNull(),
    error: text('error'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('run_actions_run_idx').on(table.runId, table.id)],
);
