import type { JobPayload, Location, PlanPreview, PlanPreviewAnswer } from '@syncengine/contracts';
import type { Database, PairRepo } from '@syncengine/db';
import { type PairRecord, PostgresStateStore } from '@syncengine/db';
import { isSyncError, type Plan, type Storage, SyncController, type SyncOptions } from '@syncengine/engine';
import { PathNotAllowedError } from '@syncengine/locations';
import type { SecretBox } from '@syncengine/secrets';
import { pairSyncConfig } from './pair-sync-config.js';
import { openPairSide } from './sync-run-job.js';

/** What a preview reads with: the pair's state, its credentials, its storages and the engine. */
export interface PreviewDeps {
  db: Database;
  secrets: Pick<SecretBox, 'open'>;
  /** Opens a location; confined like a run's openings. */
  openStorage(location: Location): Promise<Storage>;
  previewSync(options: SyncOptions): Promise<Plan>;
}

/**
 * What a run of the pair would do now: scans both sides and plans against the last-known
 * state, changing nothing. Once `signal` aborts, the scans stop and the preview rejects with
 * its reason (a plan cut short would read as fewer changes than there are).
 */
export async function previewPlan(
  deps: PreviewDeps,
  pair: PairRecord,
  signal?: AbortSignal,
): Promise<PlanPreview> {
  const storages: Storage[] = [];
  const controller = new SyncController();
  const stop = () => controller.cancel();
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
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
      controller,
    });
    signal?.throwIfAborted();
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
    signal?.removeEventListener('abort', stop);
    for (const storage of storages) await storage.close?.().catch(() => {});
  }
}

/**
 * The `plan-preview` job: plans the pair as it is stored now. A pair the engine refuses
 * (a side that cannot be opened or listed) or whose local path is outside the allowed
 * roots is answered with the problem, so the API reports it as it would a run's; anything
 * else fails the job. With `changesLimit`, only the actions that change something travel
 * back, at most that many. A preview still going when its time is up stops and fails: its
 * caller has stopped waiting.
 */
export function createPlanPreviewHandler(deps: PreviewDeps & { pairs: Pick<PairRepo, 'get'> }) {
  return async (
    { pairId, changesLimit }: JobPayload<'plan-preview'>,
    context: { signal: AbortSignal },
  ): Promise<PlanPreviewAnswer> => {
    const pair = await deps.pairs.get(pairId);
    if (!pair) return { isPlanned: false, cause: 'sync', problem: 'the pair no longer exists' };
    let plan: PlanPreview;
    try {
      plan = await previewPlan(deps, pair, context.signal);
    } catch (error) {
      if (isSyncError(error)) return { isPlanned: false, cause: 'sync', problem: error.message };
      if (error instanceof PathNotAllowedError) {
        return {
          isPlanned: false,
          cause: 'path',
          problem: error.message,
          ...(error.field ? { field: error.field } : {}),
        };
      }
      throw error;
    }
    const changes = plan.actions.filter((action) => action.type !== 'NO_ACTION');
    return {
      isPlanned: true,
      changeCount: changes.length,
      plan: changesLimit === undefined ? plan : { ...plan, actions: changes.slice(0, changesLimit) },
    };
  };
}
