import type { Conflict, ConflictListQuery, ConflictResolution } from '@syncengine/contracts';
import type { ConflictRepo, RunRepo } from '@syncengine/db';
import type { EventBus, RunLauncher } from '@syncengine/runs';
import { AppError } from '../errors.js';

export function createConflictService(deps: {
  conflicts: Pick<ConflictRepo, 'list' | 'get' | 'resolve'>;
  runs: Pick<RunRepo, 'get'>;
  launcher: Pick<RunLauncher, 'launch'>;
  bus: Pick<EventBus, 'publish' | 'sendControl'>;
}) {
  return {
    list: (query: ConflictListQuery): Promise<Conflict[]> => deps.conflicts.list(query),
    /**
     * Records the decision. The run that met the conflict applies it if it is still live;
     * otherwise a follow-up run is queued to apply it. `skip` leaves the conflict pending
     * and changes nothing.
     */
    async resolve(id: string, resolution: ConflictResolution, resolvedBy: string): Promise<Conflict> {
      const existing = await deps.conflicts.get(id);
      if (!existing) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
      const conflict = await deps.conflicts.resolve(id, resolution, resolvedBy);
      if (!conflict) throw new AppError('CONFLICT', 'the conflict has already been resolved');
      if (resolution !== 'skip') await deps.bus.publish({ type: 'conflict.resolved', conflict });
      const run = conflict.runId ? await deps.runs.get(conflict.runId) : null;
      const isLive = run?.status === 'running' || run?.status === 'paused';
      if (isLive && run) {
        await deps.bus.sendControl({
          type: 'conflict.decision',
          runId: run.id,
          conflictId: conflict.id,
          path: conflict.path,
          resolution,
        });
      } else if (resolution !== 'skip') {
        // If another run is active it will meet the conflict and find the decision; if it
        // has passed it already, it starts a follow-up when it ends.
        await deps.launcher.launch(conflict.pairId, { trigger: 'conflict-resolution' });
      }
      return conflict;
    },
  };
}
export type ConflictService = ReturnType<typeof createConflictService>;
