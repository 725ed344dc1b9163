import { createHash } from 'node:crypto';
import type { LastKnownState, Side, Tree } from '../model.js';
import { isSameOrBelow, parentPath } from '../paths.js';
import {
  isTreeFingerprint,
  type SideFingerprint,
  type SyncMetadata,
  type TreeFingerprint,
} from '../state-store.js';
import { type FolderChanges, hasFolderChanges, hasUnchangedCheck, type ListingDigest } from '../storage.js';
import { isSameDigestItem, TreeDigestSum } from '../tree-digest.js';
import type { IncrementalScope } from './incremental.js';
import { type RunContext, SIDES } from './run-context.js';

/** A run that finds both trees as the recorded fingerprint describes them repeats at most this many warnings. */
const MAX_REPEATED_WARNINGS = 1000;

/** Bumped when what a digest covers changes: fingerprints recorded before no longer match. */
const FINGERPRINT_VERSION = 2;

/** The settings a fingerprint holds for: the locations, and what shapes a listing and a plan. */
export function fingerprintKey({ config, storages }: Pick<RunContext, 'config' | 'storages'>): string {
  const shaping = {
    version: FINGERPRINT_VERSION,
    source: storages.source.description,
    destination: storages.destination.description,
    mode: config.mode,
    // The key is part of stored fingerprints: renaming it would invalidate them all.
    comparison: config.comparisonMode,
    ignore: config.ignorePatterns,
    accessCheck: config.accessCheckFiles,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 32);
}

/**
 * Folders that differ on one side, at most: more, and a run lists both trees whole. An
 * eighth of the recorded folders, within these bounds.
 */
const MIN_SCOPED_FOLDERS = 8;
const MAX_SCOPED_FOLDERS = 1000;

/** The folders of both trees that differ from a recorded fingerprint, and that fingerprint. */
export interface ChangedFolders {
  sides: FolderChanges[];
  previous: TreeFingerprint;
}

/**
 * The saved metadata (undefined where it could not be read: the run reads it again and
 * reports why) and, when both trees are still exactly as the last run left them, in sync
 * with the saved state (their digests unchanged), its fingerprint: then there is nothing to
 * do. Otherwise a recorded fingerprint is dropped before anything changes (unless a dry
 * run), so no later run can take a state this run changes for one it describes; where both
 * backends could tell which folders differ from it, and they are few, those (`changes`).
 */
export async function findUnchangedTrees(
  ctx: RunContext,
  key: string,
): Promise<
  | { metadata: SyncMetadata; fingerprint: TreeFingerprint; changes?: undefined }
  | { metadata: SyncMetadata | null | undefined; fingerprint: null; changes: ChangedFolders | null }
> {
  const { config, storages, state } = ctx;
  let metadata: SyncMetadata | null;
  try {
    metadata = await state.loadMetadata();
  } catch {
    return { metadata: undefined, fingerprint: null, changes: null };
  }
  if (!metadata?.treeFingerprint) return { metadata, fingerprint: null, changes: null };
  // A store may hand back whatever it holds: a damaged fingerprint is dropped like a stale one.
  const fingerprint = isTreeFingerprint(metadata.treeFingerprint) ? metadata.treeFingerprint : null;
  // As isUnchangedSinceLastSync: HASH_ONLY always looks at the hashes.
  // An incremental run knows what changed: no walk of both trees to find out.
  const canSkip =
    ctx.changedPaths === undefined &&
    fingerprint !== null &&
    fingerprint.key === key &&
    config.comparisonMode !== 'HASH_ONLY' &&
    metadata.pendingConflicts.length === 0 &&
    SIDES.every((side) => hasUnchangedCheck(storages[side]));
  let changes: ChangedFolders | null = null;
  if (canSkip) {
    // One side that changed settles it (or, collecting, one side with too many changes): the
    // other side's walk stops.
    const signal = ctx.controller.signal;
    const settled = new AbortController();
    const stop = () => settled.abort();
    signal.addEventListener('abort', stop, { once: true });
    // A listing of part of the trees repeats only its part of the warnings: where the last
    // run warned, the trees are listed whole.
    const canCollect =
      fingerprint.warnings.length === 0 && SIDES.every((side) => hasFolderChanges(storages[side]));
    const found = await Promise.all(
      SIDES.map(async (side): Promise<FolderChanges | boolean> => {
        const storage = storages[side];
        if (canCollect && hasFolderChanges(storage)) {
          const folders = Object.keys(fingerprint[side].folders).length;
          const limit = Math.min(MAX_SCOPED_FOLDERS, Math.max(MIN_SCOPED_FOLDERS, Math.floor(folders / 8)));
          const sideChanges = await storage
            .changedFoldersSince(fingerprint[side], { limit, signal: settled.signal })
            .catch(() => null);
          if (!sideChanges) stop();
          return sideChanges ?? false;
        }
        const isSame =
          hasUnchangedCheck(storage) &&
          (await storage.isUnchangedSince(fingerprint[side], { signal: settled.signal }).catch(() => false));
        if (!isSame) stop();
        return isSame;
      }),
    );
    signal.removeEventListener('abort', stop);
    const isSame = (side: FolderChanges | boolean) =>
      side === true || (typeof side === 'object' && side.changed.length + side.replaced.length === 0);
    if (found.every(isSame)) return { metadata, fingerprint };
    if (found.every((side) => typeof side === 'object')) {
      changes = { sides: found as FolderChanges[], previous: fingerprint };
    }
  }
  if (config.dryRun) return { metadata, fingerprint: null, changes };
  const { treeFingerprint: _dropped, ...rest } = metadata;
  await state.saveMetadata(rest);
  return { metadata: rest, fingerprint: null, changes };
}

/** What a run that left both trees in sync knows of them. */
export interface RunEnd {
  /** `fingerprintKey` of the run. */
  key: string;
  /** The listings' tree digests (null on a side whose backend makes none). */
  digests: Record<Side, ListingDigest | null>;
  /** The trees as scanned. */
  trees: Record<Side, Tree>;
  /** The last-known state the run leaves (where `scoped`, at least its records within the scope). */
  state: LastKnownState;
  /** Entries per side of the whole state the run leaves, where `state` holds only part of it. */
  entries?: Record<Side, number>;
  /** Every path an action or a record of the run touched. */
  touched: ReadonlySet<string>;
  /** The listings' warnings, which a run that skips the listings repeats. */
  listingWarnings: string[];
  /**
   * Where the run listed only the folders that differ from a recorded fingerprint: that
   * fingerprint, and what the run listed (the digests of the folders it read stand in for
   * the recorded ones; the rest still hold).
   */
  scoped?: { previous: TreeFingerprint; scope: IncrementalScope };
}

/**
 * The fingerprint of both trees after a run that left them in sync, or null when it cannot
 * vouch for that. The listings' folder digests cover the trees as scanned; each path the run
 * touched is replaced there by its record now, and every other path's record must be what
 * was listed.
 */
export function fingerprintAfterRun(run: RunEnd): TreeFingerprint | null {
  const { key, digests, trees, state, entries, touched, listingWarnings, scoped } = run;
  if (listingWarnings.length > MAX_REPEATED_WARNINGS) return null;
  const sides: Partial<Record<Side, SideFingerprint>> = {};
  for (const side of SIDES) {
    const listed = digests[side];
    if (!listed) return null;
    const folders = new Map<string, TreeDigestSum>();
    let skipped = listed.skipped;
    if (scoped) {
      // Recorded folders outside what was listed whole hold still; the listing read the rest.
      const { previous, scope } = scoped;
      const isReplaced = (path: string) => [...scope.roots].some((root) => isSameOrBelow(path, root));
      for (const [path, value] of Object.entries(previous[side].folders)) {
        if (isReplaced(path)) continue;
        const sum = TreeDigestSum.parse(value);
        if (!sum) return null;
        folders.set(path, sum);
      }
      // Folders the listing left out: those outside the scope were not left out for good.
      skipped = [
        ...previous[side].skipped.filter((path) => !isReplaced(path) && !scope.includes(path)),
        ...listed.skipped.filter((path) => scope.includes(path)),
      ];
    }
    for (const [path, value] of Object.entries(listed.folders)) {
      const sum = TreeDigestSum.parse(value);
      if (!sum) return null;
      folders.set(path, sum);
    }
    // Touched paths: what was listed is replaced by what is recorded now. A folder made has a
    // digest of its own (its contents add to it); one removed has none, once emptied.
    const tree = trees[side];
    const records = state[side];
    let listedTouchedOnly = 0;
    const removedFolders: string[] = [];
    for (const path of touched) {
      const before = tree.get(path);
      const after = records.get(path);
      if (before !== undefined && after === undefined) listedTouchedOnly++;
      // Unchanged on this side (the other side's copy of it was made, say): nothing to replace.
      if (before === after || (before && after && isSameDigestItem(before, after))) continue;
      const parent = parentPath(path);
      let sum = folders.get(parent);
      if (!sum) {
        sum = new TreeDigestSum();
        folders.set(parent, sum);
      }
      sum.replace(before, after);
      if (after?.isDir && !folders.has(path)) folders.set(path, new TreeDigestSum());
      if (before?.isDir && !after?.isDir) removedFolders.push(path);
    }
    for (const path of removedFolders) if (folders.get(path)?.sums[0] === 0) folders.delete(path);
    // Untouched paths: each record is as listed (mostly the very object), and each listed
    // path has a record (counted: the listed paths without one are all touched).
    let listedWithRecord = 0;
    for (const [path, record] of records) {
      if (scoped && !scoped.scope.includes(path)) continue;
      const entry = tree.get(path);
      if (entry !== undefined) listedWithRecord++;
      if (entry === record || touched.has(path)) continue;
      if (!entry || !isSameDigestItem(entry, record)) return null;
    }
    if (tree.size - listedWithRecord !== listedTouchedOnly) return null;
    // Own properties whatever the names (a folder may be called `__proto__`).
    const recorded = Object.fromEntries([...folders].map(([path, sum]) => [path, sum.value]));
    sides[side] = { folders: recorded, skipped, entries: entries?.[side] ?? state[side].size };
  }
  return { key, source: sides.source!, destination: sides.destination!, warnings: listingWarnings };
}
