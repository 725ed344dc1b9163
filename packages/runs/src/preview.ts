import type { Location, PlanPreview } from '@syncengine/contracts';
import type { Database } from '@syncengine/db';
import { type PairRecord, PostgresStateStore } from '@syncengine/db';
import type { Plan, Storage, SyncOptions } from '@syncengine/engine';
import type { SecretBox } from '@syncengine/secrets';
import { openPairSide, pairSyncConfig } from './sync-run-job.js';

/**
 * What a run of the pair would do now: scans both sides and plans against the last-known
 * state, changing nothing.
 */
export async function previewPlan(
  deps: {
    db: Database;
    secrets: Pick<SecretBox, 'open'>;
    openStorage(location: Location): Promise<Storage>;
    previewSync(options: SyncOptions): Promise<Plan>;
  },
  pair: PairRecord,
): Promise<PlanPreview> {
  const storages: Storage[] = [];
  try {
    const source = await openPairSide(deps, deps.secrets.open(pair.source), 'source');
    storages.push(source);
    const destination = await openPairSide(deps, deps.secrets.open(pair.destination), 'destination');
    storages.push(destination);
    const plan = await deps.previewSync({
      source,
      destination,
      state: new PostgresStateStore(deps.db, pair.id),
      config: pairSyncConfig(pair, { dryRun: true, force: false }),
    });
    return {
      pairId: pair.id,
      isFirstSync: plan.isFirstSync,
      actions: plan.actions.map((action) => ({
        type: action.type,
        path: action.path,
        to: action.to ?? null,
        reason: action.reason,
        bytes: action.bytes,
        isDir: action.isDir ?? false,
      })),
      totals: plan.totals,
      warnings: plan.warnings,
    };
  } finally {
    for (const storage of storages) await storage.close?.().catch(() => {});
  }
}
