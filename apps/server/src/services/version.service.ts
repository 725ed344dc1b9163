import type {
  PruneVersions,
  PruneVersionsResult,
  RestoreVersionResult,
  Side,
  Version,
  VersionList,
  VersionListQuery,
} from '@syncengine/contracts';
import { type KeptVersionRepo, keptVersionKey, type PairRecord } from '@syncengine/db';
import {
  DEFAULT_CONFIG,
  deleteVersion,
  isSyncError,
  listVersions,
  normalizeRelativePath,
  parseVersionPath,
  pruneVersions,
  type Storage,
} from '@syncengine/engine';
import {
  type EventBus,
  type JobQueue,
  restoreKeptVersion,
  type SideStorageDeps,
  withSideStorage,
} from '@syncengine/runs';
import { AppError } from '../errors.js';

const SIDES: Side[] = ['source', 'destination'];

/** A version's id: its side and its path in that side's versions area, base64url-encoded. */
export const encodeVersionId = (side: Side, versionPath: string): string =>
  Buffer.from(`${side}:${versionPath}`, 'utf8').toString('base64url');

/** The side and versions-area path an id names; 400 naming `versionId` for anything else. */
export function decodeVersionId(id: string): { side: Side; versionPath: string } {
  const invalid = () =>
    new AppError('BAD_REQUEST', 'not an id from the versions list', { field: 'versionId' });
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const side = text.slice(0, colon);
  if (colon < 0 || (side !== 'source' && side !== 'destination')) throw invalid();
  let versionPath: string;
  try {
    versionPath = normalizeRelativePath(text.slice(colon + 1));
  } catch {
    throw invalid();
  }
  // Anything but a file of the versions area (a path with `..`, a file outside) is refused.
  if (versionPath !== text.slice(colon + 1) || !parseVersionPath(versionPath)) throw invalid();
  return { side, versionPath };
}

/** A side's storage error as an API error: a missing file is 404, the rest cannot be done (422). */
function toAppError(error: unknown, side: Side): unknown {
  if (isSyncError(error, 'NOT_FOUND')) return new AppError('NOT_FOUND', error.message);
  if (isSyncError(error, 'CONFLICT')) return new AppError('CONFLICT', error.message);
  if (isSyncError(error)) return new AppError('UNPROCESSABLE', `the ${side}: ${error.message}`);
  return error;
}

/**
 * Kept versions of a pair's files (SPEC §8), read from each side's versions area with the
 * engine's own version code; the database adds why each was kept and by which run.
 */
export function createVersionService(
  deps: SideStorageDeps & {
    getPair(id: string): Promise<PairRecord>;
    keptVersions: Pick<KeptVersionRepo, 'recordMany' | 'forPair'>;
    queue: Pick<JobQueue, 'enqueue'>;
    bus: Pick<EventBus, 'publish'>;
  },
) {
  const onSide = async <T>(pair: PairRecord, side: Side, use: (storage: Storage) => Promise<T>) => {
    try {
      return await withSideStorage(deps, pair, side, use);
    } catch (error) {
      throw toAppError(error, side);
    }
  };

  return {
    async list(pairId: string, query: VersionListQuery): Promise<VersionList> {
      const pair = await deps.getPair(pairId);
      let prefix: string | undefined;
      if (query.path !== undefined && query.path.replace(/^\/+|\/+$/g, '') !== '') {
        try {
          prefix = normalizeRelativePath(query.path.replace(/^\/+|\/+$/g, ''));
        } catch (error) {
          throw new AppError('BAD_REQUEST', error instanceof Error ? error.message : 'invalid path', {
            field: 'path',
          });
        }
      }
      const sides = query.side ? [query.side] : SIDES;
      const needle = query.q?.trim().toLowerCase() ?? '';
      const records = await deps.keptVersions.forPair(pair.id, sides);
      const items: Version[] = [];
      for (const side of sides) {
        const versions = await onSide(pair, side, (storage) => listVersions(storage, prefix));
        for (const version of versions) {
          if (needle && !version.path.toLowerCase().includes(needle)) continue;
          const record = records.get(keptVersionKey(side, version.versionPath));
          items.push({
            id: encodeVersionId(side, version.versionPath),
            side,
            path: version.path,
            keptAt: new Date(version.keptAt).toISOString(),
            size: version.size,
            mtime: new Date(version.mtime).toISOString(),
            reason: record?.reason ?? 'unknown',
            runId: record?.runId ?? null,
          });
        }
      }
      items.sort((a, b) => b.keptAt.localeCompare(a.keptAt) || a.path.localeCompare(b.path));
      return {
        items: items.slice(0, query.limit),
        truncated: items.length > query.limit,
        retentionDays: DEFAULT_CONFIG.versions.retentionDays,
      };
    },

    /**
     * Puts a version back at its path. A local side is restored now (`restored`); a remote
     * one by a `version-restore` job (`queued`).
     */
    async restore(pairId: string, versionId: string): Promise<RestoreVersionResult> {
      const pair = await deps.getPair(pairId);
      const { side, versionPath } = decodeVersionId(versionId);
      const path = parseVersionPath(versionPath)!.path;
      if (pair[side].type !== 'local') {
        const jobId = `version-restore:${pair.id}:${side}:${Date.now().toString(36)}`;
        await deps.queue.enqueue('version-restore', { pairId: pair.id, side, versionPath }, { jobId });
        return { status: 'queued', side, path, keptAs: null, jobId };
      }
      let restored: Awaited<ReturnType<typeof restoreKeptVersion>>;
      try {
        restored = await restoreKeptVersion(
          { ...deps, keptVersions: deps.keptVersions },
          pair,
          side,
          versionPath,
        );
      } catch (error) {
        throw toAppError(error, side);
      }
      const kept = restored.keptAs;
      return {
        status: 'restored',
        side,
        path: restored.path,
        keptAs: kept
          ? {
              id: encodeVersionId(side, kept.versionPath),
              side,
              path: restored.path,
              keptAt: new Date(kept.keptAt).toISOString(),
              size: kept.size,
              mtime: new Date(kept.mtime).toISOString(),
              reason: 'restore',
              runId: null,
            }
          : null,
        jobId: null,
      };
    },

    /**
     * Opens a version for download. The caller must call `close` once the stream has been
     * sent (or failed).
     */
    async open(
      pairId: string,
      versionId: string,
    ): Promise<{ name: string; size: number; stream: NodeJS.ReadableStream; close(): Promise<void> }> {
      const pair = await deps.getPair(pairId);
      const { side, versionPath } = decodeVersionId(versionId);
      let storage: Storage | null = null;
      try {
        storage = await deps.openStorage(deps.secrets.open(pair[side]));
        const entry = await storage.stat(versionPath);
        if (!entry || entry.isDir) throw new AppError('NOT_FOUND', `no kept version at ${versionPath}`);
        const stream = await storage.read(versionPath);
        const opened = storage;
        const name = versionPath.slice(versionPath.lastIndexOf('/') + 1);
        return { name, size: entry.size, stream, close: async () => void (await opened.close?.()) };
      } catch (error) {
        await storage?.close?.().catch(() => {});
        throw toAppError(error, side);
      }
    },

    async remove(pairId: string, versionId: string): Promise<void> {
      const pair = await deps.getPair(pairId);
      const { side, versionPath } = decodeVersionId(versionId);
      await onSide(pair, side, (storage) => deleteVersion(storage, versionPath));
    },

    /** Removes the versions kept more than `olderThanDays` ago, on one side or both. */
    async prune(pairId: string, body: PruneVersions): Promise<PruneVersionsResult> {
      const pair = await deps.getPair(pairId);
      let removedFolders = 0;
      for (const side of body.side ? [body.side] : SIDES) {
        const removed = await onSide(pair, side, (storage) =>
          pruneVersions(storage, body.olderThanDays, Date.now()),
        );
        removedFolders += removed.length;
      }
      return { removedFolders };
    },
  };
}
export type VersionService = ReturnType<typeof createVersionService>;
