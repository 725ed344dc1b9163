import {
  CONFLICT_IMAGE_MAX_BYTES,
  type Conflict,
  type ConflictListQuery,
  type ConflictPreview,
  type ConflictResolution,
  conflictImageType,
  type Side,
} from '@syncengine/contracts';
import type { ConflictRepo, PairRepo, StoredLocation } from '@syncengine/db';
import { isSyncError } from '@syncengine/engine';
import { PathNotAllowedError } from '@syncengine/locations';
import type { EventBus, OpenedFile, RunLauncher } from '@syncengine/runs';
import { AppError } from '../errors.js';

export function createConflictService(deps: {
  conflicts: Pick<ConflictRepo, 'list' | 'get' | 'resolve'>;
  pairs: Pick<PairRepo, 'get'>;
  launcher: Pick<RunLauncher, 'launch'>;
  bus: Pick<EventBus, 'publish'>;
  /** Reads the start of a file at `path` inside a stored location (`previewFile` of @syncengine/runs). */
  previewFile(location: StoredLocation, path: string): Promise<ConflictPreview>;
  /** Opens a file at `path` inside a stored location (`openFile` of @syncengine/runs). */
  openFile(location: StoredLocation, path: string): Promise<OpenedFile>;
}) {
  /**
   * Hands one side's version of a conflicting file, in the pair's location, to `read`. 404
   * when the conflict, its pair or the file on that side is gone; 422 when the side cannot
   * be read (a path outside the location's root among them).
   */
  async function readSide<T>(
    id: string,
    side: Side,
    read: (location: StoredLocation, conflict: Conflict) => Promise<T>,
  ): Promise<T> {
    const conflict = await deps.conflicts.get(id);
    if (!conflict) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
    const pair = await deps.pairs.get(conflict.pairId);
    if (!pair) throw new AppError('NOT_FOUND', `no conflict with id ${id}`);
    if (!conflict[side]) throw new AppError('NOT_FOUND', `the file was deleted at the ${side}`);
    try {
      return await read(pair[side], conflict);
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (isSyncError(error, 'NOT_FOUND')) {
        throw new AppError('NOT_FOUND', `"${conflict.path}" is no longer a file at the ${side}`);
      }
      if (isSyncError(error)) throw new AppError('UNPROCESSABLE', `cannot read the file: ${error.message}`);
      if (error instanceof PathNotAllowedError) {
        throw new AppError('UNPROCESSABLE', `cannot read the file: the ${side} ${error.message}`);
      }
      throw error;
    }
  }

  return {
    list: (query: ConflictListQuery): Promise<Conflict[]> => deps.conflicts.list(query),
    /** The start of one side's version of the conflicting file, read now from the pair's location. */
    preview: (id: string, side: Side): Promise<ConflictPreview> =>
      readSide(id, side, (location, conflict) => deps.previewFile(location, conflict.path)),
    /**
     * One side's version of a conflicting image, opened for sending, with its type. 422 for a
     * file that is no image by its name, or one over {@link CONFLICT_IMAGE_MAX_BYTES}.
     */
    image: (id: string, side: Side): Promise<OpenedFile & { type: string }> =>
      readSide(id, side, async (location, conflict) => {
        const type = conflictImageType(conflict.path);
        if (!type) throw new AppError('UNPROCESSABLE', `"${conflict.path}" is not an image`);
        const file = await deps.openFile(location, conflict.path);
        if (file.size > CONFLICT_IMAGE_MAX_BYTES) {
          await file.close().catch(() => {});
          throw new AppError(
            'UNPROCESSABLE',
            `"${conflict.path}" is larger than the ${CONFLICT_IMAGE_MAX_BYTES / 1024 / 1024} MiB shown as a thumbnail`,
          );
        }
        return { ...file, type };
      }),
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
