import type { Run, RunProgress, RunStats, RunStatus, RunTrigger } from '@syncengine/contracts';
import { and, count, desc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../database.js';
import { runs } from '../schema/index.js';
import { iso, isoOrNull, isUniqueViolation } from './errors.js';

type RunRow = typeof runs.$inferSelect;

/** A run row with the settings only the executor needs. */
export type RunRecord = Run & { force: boolean };

const toRun = (row: RunRow): RunRecord => ({
  id: row.id,
  pairId: row.pairId,
  status: row.status as RunStatus,
  trigger: row.trigger as RunTrigger,
  dryRun: row.dryRun,
  force: row.force,
  queuedAt: iso(row.queuedAt),
  startedAt: isoOrNull(row.startedAt),
  finishedAt: isoOrNull(row.finishedAt),
  stats: (row.stats as RunStats | null) ?? null,
  error: row.error,
  progress: (row.progress as RunProgress | null) ?? null,
});

/** Strips executor-only fields for API answers. */
export const toPublicRun = ({ force: _force, ...run }: RunRecord): Run => run;

const ACTIVE: RunStatus[] = ['queued', 'running', 'paused'];

export function createRunRepo(db: Database) {
  return {
    /**
     * Inserts a queued run, or returns null when the pair already has an active run (the
     * database's partial unique index decides, so racing triggers cannot both win).
     */
    async createQueued(input: {
      pairId: string;
      trigger: RunTrigger;
      dryRun: boolean;
      force: boolean;
    }): Promise<RunRecord | null> {
      try {
        const [row] = await db
          .insert(runs)
          .values({ ...input, status: 'queued' })
          .returning();
        return toRun(row!);
      } catch (error) {
        if (isUniqueViolation(error, 'runs_one_active_per_pair')) return null;
        throw error;
      }
    },
    async get(id: string): Promise<RunRecord | null> {
      const [row] = await db.select().from(runs).where(eq(runs.id, id));
      return row ? toRun(row) : null;
    },
    async listByPair(pairId: string, limit = 100): Promise<RunRecord[]> {
      const rows = await db
        .select()
        .from(runs)
        .where(eq(runs.pairId, pairId))
        .orderBy(desc(runs.queuedAt))
        .limit(limit);
      return rows.map(toRun);
    },
    /** The newest runs of every pair. */
    async listRecent(limit: number): Promise<RunRecord[]> {
      const rows = await db.select().from(runs).orderBy(desc(runs.queuedAt)).limit(limit);
      return rows.map(toRun);
    },
    async listActive(): Promise<RunRecord[]> {
      const rows = await db.select().from(runs).where(inArray(runs.status, ACTIVE)).orderBy(runs.queuedAt);
      return rows.map(toRun);
    },
    async activeForPair(pairId: string): Promise<RunRecord | null> {
      const [row] = await db
        .select()
        .from(runs)
        .where(and(eq(runs.pairId, pairId), inArray(runs.status, ACTIVE)));
      return row ? toRun(row) : null;
    },
    /**
     * Moves a run from one of `from` to `to` (with its last progress, at its end); returns
     * the updated run, or null when it was not in one of those statuses (someone else moved
     * it first).
     */
    async transition(
      id: string,
      from: RunStatus[],
      to: RunStatus,
      fields: {
        startedAt?: Date;
        finishedAt?: Date;
        stats?: RunStats;
        error?: string | null;
        progress?: RunProgress;
      } = {},
    ): Promise<RunRecord | null> {
      const [row] = await db
        .update(runs)
        .set({
          status: to,
          ...(fields.startedAt ? { startedAt: fields.startedAt } : {}),
          ...(fields.finishedAt ? { finishedAt: fields.finishedAt } : {}),
          ...(fields.stats ? { stats: fields.stats as unknown as Record<string, unknown> } : {}),
          ...(fields.error !== undefined ? { error: fields.error } : {}),
          ...(fields.progress ? { progress: fields.progress as unknown as Record<string, unknown> } : {}),
        })
        .where(and(eq(runs.id, id), inArray(runs.status, from)))
        .returning();
      return row ? toRun(row) : null;
    },
    async setProgress(id: string, progress: RunProgress): Promise<void> {
      await db
        .update(runs)
        .set({ progress: progress as unknown as Record<string, unknown> })
        .where(eq(runs.id, id));
    },
    /** Number of runs per status, for metrics. */
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await db.select({ status: runs.status, n: count() }).from(runs).groupBy(runs.status);
      return Object.fromEntries(rows.map((row) => [row.status, row.n]));
    },
  };
}
export type RunRepo = ReturnType<typeof createRunRepo>;
