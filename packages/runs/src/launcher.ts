import { CHANGED_PATHS_LIMIT, type RunTrigger } from '@syncengine/contracts';
import { type RunRecord, type RunRepo, toPublicRun } from '@syncengine/db';
import type { EventBus } from './bus.js';
import type { JobQueue } from './job-queue.js';

export type LaunchResult =
  | { run: RunRecord; activeRun?: undefined }
  | { run?: undefined; activeRun: RunRecord | null };

/**
 * Creates a queued run and enqueues its job. At most one run per pair is active at a time
 * (the database enforces it); when one is, nothing is created and the active run is
 * returned instead.
 */
export function createRunLauncher(deps: {
  runs: Pick<RunRepo, 'createQueued' | 'activeForPair' | 'transition'>;
  queue: Pick<JobQueue, 'enqueue'>;
  bus: Pick<EventBus, 'publish'>;
}) {
  return {
    /**
     * `changedPaths` (a watch's run): the run lists and plans only these paths; more than
     * `CHANGED_PATHS_LIMIT` of them make it a full run.
     */
    async launch(
      pairId: string,
      options: { trigger: RunTrigger; dryRun?: boolean; force?: boolean; changedPaths?: readonly string[] },
    ): Promise<LaunchResult> {
      // The common refusal is answered without a failing insert; the insert still decides races.
      const active = await deps.runs.activeForPair(pairId);
      if (active) return { activeRun: active };
      const run = await deps.runs.createQueued({
        pairId,
        trigger: options.trigger,
        dryRun: options.dryRun ?? false,
        force: options.force ?? false,
      });
      if (!run) return { activeRun: await deps.runs.activeForPair(pairId) };
      await deps.bus.publish({ type: 'run.queued', run: toPublicRun(run) });
      try {
        const changedPaths =
          options.changedPaths && options.changedPaths.length <= CHANGED_PATHS_LIMIT
            ? { changedPaths: [...options.changedPaths] }
            : {};
        await deps.queue.enqueue('sync-run', { runId: run.id, pairId, ...changedPaths }, { jobId: run.id });
      } catch (error) {
        // Without a job the run would hold its pair forever: fail it, visibly.
        const message = `could not enqueue the run: ${error instanceof Error ? error.message : String(error)}`;
        const failed = await deps.runs.transition(run.id, ['queued'], 'failed', {
          finishedAt: new Date(),
          error: message,
        });
        if (failed) await deps.bus.publish({ type: 'run.failed', run: toPublicRun(failed) });
        throw error;
      }
      return { run };
    },
  };
}
export type RunLauncher = ReturnType<typeof createRunLauncher>;
