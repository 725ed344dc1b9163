import type {
  Conflict,
  ConflictListQuery,
  ConflictPreview,
  ConflictResolution,
  Side,
} from '@syncengine/contracts';
import type { ConflictRepo, PairRepo, StoredLocation } from '@syncengine/db';
import { isSyncError } from '@syncengine/engine';
import { PathNotAllowedError } from '@syncengine/locations';
import type { EventBus, RunLauncher } from '@syncengine/runs';
import { AppError } from '../errors.js';

export function createConflictService(deps: {
  conflicts: Pick<ConflictRepo, 'list' | 'get' | 'resolve'>;
  pairs: Pick<PairRepo, 'get'>;
  launcher: Pick<RunLauncher, 'launch'>;
  bus: Pick<EventBus, 'publish'>;
  /** Reads the start of a file at `path` inside a stored location (`previewFile` of @syncengine/runs). */
  previewFile(location: StoredLocation, path: string): Promise<ConflictPreview>;
}) {
  return {
    list: (query: ConflictListQuery): Promise<Conflict[]> => deps.conflicts.list(query),
    /**
     * The start of one side's version of the conflicting file, read now from the pair's
     * location. 404 when the conflict, its pair or the file on that side is gone.
     */
    async preview(id: string, side: Side): Promise<ConflictPreview> {
      const conflict = await deps.conflicts.get(id);
      if (!conflict) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
      const pair = await deps.pairs.get(conflict.pairId);
      if (!pair) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
      if (!conflict[side]) throw new AppError('NOT_FOUND', `the file was deleted at the ${side}`);
      try {
        return await deps.previewFile(pair[side], conflict.path);
      } catch (error) {
        if (isSyncError(error, 'NOT_FOUND')) {
          throw new AppError('NOT_FOUND', `"${conflict.path}" is no longer a file at the ${side}`);
        }
        if (isSyncError(error)) throw new AppError('UNPROCESSABLE', `cannot read the file: ${error.message}`);
        if (error instanceof PathNotAllowedError) {
          throw new AppError('UNPROCESSABLE', `cannot read the file: the ${side} ${error.message}`);
        }
        throw error;
      }
    },
    /**
     * Records the decision and queues a `conflict-resolution` run that applies it at once.
     * `skip` leaves the conflict pending and changes nothing.
     */
    async resolve(id: string, resolution: ConflictResolution, resolvedBy: string): Promise<Conflict> {
      const existing = await deps.conflicts.get(id);
      if (!existing) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
      const conflict = await deps.conflicts.resolve(id, resolution, resolvedBy);
      if (!conflict) throw new AppError('CONFLICT', 'the conflict has already been resolved');
      if (resolution !== 'skip') {
        await deps.bus.publish({ type: 'conflict.resolved', conflict });
        // A small run applies it now; while another run is active, that run's end starts it.
        await deps.launcher.launch(conflict.pairId, { trigger: 'conflict-resolution' });
      }
      return conflict;
    },
  };
}
export type ConflictService = ReturnType<typeof createConflictService>;
