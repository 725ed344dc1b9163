import { isSyncError } from '../errors.js';
import type { SyncStatus } from '../events.js';
import type { ConflictInfo, LastKnownState } from '../model.js';
import {
  type PendingConflictRecord,
  pairIdFor,
  STATE_FORMAT_VERSION,
  type StateStore,
  type SyncMetadata,
  type TreeFingerprint,
} from '../state-store.js';
import type { RunContext } from './run-context.js';

/**
 * The last-known state and metadata; an unreadable one is reported and read as none.
 * `metadataRead` is the metadata already read this run (undefined where it could not be);
 * `loaded`, the part of the state already read, where the run needs no more.
 */
export async function loadSavedState(
  state: StateStore,
  warn: (message: string) => void,
  metadataRead: SyncMetadata | null | undefined,
  loaded?: LastKnownState,
): Promise<{ lastKnown: LastKnownState | null; metadata: SyncMetadata | null }> {
  let lastKnown: LastKnownState | null;
  try {
    lastKnown = loaded ?? (await state.load());
  } catch (error) {
    if (!isSyncError(error, 'STATE_CORRUPT')) throw error;
    warn(`the saved sync state is unreadable (${error.message}); merging both sides as on a first sync`);
    lastKnown = null;
  }
  if (metadataRead !== undefined) return { lastKnown, metadata: metadataRead };
  let metadata: SyncMetadata | null;
  try {
    metadata = await state.loadMetadata();
  } catch (error) {
    if (!isSyncError(error, 'STATE_CORRUPT')) throw error;
    warn(`the saved sync metadata is unreadable (${error.message}); starting it afresh`);
    metadata = null;
  }

  return { lastKnown, metadata };
}

/** How a run ended, as its metadata records it. */
export interface RunRecord {
  /** The metadata the run started from (null for none, or where it was unreadable). */
  metadata: SyncMetadata | null;
  status: SyncStatus;
  pendingConflicts: ConflictInfo[];
  /** Where the run left both trees in sync with the state: their fingerprint. */
  fingerprint: TreeFingerprint | null;
}

/** Saves the pair's metadata after a run: its identity, the run's status and the pending conflicts. */
export async function saveRunMetadata(
  ctx: Pick<RunContext, 'state' | 'storages' | 'startedAt'>,
  run: RunRecord,
): Promise<void> {
  // A store may have written its own identity while recording a first run: read again then.
  const latest = run.metadata ?? (await ctx.state.loadMetadata().catch(() => null));
  const next = nextMetadata(ctx, latest, run);
  if (run.fingerprint) next.treeFingerprint = run.fingerprint;
  await ctx.state.saveMetadata(next);
}

function nextMetadata(
  { state, storages, startedAt }: Pick<RunContext, 'state' | 'storages' | 'startedAt'>,
  previous: SyncMetadata | null,
  { pendingConflicts: pending, status }: RunRecord,
): SyncMetadata {
  const detected = new Map(previous?.pendingConflicts.map((record) => [record.path, record.detectedAt]));
  const pendingConflicts: PendingConflictRecord[] = pending.map((conflict) => ({
    path: conflict.path,
    source: conflict.source,
    destination: conflict.destination,
    detectedAt: detected.get(conflict.path) ?? startedAt,
  }));
  return {
    pairId:
      previous?.pairId ??
      state.pairId ??
      pairIdFor(storages.source.description, storages.destination.description),
    sourceDescription: storages.source.description,
    destinationDescription: storages.destination.description,
    // Records this run leaves are in the current layout; older ones it kept are read as such.
    formatVersion: STATE_FORMAT_VERSION,
    lastRunAt: startedAt,
    lastRunStatus: status,
    pendingConflicts,
  };
}
