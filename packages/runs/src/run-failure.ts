import type { JobPayload } from '@syncengine/contracts';
import { type RunRepo, toPublicRun } from '@syncengine/db';
import { scrubbedMessage } from '@syncengine/engine';
import type { EventBus } from './bus.js';
import type { JobFailure } from './job-queue.js';

/**
 * The `onFailed` of a queue consumer that executes sync runs: when a `sync-run` job has
 * failed for good (retries used up, invalid pair configuration, a worker dying twice on it),
 * its run is failed with the job's error, so the reason is on the run and the run no longer
 * holds its pair. Runs that already ended are left as they are.
 */
export function failRunsOfFailedJobs(deps: {
  runs: Pick<RunRepo, 'transition'>;
  bus: Pick<EventBus, 'publish'>;
}): (failure: JobFailure) => Promise<void> {
  return async ({ name, payload, error }) => {
    if (name !== 'sync-run' || payload === null) return;
    const { runId } = payload as JobPayload<'sync-run'>;
    const failed = await deps.runs.transition(runId, ['queued', 'running', 'paused'], 'failed', {
      finishedAt: new Date(),
      error: scrubbedMessage(error),
    });
    if (failed) await deps.bus.publish({ type: 'run.failed', run: toPublicRun(failed) });
  };
}
