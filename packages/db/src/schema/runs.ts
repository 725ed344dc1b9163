import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';

export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pairId: uuid('pair_id')
      .notNull()
      .references(() => pairs.id, { onDelete: 'cascade' }),
    status: text('status').notNull(),
    trigger: text('trigger').notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    force: boolean('force').notNull().default(false),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    stats: jsonb('stats').$type<Record<string, unknown>>(),
    error: text('error'),
    progress: jsonb('progress').$type<Record<string, unknown>>(),
  },
  (table) => [
    index('runs_pair_queued_idx').on(table.pairId, table.queuedAt),
    index('runs_status_idx').on(table.status),
    // One run at a time per pair, enforced by the database so that racing triggers
    // (several API processes, schedules) can never start two.
    uniqueIndex('runs_one_active_per_pair')
      .on(table.pairId)
      .where(sql`status in ('queued', 'running', 'paused')`),
  ],
);
