import type { Location } from '@syncengine/contracts';
import { type PairRepo, PostgresStateStore } from '@syncengine/db';
import type { Storage } from '@syncengine/engine';
import { confineOpening, type PathGuard } from '@syncengine/locations';
import { type JobHandlers, UnrecoverableJobError } from './job-queue.js';
import { checkPairConfig } from './pair-check.js';
import { createPlanPreviewHandler } from './preview.js';
import { failRunsOfFailedJobs } from './run-failure.js';
import { createSyncRunJob, openPairSide, type SyncRunJobDeps } from './sync-run-job.js';
import { createVersionRestoreHandler } from './versions.js';
import type { WatchLeases } from './watch-leases.js';
import { createWatchService, type WatchServiceDeps } from './watch-service.js';

/** Called around each `sync-run` job this process executes, once its pre-run check passed. */
export interface RunHooks {
  onRunStart?(run: { runId: string; pairId: string; startedAt: number }): void;
  onRunStop?(run: { runId: string; pairId: string; startedAt: number; stoppedAt: number }): void;
}

/** What the job handlers need: the sync-run job's parts, the path confinement and hooks. */
export interface JobHandlerDeps extends Omit<SyncRunJobDeps, 'openStorage' | 'runs'> {
  pairs: Pick<PairRepo, 'get'>;
  runs: SyncRunJobDeps['runs'] & Parameters<typeof failRunsOfFailedJobs>[0]['runs'];
  /** The confinement of local paths, checked before a run and at every storage opening. */
  paths: PathGuard;
  /** Opens a location; every location is confined by `paths` before it gets here. */
  openStorage(location: Location): Promise<Storage>;
  hooks?: RunHooks;
  /**
   * Where this process also watches the watched pairs (SPEC §12): its name in the leases
   * (`server` in the embedded mode, else the worker's), the leases it shares with the other
   * processes, and how long a lease lasts unrenewed.
   */
  watch?: {
    holder: string;
    leases: WatchLeases;
    leaseMs: number;
    pairs: WatchServiceDeps['pairs'];
    log: WatchServiceDeps['log'];
    localWatcher?: WatchServiceDeps['localWatcher'];
  };
}

/**
 * The handlers of the jobs that run syncs (`sync-run`, `scheduled-sync`,
 * `version-restore`) and of the previews (`plan-preview`), built the same way for the
 * embedded server and the workers, so a run or a preview happens in one place whatever
 * consumes its job; a preview opens its storages confined as a run's are. A `sync-run` whose pair this process
 * cannot run as configured (a location that does not decrypt, a local path the confinement
 * refuses) fails at once without retries; `onFailed` then records the reason on its run.
 */
export function createJobHandlers(deps: JobHandlerDeps) {
  const openStorage = confineOpening(deps.paths, deps.openStorage);
  const syncRun = createSyncRunJob({ ...deps, openStorage });
  const handlers: JobHandlers = {
    'sync-run': async (payload, context) => {
      const pair = await deps.pairs.get(payload.pairId);
      const checked = pair ? await checkPairConfig(pair, deps) : null;
      if (checked?.problem) throw new UnrecoverableJobError(`invalid pair configuration: ${checked.problem}`);
      const run = { runId: payload.runId, pairId: payload.pairId, startedAt: Date.now() };
      deps.hooks?.onRunStart?.(run);
      try {
        await syncRun.execute(
          payload,
          context,
          pair && checked?.locations ? { pair, locations: checked.locations } : null,
        );
      } finally {
        deps.hooks?.onRunStop?.({ ...run, stoppedAt: Date.now() });
      }
    },
    'scheduled-sync': async ({ pairId }) => {
      const pair = await deps.pairs.get(pairId);
      if (pair?.enabled) await deps.launcher.launch(pairId, { trigger: 'schedule' });
    },
    'version-restore': createVersionRestoreHandler({ ...deps, openStorage }),
    'plan-preview': createPlanPreviewHandler({
      db: deps.db,
      pairs: deps.pairs,
      secrets: deps.secrets,
      openStorage,
      previewSync: deps.engine.previewSync,
    }),
  };
  const { watch } = deps;
  // A watch's runs are the jobs above: its storages open the way theirs do.
  const watches = watch
    ? createWatchService({
        ...watch,
        runs: deps.runs,
        launcher: deps.launcher,
        bus: deps.bus,
        openSide: (pair, side) => openPairSide({ openStorage }, deps.secrets.open(pair[side]), side),
        lastKnown: (pairId, side, paths) => new PostgresStateStore(deps.db, pairId).loadEntries(side, paths),
      })
    : null;
  return {
    handlers,
    /** The watches of watched pairs, when this process watches them (`start()` them once it takes jobs). */
    watches,
    /** For the queue consumer: a `sync-run` job that failed for good fails its run. */
    onFailed: failRunsOfFailedJobs(deps),
    /** Runs executing in this process. */
    liveRunIds: () => syncRun.liveRunIds(),
    /** Stops listening for run control and cancels the runs executing here. */
    close: () => syncRun.close(),
  };
}
export type JobHandlerSet = ReturnType<typeof createJobHandlers>;
