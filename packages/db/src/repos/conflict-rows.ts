import type { Conflict, ConflictResolution, ConflictStatus, EntryMetadata } from '@syncengine/contracts';
import { and, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { Database } from '../database.js';
import { conflicts } from '../schema/index.js';
import { iso, isoOrNull } from './errors.js';

export type ConflictRow = typeof conflicts.$inferSelect;

export const toConflict = (row: ConflictRow): Conflict => ({
  id: row.id,
  pairId: row.pairId,
  runId: row.runId,
  path: row.path,
  source: (row.source as EntryMetadata | null) ?? null,
  destination: (row.destination as EntryMetadata | null) ?? null,
  status: row.status as ConflictStatus,
  resolution: (row.resolution as ConflictResolution | null) ?? null,
  resolvedBy: row.resolvedBy,
  resolvedAt: isoOrNull(row.resolvedAt),
  detectedAt: iso(row.detectedAt),
  appliedAt: isoOrNull(row.appliedAt),
  outcome: row.outcome,
});

const dateOrNull = (value: unknown): Date | null => (typeof value === 'string' ? new Date(value) : null);

/** A `conflicts` row as `to_jsonb` writes it (snake_case keys, timestamps as ISO text). */
export const conflictRowFromJson = (json: Record<string, unknown>): ConflictRow => ({
  id: json.id as string,
  pairId: json.pair_id as string,
  runId: (json.run_id as string | null) ?? null,
  path: json.path as string,
  source: (json.source as Record<string, unknown> | null) ?? null,
  destination: (json.destination as Record<string, unknown> | null) ?? null,
  status: json.status as string,
  resolution: (json.resolution as string | null) ?? null,
  resolvedBy: (json.resolved_by as string | null) ?? null,
  resolvedAt: dateOrNull(json.resolved_at),
  detectedAt: new Date(json.detected_at as string),
  appliedAt: dateOrNull(json.applied_at),
  appliedRunId: (json.applied_run_id as string | null) ?? null,
  outcome: (json.outcome as string | null) ?? null,
});

/**
 * The statement that closes the pair's open conflicts a complete run no longer met (someone
 * made both sides agree): they are resolved by the sync itself (`resolvedBy: sync`, unless
 * someone had decided them already), applied by `runId` at `at`. Returns the closed rows;
 * also usable as a CTE.
 */
export function closeUnseenConflicts(
  db: Database,
  unseen: { pairId: string; seenPaths: string[]; runId: string; at: Date },
) {
  const conditions = [eq(conflicts.pairId, unseen.pairId), isNull(conflicts.appliedAt)];
  if (unseen.seenPaths.length > 0) conditions.push(notInArray(conflicts.path, unseen.seenPaths));
  return db
    .update(conflicts)
    .set({
      status: 'resolved',
      appliedAt: unseen.at,
      appliedRunId: unseen.runId,
      resolvedBy: sql`case when ${conflicts.resolvedAt} is null then 'sync' else ${conflicts.resolvedBy} end`,
      resolvedAt: sql`coalesce(${conflicts.resolvedAt}, ${unseen.at.toISOString()}::timestamptz)`,
    })
    .where(and(...conditions))
    .returning();
}
