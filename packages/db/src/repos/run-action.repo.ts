import type { ActionType, Change, RunAction, RunActionPage, RunActionStatus } from '@syncengine/contracts';
import { and, asc, desc, eq, gt, ilike, inArray, ne, type SQL } from 'drizzle-orm';
import type { Database } from '../database.js';
import { runActions, runs } from '../schema/index.js';
import { iso } from './errors.js';

export interface NewRunAction {
  type: ActionType;
  path: string;
  to: string | null;
  /** The action is on a folder. */
  isDir: boolean;
  reason: string;
  bytes: number;
  status: RunActionStatus;
  error: string | null;
}

type Row = typeof runActions.$inferSelect;
const toAction = (row: Row): RunAction => ({
  id: String(row.id),
  runId: row.runId,
  type: row.type as ActionType,
  path: row.path,
  to: row.toPath,
  isDir: row.isDir,
  reason: row.reason,
  bytes: row.bytes,
  status: row.status as RunActionStatus,
  error: row.error,
  at: iso(row.at),
});

/** Which of a run's actions to list; every filter given must match. */
export interface RunActionFilter {
  /** Any of these types. */
  types?: ActionType[] | undefined;
  /** Any of these statuses. */
  statuses?: RunActionStatus[] | undefined;
  /** Paths containing this text, ignoring case. */
  pathContains?: string | undefined;
}

/** `text` as a LIKE pattern that matches it literally, anywhere. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** Rows per insert statement (10 parameters a row stays far below Postgres' 65 535). */
const INSERT_BATCH = 1_000;

export function createRunActionRepo(db: Database) {
  return {
    async insertMany(runId: string, actions: NewRunAction[]): Promise<RunAction[]> {
      const inserted: RunAction[] = [];
      for (let start = 0; start < actions.length; start += INSERT_BATCH) {
        const rows = await db
          .insert(runActions)
          .values(
            actions.slice(start, start + INSERT_BATCH).map((action) => ({
              runId,
              type: action.type,
              path: action.path,
              toPath: action.to,
              isDir: action.isDir,
              reason: action.reason,
              bytes: action.bytes,
              status: action.status,
              error: action.error,
            })),
          )
          .returning();
        inserted.push(...rows.map(toAction));
      }
      return inserted;
    },
    /**
     * The newest changes of every pair: actions that runs carried out or that failed (not
     * the planned actions of dry runs), newest first.
     */
    async listRecentChanges(limit: number): Promise<Change[]> {
      const rows = await db
        .select({ action: runActions, pairId: runs.pairId })
        .from(runActions)
        .innerJoin(runs, eq(runs.id, runActions.runId))
        .where(and(ne(runActions.status, 'planned'), eq(runs.dryRun, false)))
        .orderBy(desc(runActions.id))
        .limit(limit);
      return rows.map((row) => ({ ...toAction(row.action), pairId: row.pairId }));
    },
    async page(
      runId: string,
      cursor: string | undefined,
      limit: number,
      filter: RunActionFilter = {},
    ): Promise<RunActionPage> {
      const conditions: SQL[] = [eq(runActions.runId, runId)];
      if (cursor !== undefined) conditions.push(gt(runActions.id, Number(cursor)));
      if (filter.types?.length) conditions.push(inArray(runActions.type, filter.types));
      if (filter.statuses?.length) conditions.push(inArray(runActions.status, filter.statuses));
      if (filter.pathContains) conditions.push(ilike(runActions.path, containsPattern(filter.pathContains)));
      const rows = await db
        .select()
        .from(runActions)
        .where(and(...conditions))
        .orderBy(asc(runActions.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit).map(toAction);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },
  };
}
export type RunActionRepo = ReturnType<typeof createRunActionRepo>;
