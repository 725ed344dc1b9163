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
  schedule: text('schedule'),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
