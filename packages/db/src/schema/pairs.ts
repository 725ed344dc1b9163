import {
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * A sync pair. Locations are stored as their typed config (JSON); secret fields inside
 * them are encrypted by the server before they get here.
 */
export const pairs = pgTable('pairs', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  source: jsonb('source').$type<Record<string, unknown>>().notNull(),
  destination: jsonb('destination').$type<Record<string, unknown>>().notNull(),
  mode: text('mode').notNull(),
  comparisonMode: text('comparison_mode').notNull(),
  conflictResolution: text('conflict_resolution').notNull(),
  ignorePatterns: jsonb('ignore_patterns').$type<string[]>().notNull().default([]),
  transfers: integer('transfers').notNull(),
  operations: integer('operations').notNull(),
  maxDeletePercent: doublePrecision('max_delete_percent').notNull(),
  /** Bytes per second for a run's transfers together; null for no limit. */
  bandwidthLimit: integer('bandwidth_limit'),
  schedule: text('schedule'),
  enabled: boolean('enabled').notNull().default(true),
  /** Watch settings (SPEC §12): sync changes as they happen. */
  watchEnabled: boolean('watch_enabled').notNull().default(false),
  watchDebounceMs: integer('watch_debounce_ms').notNull().default(1_000),
  watchRescanMinutes: integer('watch_rescan_minutes').notNull().default(60),
  watchPollSeconds: integer('watch_poll_seconds').notNull().default(60),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
