import type { Conflict, Run, RunProgress, RunStats, RunStatus, RunTrigger } from '@syncengine/contracts';
import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../database.js';
import { runs } from '../schema/index.js';
import { closeUnseenConflicts, conflictRowFromJson, toConflict } from './conflict-rows.js';
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

const dateOrNull = (value: unknown): Date | null => (typeof value === 'string' ? new Date(value) : null);

/** A `runs` row as `to_jsonb` writes it (snake_case keys, timestamps as ISO text). */
const runRowFromJson = (json: Record<string, unknown>): RunRow => ({
  id: json.id as string,
  pairId: json.pair_id as string,
  status: json.status as string,
  trigger: json.trigger as string,
  dryRun: json.dry_run as boolean,
  force: json.force as boolean,
  queuedAt: new Date(json.queued_at as string),
  startedAt: dateOrNull(json.started_at),
  finishedAt: dateOrNull(json.finished_at),
  stats: (json.stats as Record<string, unknown> | null) ?? null,
  error: (json.error as string | null) ?? null,
  progress: (json.progress as Record<string, unknown> | null) ?? null,
});

/** A JSON value as either driver answers it (node-postgres parses it, a text value is parsed here). */
const parsedJson = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/** What a transition sets besides the status. */
export interface TransitionFields {
  startedAt?: Date;
  finishedAt?: Date;
  stats?: RunStats;
  error?: string | null;
  progress?: RunProgress;
}

/** Strips executor-only fields for API answers. */
export const toPublicRun = ({ force: _force, ...run }: RunRecord): Run => run;

const ACTIVE: RunStatus[] = ['queued', 'running', 'paused'];

export function createRunRepo(db: Database) {
  const update = (id: string, from: RunStatus[], to: RunStatus, fields: TransitionFields) =>
    db
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
      fields: TransitionFields = {},
    ): Promise<RunRecord | null> {
      const [row] = await update(id, from, to, fields);
      return row ? toRun(row) : null;
    },
    /**
     * A complete run's end: closes the pair's open conflicts the run no longer met (as
     * `conflicts.closeUnseen` does) and moves the run as `transition` does, in one
     * statement. The conflicts are closed even when the run was no longer in one of `from`.
     */
    async transitionClosingUnseen(
      id: string,
      from: RunStatus[],
      to: RunStatus,
      fields: TransitionFields & { finishedAt: Date },
      unseen: { pairId: string; seenPaths: string[] },
    ): Promise<{ run: RunRecord | null; closed: Conflict[] }> {
      const closing = closeUnseenConflicts(db, { ...unseen, runId: id, at: fields.finishedAt });
      const result = await db.execute(sql`
        with closed as (${closing.getSQL()}), finished as (${update(id, from, to, fields).getSQL()})
        select (select to_jsonb(finished) from finished) as run,
          (select coalesce(jsonb_agg(to_jsonb(closed)), '[]'::jsonb) from closed) as closed`);
      const [row] = (result as unknown as { rows: Array<{ run: unknown; closed: unknown }> }).rows;
      const run = parsedJson(row?.run) as Record<string, unknown> | null;
      const closed = (parsedJson(row?.closed) ?? []) as Array<Record<string, unknown>>;
      return {
        run: run ? toRun(runRowFromJson(run)) : null,
        closed: closed.map((json) => toConflict(conflictRowFromJson(json))),
      };
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
