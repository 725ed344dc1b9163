import type { Conflict, ConflictListQuery, ConflictResolution, EntryMetadata } from '@syncengine/contracts';
import { and, asc, count, desc, eq, isNull, type SQL } from 'drizzle-orm';
import type { Database } from '../database.js';
import { conflicts } from '../schema/index.js';
import { type ConflictRow as Row, toConflict } from './conflict-rows.js';
import { isUniqueViolation } from './errors.js';

/** What a run learns when it meets a manual conflict. */
export interface DetectedConflict {
  conflict: Conflict;
  /** True when the conflict was not known before (emit `conflict.created`). */
  isNew: boolean;
  /** A decision taken earlier that no run has applied yet: apply it now. */
  decision: Exclude<ConflictResolution, 'skip'> | null;
}

const asJson = (entry: EntryMetadata | null) => (entry ? { ...entry } : null);

export function createConflictRepo(db: Database) {
  async function findOpen(pairId: string, path: string): Promise<Row | null> {
    const [row] = await db
      .select()
      .from(conflicts)
      .where(and(eq(conflicts.pairId, pairId), eq(conflicts.path, path), isNull(conflicts.appliedAt)));
    return row ?? null;
  }

  return {
    async list(query: ConflictListQuery = {}): Promise<Conflict[]> {
      const conditions: SQL[] = [];
      if (query.status) conditions.push(eq(conflicts.status, query.status));
      if (query.pairId) conditions.push(eq(conflicts.pairId, query.pairId));
      const rows = await db
        .select()
        .from(conflicts)
        .where(and(...conditions))
        .orderBy(desc(conflicts.detectedAt))
        .limit(1_000);
      return rows.map(toConflict);
    },
    async get(id: string): Promise<Conflict | null> {
      const [row] = await db.select().from(conflicts).where(eq(conflicts.id, id));
      return row ? toConflict(row) : null;
    },
    /** Records a conflict a run met, or finds the open one for the same path. */
    async recordDetected(input: {
      pairId: string;
      runId: string;
      path: string;
      source: EntryMetadata | null;
      destination: EntryMetadata | null;
    }): Promise<DetectedConflict> {
      for (let attempt = 0; ; attempt += 1) {
        const open = await findOpen(input.pairId, input.path);
        if (open) {
          if (open.status === 'resolved' && open.resolution && open.resolution !== 'skip') {
            return {
              conflict: toConflict(open),
              isNew: false,
              decision: open.resolution as DetectedConflict['decision'],
            };
          }
          const [row] = await db
            .update(conflicts)
            .set({ runId: input.runId, source: asJson(input.source), destination: asJson(input.destination) })
            .where(eq(conflicts.id, open.id))
            .returning();
          return { conflict: toConflict(row!), isNew: false, decision: null };
        }
        try {
          const [row] = await db
            .insert(conflicts)
            .values({
              pairId: input.pairId,
              runId: input.runId,
              path: input.path,
              source: asJson(input.source),
              destination: asJson(input.destination),
              status: 'pending',
            })
            .returning();
          return { conflict: toConflict(row!), isNew: true, decision: null };
        } catch (error) {
          // Another run recorded the same path at the same moment: read theirs.
          if (attempt === 0 && isUniqueViolation(error, 'conflicts_one_open_per_path')) continue;
          throw error;
        }
      }
    },
    /**
     * Records a decision on an open conflict. `skip` keeps it pending (SPEC §6). Returns
     * null when there is no open conflict with that id.
     */
    async resolve(id: string, resolution: ConflictResolution, resolvedBy: string): Promise<Conflict | null> {
      const [row] = await db
        .update(conflicts)
        .set({
          status: resolution === 'skip' ? 'pending' : 'resolved',
          resolution,
          resolvedBy,
          resolvedAt: new Date(),
        })
        .where(and(eq(conflicts.id, id), isNull(conflicts.appliedAt), eq(conflicts.status, 'pending')))
        .returning();
      return row ? toConflict(row) : null;
    },
    /** The decision has been carried out by `runId`; `outcome` says what it did. */
    async markApplied(id: string, runId: string, outcome?: string): Promise<Conflict | null> {
      const [row] = await db
        .update(conflicts)
        .set({ appliedAt: new Date(), appliedRunId: runId, ...(outcome !== undefined ? { outcome } : {}) })
        .where(and(eq(conflicts.id, id), eq(conflicts.status, 'resolved')))
        .returning();
      return row ? toConflict(row) : null;
    },
    /** The pair's decided conflicts that no run has carried out yet, oldest decision first. */
    async listUnappliedDecisions(pairId: string): Promise<Conflict[]> {
      const rows = await db
        .select()
        .from(conflicts)
        .where(
          and(eq(conflicts.pairId, pairId), eq(conflicts.status, 'resolved'), isNull(conflicts.appliedAt)),
        )
        .orderBy(asc(conflicts.resolvedAt))
        .limit(1_000);
      return rows.map(toConflict).filter((conflict) => conflict.resolution && conflict.resolution !== 'skip');
    },
    /** Decisions on the pair's conflicts that no run has applied yet. */
    async countUnappliedDecisions(pairId: string): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(conflicts)
        .where(
          and(eq(conflicts.pairId, pairId), eq(conflicts.status, 'resolved'), isNull(conflicts.appliedAt)),
        );
      return row?.n ?? 0;
    },
    async countPending(): Promise<number> {
      const [row] = await db.select({ n: count() }).from(conflicts).where(eq(conflicts.status, 'pending'));
      return row?.n ?? 0;
    },
  };
}
export type ConflictRepo = ReturnType<typeof createConflictRepo>;
