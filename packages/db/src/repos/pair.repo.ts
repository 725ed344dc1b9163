import type {
  CreatePair,
  Pair,
  RunStatus,
  RunSummary,
  SideTotals,
  UpdatePair,
  WatchSettings,
} from '@syncengine/contracts';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../database.js';
import { pairMetadata, pairStateCounts, pairs, runs } from '../schema/index.js';
import { iso, isoOrNull } from './errors.js';

/** A location as stored: its typed config, with secret fields as the server stored them. */
export type StoredLocation = { type: string } & Record<string, unknown>;

/** A pair as stored; the server redacts locations and adds `nextRunAt` before answering. */
export type PairRecord = Omit<Pair, 'source' | 'destination' | 'nextRunAt'> & {
  source: StoredLocation;
  destination: StoredLocation;
};

export type NewPairRecord = Omit<CreatePair, 'source' | 'destination'> & {
  source: StoredLocation;
  destination: StoredLocation;
};

export type PairPatch = Omit<UpdatePair, 'source' | 'destination' | 'concurrency' | 'watch'> & {
  source?: StoredLocation;
  destination?: StoredLocation;
  concurrency?: { transfers: number; operations: number };
  watch?: WatchSettings;
};

type PairRow = typeof pairs.$inferSelect;

const watchColumns = (watch: WatchSettings) => ({
  watchEnabled: watch.enabled,
  watchDebounceMs: watch.debounceMs,
  watchRescanMinutes: watch.rescanMinutes,
  watchPollSeconds: watch.pollSeconds,
});

const toRecord = (row: PairRow, lastRun: RunSummary | null): PairRecord => ({
  id: row.id,
  name: row.name,
  source: row.source as StoredLocation,
  destination: row.destination as StoredLocation,
  mode: row.mode as Pair['mode'],
  comparisonMode: row.comparisonMode as Pair['comparisonMode'],
  conflictResolution: row.conflictResolution as Pair['conflictResolution'],
  ignorePatterns: row.ignorePatterns,
  concurrency: { transfers: row.transfers, operations: row.operations },
  maxDeletePercent: row.maxDeletePercent,
  bandwidthLimit: row.bandwidthLimit,
  schedule: row.schedule,
  enabled: row.enabled,
  watch: {
    enabled: row.watchEnabled,
    debounceMs: row.watchDebounceMs,
    rescanMinutes: row.watchRescanMinutes,
    pollSeconds: row.watchPollSeconds,
  },
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
  lastRun,
});

type LastRunRow = { id: string; status: string; queuedAt: Date; finishedAt: Date | null } | null;

const toSummary = (row: LastRunRow): RunSummary | null =>
  row
    ? {
        id: row.id,
        status: row.status as RunStatus,
        queuedAt: iso(row.queuedAt),
        finishedAt: isoOrNull(row.finishedAt),
      }
    : null;

export function createPairRepo(db: Database) {
  /**
   * Pairs with their latest run, in one query: a lateral join reads one row per pair from
   * the `(pair_id, queued_at)` index, however many runs a pair has.
   */
  function selectWithLastRun() {
    const lastRun = db
      .select({
        id: runs.id,
        status: runs.status,
        queuedAt: runs.queuedAt,
        finishedAt: runs.finishedAt,
      })
      .from(runs)
      .where(eq(runs.pairId, pairs.id))
      .orderBy(desc(runs.queuedAt))
      .limit(1)
      .as('last_run');
    return db
      .select({
        pair: pairs,
        lastRun: {
          id: lastRun.id,
          status: lastRun.status,
          queuedAt: lastRun.queuedAt,
          finishedAt: lastRun.finishedAt,
        },
      })
      .from(pairs)
      .leftJoinLateral(lastRun, sql`true`);
  }

  return {
    async list(): Promise<PairRecord[]> {
      const rows = await selectWithLastRun().orderBy(asc(pairs.createdAt), asc(pairs.id));
      return rows.map((row) => toRecord(row.pair, toSummary(row.lastRun)));
    },
    async get(id: string): Promise<PairRecord | null> {
      const [row] = await selectWithLastRun().where(eq(pairs.id, id));
      return row ? toRecord(row.pair, toSummary(row.lastRun)) : null;
    },
    /** Enabled pairs with watching on: the pairs some process must watch. */
    async listWatched(): Promise<PairRecord[]> {
      const rows = await db
        .select()
        .from(pairs)
        .where(and(eq(pairs.enabled, true), eq(pairs.watchEnabled, true)));
      return rows.map((row) => toRecord(row, null));
    },
    async listScheduled(): Promise<PairRecord[]> {
      const rows = await db.select().from(pairs);
      return rows.filter((row) => row.schedule && row.enabled).map((row) => toRecord(row, null));
    },
    async create(input: NewPairRecord): Promise<PairRecord> {
      const [row] = await db
        .insert(pairs)
        .values({
          name: input.name,
          source: input.source,
          destination: input.destination,
          mode: input.mode,
          comparisonMode: input.comparisonMode,
          conflictResolution: input.conflictResolution,
          ignorePatterns: input.ignorePatterns,
          transfers: input.concurrency.transfers,
          operations: input.concurrency.operations,
          maxDeletePercent: input.maxDeletePercent,
          bandwidthLimit: input.bandwidthLimit,
          schedule: input.schedule,
          enabled: input.enabled,
          ...watchColumns(input.watch),
        })
        .returning();
      return toRecord(row!, null);
    },
    async update(id: string, patch: PairPatch): Promise<PairRecord | null> {
      const { concurrency, watch, ...rest } = patch;
      const [row] = await db
        .update(pairs)
        .set({
          ...rest,
          ...(concurrency ? { transfers: concurrency.transfers, operations: concurrency.operations } : {}),
          ...(watch ? watchColumns(watch) : {}),
          updatedAt: new Date(),
        })
        .where(eq(pairs.id, id))
        .returning();
      if (!row) return null;
      const [last] = await db
        .select({
          id: runs.id,
          status: runs.status,
          queuedAt: runs.queuedAt,
          finishedAt: runs.finishedAt,
        })
        .from(runs)
        .where(eq(runs.pairId, id))
        .orderBy(desc(runs.queuedAt))
        .limit(1);
      return toRecord(row, toSummary(last ?? null));
    },
    /**
     * Files, folders and bytes per side in the pair's last-known state (what its last run
     * left); null before the pair has any state.
     */
    async stateTotals(id: string): Promise<{ source: SideTotals; destination: SideTotals } | null> {
      const [meta] = await db
        .select({ hasState: pairMetadata.hasState })
        .from(pairMetadata)
        .where(eq(pairMetadata.pairId, id));
      if (!meta?.hasState) return null;
      // Kept by triggers on every write of the state: no count of the pair's rows.
      const rows = await db
        .select({
          side: pairStateCounts.side,
          entries: pairStateCounts.entries,
          files: pairStateCounts.files,
          bytes: pairStateCounts.bytes,
        })
        .from(pairStateCounts)
        .where(eq(pairStateCounts.pairId, id));
      const totals = {
        source: { files: 0, folders: 0, bytes: 0 },
        destination: { files: 0, folders: 0, bytes: 0 },
      };
      for (const row of rows) {
        totals[row.side] = {
          files: Number(row.files),
          folders: Number(row.entries) - Number(row.files),
          bytes: Number(row.bytes),
        };
      }
      return totals;
    },
    /** Deletes the pair with its state, runs and conflicts; returns whether it existed. */
    async delete(id: string): Promise<boolean> {
      const rows = await db.delete(pairs).where(eq(pairs.id, id)).returning({ id: pairs.id });
      return rows.length > 0;
    },
  };
}
export type PairRepo = ReturnType<typeof createPairRepo>;
