import type { PlanInput, SyncRunError } from '../api.js';
import { isSyncError } from '../errors.js';
import { createIgnoreMatcher } from '../ignore/index.js';
import { forEachLimited } from '../limit.js';
import type { HashAlgorithm, LastKnownState, Side, Tree } from '../model.js';
import { IGNORE_FILE_NAME, isSameOrBelow, joinPath } from '../paths.js';
import { findCaseCollisions, hashNeeds, inheritHashes, isUnchangedSinceLastSync } from '../planner/index.js';
import type { SyncMetadata } from '../state-store.js';
import type { ListingDigest } from '../storage.js';
import { checkAccess } from './access-check.js';
import type { ChangedFolders } from './fingerprint.js';
import {
  addRenameOrigins,
  folderScope,
  type IncrementalScope,
  incrementalScope,
  LoadedPart,
  recordedFileCount,
} from './incremental.js';
import { loadSavedState } from './metadata.js';
import { messageOf, type RunContext, SIDES } from './run-context.js';
import { scanSide } from './scan.js';
import { hashFile, withHash } from './transfer.js';

/** What a run knows once it has loaded the state, scanned both sides and hashed what the planner needs. */
export interface Prepared {
  lastKnown: LastKnownState | null;
  metadata: SyncMetadata | null;
  trees: Record<Side, Tree>;
  input: PlanInput;
  /** Nothing changed on either side since the last sync (`isUnchangedSinceLastSync`). */
  isUnchanged: boolean;
  /** The listings' tree digests, where the backends make them. */
  digests: Record<Side, ListingDigest | null>;
  /**
   * The warnings of the listings and the hashing (a run that skips the listings repeats
   * them); not those about the saved state, which its repair settles.
   */
  listingWarnings: string[];
  /** Temporary files of interrupted earlier runs the listings met. */
  leftovers: Record<Side, string[]>;
  /** Folders that could not be read (`UNREADABLE`), left out of this run on both sides. */
  unreadable: SyncRunError[];
  /** Files per side, where the trees are not whole (an incremental run). */
  sideFiles: Record<Side, number> | null;
  /** Where the run lists only the folders that differ from the last run's digests: its scope. */
  folderScope: IncrementalScope | null;
  /**
   * The run loaded only the records within its scope (`lastKnown` holds those): it records
   * every change with `update()` and never saves the state whole.
   */
  isPartial: boolean;
}

/**
 * Loads the state, scans both sides and hashes what the planner needs. `metadataRead` is
 * the metadata already read this run (undefined where it could not be: it is read again);
 * `changes`, the folders of each side that differ from the last run's folder digests, where
 * known: the run then lists and plans only those, as an incremental run.
 */
export async function prepare(
  ctx: RunContext,
  metadataRead: SyncMetadata | null | undefined,
  changes: ChangedFolders | null = null,
): Promise<Prepared> {
  const { config, storages, controller, hashAlgorithm, emit, warn } = ctx;
  const stateWarnings = new Set<string>();
  const warnState = (message: string) => {
    stateWarnings.add(message);
    warn(message);
  };
  // An access check file anywhere in the trees needs the whole trees: a full run then.
  const hasAccessCheck = !config.force && config.accessCheckFiles.length > 0;
  // A scoped run whose store loads part of the state reads only the records of its scope.
  const part = hasAccessCheck
    ? null
    : await LoadedPart.load(ctx.state, storages, ctx.changedPaths, changes?.sides ?? null);
  // The saved state is read while both sides are scanned; nothing waits for it until then.
  const loading = loadSavedState(ctx.state, warnState, metadataRead, part?.state);
  loading.catch(() => undefined);

  const signal = controller.signal;
  // Where both listings walk folder by folder, nested `.syncignore` files are read as the
  // scans enter their folders (one walk of the source); otherwise all are read up front.
  const isLazy = SIDES.every((side) => storages[side].capabilities.walksFolders === true);
  const matcher = await createIgnoreMatcher({
    patterns: config.ignorePatterns,
    storage: storages.source,
    signal,
    nested: isLazy ? 'lazy' : 'eager',
  });
  // An incremental run waits for the state: its records tell which paths it looks at.
  const scope = hasAccessCheck
    ? null
    : part
      ? part.scope
      : ctx.changedPaths
        ? incrementalScope(ctx.changedPaths, (await loading).lastKnown)
        : changes
          ? await folderScope(changes.sides, (await loading).lastKnown, storages)
          : null;
  const isFolderScoped = scope !== null && !ctx.changedPaths;
  const include = scope
    ? (path: string, isDir: boolean) => scope.includes(path) && matcher.include(path, isDir)
    : (path: string, isDir: boolean) => matcher.include(path, isDir);
  // Folders whose contents cannot be listed, per side, and source folders whose ignore rules
  // cannot be read: left out of the run.
  const unreadable: Record<Side, Set<string>> = { source: new Set(), destination: new Set() };
  const unreadableRules = new Map<string, string>();
  const enterDirectory = isLazy
    ? async (dir: string) => {
        // An ignored `.syncignore` is not read, as when all are read up front.
        if (matcher.isIgnored(joinPath(dir, IGNORE_FILE_NAME), false)) return;
        try {
          await matcher.loadDirectory(dir);
        } catch (error) {
          // Without its rules nothing below it can be told ignored or not: the folder is left alone.
          if (!isSyncError(error, 'PERMISSION')) throw error;
          unreadableRules.set(dir, error.message);
        }
      }
    : undefined;
  // Where the scans walk folder by folder, they hand unchanged files their records: the
  // listings start reading while the state loads, and take the records once it has. Not
  // under HASH_ONLY, whose user trusts no metadata: every file is hashed on every run.
  const trustsMetadata = config.comparisonMode !== 'HASH_ONLY';
  const known =
    isLazy && trustsMetadata
      ? loading.then(
          ({ lastKnown }) => lastKnown,
          () => null,
        )
      : null;
  const digests: Record<Side, ListingDigest | null> = { source: null, destination: null };
  const leftovers: Record<Side, string[]> = { source: [], destination: [] };
  const [sourceTree, destinationTree] = await Promise.all(
    SIDES.map((side) =>
      scanSide({
        side,
        storage: storages[side],
        include,
        enterDirectory,
        known: known?.then((lastKnown) => lastKnown?.[side]),
        // A listing of the paths a watcher told has no digest of the tree; one of the folders
        // that differ from the recorded digests has the digests of those.
        onDigest:
          scope && !isFolderScoped
            ? undefined
            : (digest) => {
                digests[side] = digest;
              },
        onLeftover: (path) => leftovers[side].push(path),
        onUnreadable: (path) => unreadable[side].add(path),
        signal,
        emit,
        warn,
      }),
    ),
  );
  const trees: Record<Side, Tree> = { source: sourceTree!, destination: destinationTree! };
  const { lastKnown, metadata } = await loading;
  if (scope && lastKnown)
    await addRenameOrigins(scope, trees, lastKnown, storages, include, part ?? undefined);
  if (!scope) checkAccess(config, storages, trees);

  // Left out of the plan on both sides, with everything below them, and their records kept
  // as they are: paths that differ only in case, and folders that could not be read (whose
  // contents are unknown, not gone: never deleted on the other side for that).
  for (const [dir, message] of unreadableRules) {
    // A folder that could not be listed (or lies in one) has been reported as such.
    if ([...unreadable.source].some((root) => isSameOrBelow(dir, root))) continue;
    unreadable.source.add(dir);
    warn(
      `could not read the ignore rules of ${dir} on the source side (${message}); the folder is left alone on both sides this run`,
      dir,
    );
  }
  const unreadableRoots = new Set([...unreadable.source, ...unreadable.destination]);
  const leftOut = new Set([...excludeCaseCollisions(ctx, trees), ...unreadableRoots]);
  for (const side of SIDES) withoutSubtrees(trees[side], leftOut);
  const scopedLastKnown =
    lastKnown && scope
      ? { source: scope.restrict(lastKnown.source), destination: scope.restrict(lastKnown.destination) }
      : lastKnown;
  const planLastKnown =
    scopedLastKnown && leftOut.size > 0
      ? {
          source: withoutSubtrees(new Map(scopedLastKnown.source), leftOut),
          destination: withoutSubtrees(new Map(scopedLastKnown.destination), leftOut),
        }
      : scopedLastKnown;
  if (trustsMetadata) for (const side of SIDES) inheritHashes(trees[side], planLastKnown?.[side]);
  const input: PlanInput = {
    source: trees.source,
    destination: trees.destination,
    lastKnown: planLastKnown,
    config,
    leftOut,
  };
  const isUnchanged = isUnchangedSinceLastSync(input);
  if (hashAlgorithm && !isUnchanged) {
    await computeHashes(ctx, hashNeeds(input), trees, hashAlgorithm);
  }
  const unreadableErrors: SyncRunError[] = SIDES.flatMap((side) =>
    [...unreadable[side]].sort().map((path) => ({
      path,
      code: 'UNREADABLE',
      message: `the folder ${path} on the ${side} side could not be read (permission denied); it was left alone on both sides`,
    })),
  );
  // The max-delete guard of an incremental run measures against the whole side, as recorded.
  const sideFiles = part
    ? { source: part.counts.source.files, destination: part.counts.destination.files }
    : scope && lastKnown
      ? {
          source: recordedFileCount(lastKnown, 'source'),
          destination: recordedFileCount(lastKnown, 'destination'),
        }
      : null;
  return {
    lastKnown,
    metadata,
    trees,
    input,
    isUnchanged,
    digests,
    listingWarnings: ctx.warnings.filter((warning) => !stateWarnings.has(warning)),
    leftovers,
    unreadable: unreadableErrors,
    sideFiles,
    folderScope: isFolderScoped ? scope : null,
    isPartial: part !== null,
  };
}

/**
 * Where either side is case-insensitive, paths that differ only in case would overwrite
 * each other there: they are reported, and returned to be left out of this run (with
 * everything below them).
 */
function excludeCaseCollisions({ storages, warn }: RunContext, trees: Record<Side, Tree>): string[] {
  if (SIDES.every((side) => storages[side].capabilities.caseSensitive)) return [];
  const union: Tree = new Map([...trees.destination, ...trees.source]);
  const groups = findCaseCollisions(union);
  for (const group of groups) {
    warn(
      `paths differ only in case and would collide on a case-insensitive side: ${group.join(', ')}`,
      group[0],
    );
  }
  return groups.flat();
}

/** Removes from `tree` each of `roots` and everything below them; returns the tree. */
function withoutSubtrees(tree: Tree, roots: ReadonlySet<string>): Tree {
  if (roots.size === 0) return tree;
  for (const path of tree.keys()) {
    let slash = path.length;
    for (let prefix = path; ; prefix = path.slice(0, slash)) {
      if (roots.has(prefix)) {
        tree.delete(path);
        break;
      }
      slash = path.lastIndexOf('/', slash - 1);
      if (slash <= 0) break;
    }
  }
  return tree;
}

async function computeHashes(
  { storages, config, controller, warn }: RunContext,
  needs: { source: string[]; destination: string[] },
  trees: Record<Side, Tree>,
  algorithm: HashAlgorithm,
): Promise<void> {
  const jobs = SIDES.flatMap((side) => needs[side].map((path) => ({ side, path })));
  await forEachLimited(
    jobs,
    config.transfers,
    async ({ side, path }) => {
      const entry = trees[side].get(path);
      if (!entry || entry.isDir) return;
      const hash = await hashFile(storages[side], path, algorithm, controller.signal);
      trees[side].set(path, withHash(entry, hash, algorithm));
    },
    // A file that cannot be read now is planned without its hash (size and mtime decide;
    // HASH_ONLY refuses to plan): one unreadable file must not stop the whole pair.
    {
      gate: controller,
      onError: ({ side, path }, error) => {
        if (controller.isCancelled) return;
        warn(`could not hash ${path} on the ${side} side: ${messageOf(error)}`, path);
      },
    },
  );
}
