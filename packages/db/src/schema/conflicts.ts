import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { pairs } from './pairs.js';
import { runs } from './runs.js';

/**
 * MANUAL conflicts. A resolved conflict whose decision no run has applied yet has
 * `applied_at` null; the next run of the pair applies it.
 */
export const conflicts = pgTable(
  'conflicts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pairId: uuid('pair_id')
      .notNull()
      .references(() => pairs.id, { onDelete: 'cascade' }),
    runId: uuid('run_id').references(() => runs.id, { onDelete: 'set null' }),
    path: text('path').notNull(),
    source: jsonb('source').$type<Record<string, unknown>>(),
    destination: jsonb('destination').$type<Record<string, unknown>>(),
    status: text('status').notNull().default('pending'),
    resolution: text('resolution'),
    resolvedBy: text('resolved_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull().defaultNow(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    appliedRunId: uuid('applied_run_id'),
    /** What applying the decision did, in words ("kept both; the destination's copy is now …"). */
    outcome: text('outcome'),
  },
  (table) => [
    index('conflicts_status_idx').on(table.status, table.pairId),
    // At most one open (pending, or resolved but not yet applied) conflict per path.
    uniqueIndex('conflicts_one_open_per_path').on(table.pairId, table.path).where(sql`applied_at is null`),
  ],
);
