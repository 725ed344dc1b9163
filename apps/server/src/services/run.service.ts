import {
  type Change,
  type CreateRun,
  type PlanPreview,
  type PlanPreviewAnswer,
  type Run,
  type RunActionPage,
  type RunActionQuery,
  TERMINAL_RUN_STATUSES,
} from '@syncengine/contracts';
import { type PairRecord, type RunActionRepo, type RunRepo, toPublicRun } from '@syncengine/db';
import { type EventBus, JobNotAnsweredError, type RunLauncher } from '@syncengine/runs';
import { AppError } from '../errors.js';

/** How often a caller waiting for a run's end reads it again. */
const WAIT_POLL_MS = 250;

export function createRunService(deps: {
  runs: Pick<RunRepo, 'get' | 'listByPair' | 'listRecent' | 'transition'>;
  runActions: Pick<RunActionRepo, 'page' | 'listRecentChanges'>;
  launcher: Pick<RunLauncher, 'launch'>;
  bus: Pick<EventBus, 'publish' | 'sendControl'>;
  getPair(id: string): Promise<PairRecord>;
  /** Asks a worker for the pair's whole dry-run plan (a `plan-preview` job) and waits for it. */
  previewPlan(pairId: string): Promise<PlanPreviewAnswer>;
}) {
  async function getRun(id: string) {
    const run = await deps.runs.get(id);
    if (!run) throw new AppError('NOT_FOUND', `no run with id ${id}`);
    return run;
  }

  return {
    /**
     * Queues a run. One run at a time per pair: while one is queued, running or paused,
     * another trigger is rejected with 409 (naming the active run) rather than queued.
     */
    async trigger(pairId: string, body: CreateRun): Promise<Run> {
      const pair = await deps.getPair(pairId);
      if (!pair.enabled && !body.dryRun)
        throw new AppError('CONFLICT', 'the pair is disabled; enable it to run it');
      const result = await deps.launcher.launch(pairId, {
        trigger: 'manual',
        dryRun: body.dryRun,
        force: body.force,
      });
      if (result.run) return toPublicRun(result.run);
      const active = result.activeRun;
      throw new AppError(
        'CONFLICT',
        active
          ? `the pair already has an active run (${active.id}, ${active.status}); wait for it to finish or cancel it`
          : 'the pair already has an active run',
      );
    },
    /**
     * The run once it has ended, or as it stands after `timeoutMs`. Reads the run from the
     * database, so it works the same whether the run executes here or on a worker.
     */
    async waitForEnd(id: string, timeoutMs: number): Promise<Run> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await getRun(id);
        if (TERMINAL_RUN_STATUSES.includes(run.status as Run['status']) || Date.now() >= deadline) {
          return toPublicRun(run);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, deadline - Date.now())));
      }
    },
    /** The newest runs across all pairs. */
    async listRecent(limit: number): Promise<Run[]> {
      return (await deps.runs.listRecent(limit)).map(toPublicRun);
    },
    /** The newest changes runs made across all pairs (files synced, deleted, conflicts). */
    async recentChanges(limit: number): Promise<Change[]> {
      return deps.runActions.listRecentChanges(limit);
    },
    async listByPair(pairId: string): Promise<Run[]> {
      await deps.getPair(pairId);
      return (await deps.runs.listByPair(pairId)).map(toPublicRun);
    },
    async get(id: string): Promise<Run> {
      return toPublicRun(await getRun(id));
    },
    /** A page of the run's action log, filtered by type, status and path (all optional). */
    async actions(id: string, query: RunActionQuery): Promise<RunActionPage> {
      await getRun(id);
      return deps.runActions.page(id, query.cursor, query.limit, {
        types: query.type,
        statuses: query.status,
        pathContains: query.path,
      });
    },
    /** Running operations finish, no new one starts; the run keeps its place. */
    async pause(id: string): Promise<Run> {
      const run = await getRun(id);
      if (run.status === 'paused') return toPublicRun(run);
      const paused = await deps.runs.transition(id, ['running'], 'paused');
      if (!paused)
        throw new AppError('CONFLICT', `only a running run can be paused; this one is ${run.status}`);
      await deps.bus.sendControl({ type: 'pause', runId: id });
      return toPublicRun(paused);
    },
    async resume(id: string): Promise<Run> {
      const run = await getRun(id);
      if (run.status === 'running') return toPublicRun(run);
      const resumed = await deps.runs.transition(id, ['paused'], 'running');
      if (!resumed)
        throw new AppError('CONFLICT', `only a paused run can be resumed; this one is ${run.status}`);
      await deps.bus.sendControl({ type: 'resume', runId: id });
      return toPublicRun(resumed);
    },
    /**
     * A queued run is cancelled at once. A running or paused one finishes its running
     * operations and then ends `cancelled` (watch `run.cancelled`).
     */
    async cancel(id: string): Promise<Run> {
      const run = await getRun(id);
      const cancelled = await deps.runs.transition(id, ['queued'], 'cancelled', { finishedAt: new Date() });
      if (cancelled) {
        await deps.bus.publish({ type: 'run.cancelled', run: toPublicRun(cancelled) });
        return toPublicRun(cancelled);
      }
      const current = await getRun(id);
      if (current.status !== 'running' && current.status !== 'paused') {
        throw new AppError(
          'CONFLICT',
          `the run has already ended (${run.status === current.status ? run.status : current.status})`,
        );
      }
      await deps.bus.sendControl({ type: 'cancel', runId: id });
      return toPublicRun(current);
    },
    async plan(pairId: string): Promise<PlanPreview> {
      const pair = await deps.getPair(pairId);
      let answer: PlanPreviewAnswer;
      try {
        answer = await deps.previewPlan(pair.id);
      } catch (error) {
        if (error instanceof JobNotAnsweredError) {
          throw new AppError('UNAVAILABLE', `cannot plan: ${error.message}`);
        }
        throw error;
      }
      if (answer.isPlanned) return answer.plan;
      if (answer.cause === 'path') {
        throw new AppError('UNPROCESSABLE', answer.problem, answer.field ? { field: answer.field } : {});
      }
      throw new AppError('UNPROCESSABLE', `cannot plan: ${answer.problem}`);
    },
  };
}
export type RunService = ReturnType<typeof createRunService>;
