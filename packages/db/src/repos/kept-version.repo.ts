import type { Side, VersionReason } from '@syncengine/contracts';
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../database.js';
import { keptVersions } from '../schema/index.js';

/** Why one file of a side's versions area was kept. */
export interface KeptVersionRecord {
  side: Side;
  versionPath: string;
  path: string;
  reason: Exclude<VersionReason, 'unknown'>;
  runId: string | null;
}

/** Rows per insert statement. */
const INSERT_BATCH = 1_000;

export function createKeptVersionRepo(db: Database) {
  return {
    /** Records versions; one recorded already (the same file) keeps its first record. */
    async recordMany(pairId: string, records: KeptVersionRecord[]): Promise<void> {
      for (let start = 0; start < records.length; start += INSERT_BATCH) {
        await db
          .insert(keptVersions)
          .values(records.slice(start, start + INSERT_BATCH).map((record) => ({ pairId, ...record })))
          .onConflictDoNothing();
      }
    },
    /** The records of a pair's versions on the given sides, by `side` and `versionPath`. */
    async forPair(pairId: string, sides: Side[]): Promise<Map<string, KeptVersionRecord>> {
      const rows = await db
        .select()
        .from(keptVersions)
        .where(and(eq(keptVersions.pairId, pairId), inArray(keptVersions.side, sides)));
      return new Map(
        rows.map((row) => [
          keptVersionKey(row.side as Side, row.versionPath),
          {
            side: row.side as Side,
            versionPath: row.versionPath,
            path: row.path,
            reason: row.reason as KeptVersionRecord['reason'],
            runId: row.runId,
          },
        ]),
      );
    },
  };
}
export type KeptVersionRepo = ReturnType<typeof createKeptVersionRepo>;

/** The key of `forPair`'s map. */
export const keptVersionKey = (side: Side, versionPath: string) => `${side}\u0000${versionPath}`;
