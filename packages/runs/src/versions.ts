import type { JobPayload, Location, Side } from '@syncengine/contracts';
import type { KeptVersionRepo, PairRecord, PairRepo } from '@syncengine/db';
import { isSyncError, parseVersionPath, restoreVersion, type Storage } from '@syncengine/engine';
import { PathNotAllowedError } from '@syncengine/locations';
import type { SecretBox } from '@syncengine/secrets';
import type { EventBus } from './bus.js';
import { UnrecoverableJobError } from './job-queue.js';

/** What opening a pair's side needs. */
export interface SideStorageDeps {
  secrets: Pick<SecretBox, 'open'>;
  openStorage(location: Location): Promise<Storage>;
}

/** Opens one side of a pair the way a run opens it, hands it to `use`, and closes it. */
export async function withSideStorage<T>(
  deps: SideStorageDeps,
  pair: Pick<PairRecord, 'source' | 'destination'>,
  side: Side,
  use: (storage: Storage) => Promise<T>,
): Promise<T> {
  const storage = await deps.openStorage(deps.secrets.open(pair[side]));
  try {
    return await use(storage);
  } finally {
    await storage.close?.().catch(() => {});
  }
}

/** What `restoreKeptVersion` did. */
export interface KeptVersionRestore {
  side: Side;
  /** The path the version is back at. */
  path: string;
  /** The file that was at the path, now kept as a version; null when there was none. */
  keptAs: { versionPath: string; keptAt: number; size: number; mtime: number } | null;
}

/**
 * Puts the kept version at `versionPath` of one side back where it was kept from: the
 * engine's `restoreVersion`, which keeps the file that is there now as a version first.
 * That version is recorded (reason `restore`) and `version.restored` is published. Shared
 * by the API (local sides, at once) and the `version-restore` job (remote sides).
 */
export async function restoreKeptVersion(
  deps: SideStorageDeps & {
    keptVersions: Pick<KeptVersionRepo, 'recordMany'>;
    bus: Pick<EventBus, 'publish'>;
  },
  pair: Pick<PairRecord, 'id' | 'source' | 'destination'>,
  side: Side,
  versionPath: string,
  now: number = Date.now(),
): Promise<KeptVersionRestore> {
  const restored = await withSideStorage(deps, pair, side, async (storage) => {
    const done = await restoreVersion(storage, versionPath, { now });
    const kept = done.keptAs ? await storage.stat(done.keptAs) : null;
    return { path: done.path, keptAs: done.keptAs, kept };
  });
  let keptAs: KeptVersionRestore['keptAs'] = null;
  if (restored.keptAs) {
    await deps.keptVersions.recordMany(pair.id, [
      { side, versionPath: restored.keptAs, path: restored.path, reason: 'restore', runId: null },
    ]);
    keptAs = {
      versionPath: restored.keptAs,
      keptAt: parseVersionPath(restored.keptAs)?.keptAt ?? now,
      size: restored.kept?.size ?? 0,
      mtime: restored.kept?.mtime ?? now,
    };
  }
  await deps.bus.publish({ type: 'version.restored', pairId: pair.id, side, path: restored.path });
  return { side, path: restored.path, keptAs };
}

/**
 * The `version-restore` job's handler. A pair deleted meanwhile, a version that is no
 * longer there, or a side whose path the confinement refuses ends the job without retries.
 */
export function createVersionRestoreHandler(
  deps: Parameters<typeof restoreKeptVersion>[0] & { pairs: Pick<PairRepo, 'get'> },
) {
  return async (payload: JobPayload<'version-restore'>): Promise<void> => {
    const pair = await deps.pairs.get(payload.pairId);
    if (!pair) throw new UnrecoverableJobError(`no pair with id ${payload.pairId}`);
    try {
      await restoreKeptVersion(deps, pair, payload.side, payload.versionPath);
    } catch (error) {
      if (
        error instanceof PathNotAllowedError ||
        isSyncError(error, 'NOT_FOUND') ||
        isSyncError(error, 'INVALID_PATH') ||
        isSyncError(error, 'CONFLICT')
      ) {
        throw new UnrecoverableJobError(error.message);
      }
      throw error;
    }
  };
}
