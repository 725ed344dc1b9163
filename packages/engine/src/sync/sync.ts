import type { PlanInput, SyncOptions, SyncResult, SyncRunError } from '../api.js';
import { systemClock } from '../clock.js';
import { resolveConfig, type SyncConfig } from '../config.js';
import { SyncController } from '../controller.js';
import { isSyncError, SyncError } from '../errors.js';
import type { SyncEvent, SyncStatus } from '../events.js';
import { canHashLocally, DEFAULT_HASH } from '../hash.js';
import { createIgnoreMatcher } from '../ignore/index.js';
import { forEachLimited } from '../limit.js';
import type { ConflictInfo, HashAlgorithm, LastKnownState, Plan, Side, SyncStats, Tree } from '../model.js';
import { IGNORE_FILE_NAME, isSameOrBelow, joinPath } from '../paths.js';
import {
  findCaseCollisions,
  hashNeeds,
  inheritHashes,
  isUnchangedSinceLastSync,
  planSync,
} from '../planner/index.js';
import { emptyProgressTotals, progressTotalsOf } from '../progress.js';
import type { SyncMetadata, TreeFingerprint } from '../state-store.js';
import type { ListingDigest, Storage } from '../storage.js';
import { checkAccess } from './access-check.js';
import { type ExecutionOutcome, Executor, emptyOutcome } from './executor.js';
import { findUnchangedTrees, fingerprintAfterRun, fingerprintKey } from './fingerprint.js';
import { addRenameOrigins, incrementalScope, recordedFileCount } from './incremental.js';
import { loadSavedState, saveRunMetadata } from './metadata.js';
import { refreshUnchanged } from './record-reuse.js';
import { messageOf, type RunContext, SIDES } from './run-context.js';
import { scanSide } from './scan.js';
import { StateRecorder } from './state-recorder.js';
import { hashFile, withHash } from './transfer.js';
import { pruneVersions, versionStamp } from './versions.js';

/**
 * Runs one sync of a pair: checks the configuration and the backends, loads the
 * last-known state, scans both sides, hashes what the planner needs, plans, and (unless a
 * dry run, or the max-delete guard stops it) executes the plan, recording each completed
 * action and saving the full state at the end.
 *
 * Throws `SyncError` (INVALID_CONFIG, HASH_UNAVAILABLE, ACCESS_CHECK, …) when the run
 * cannot start; nothing has been changed then. Failures of single actions do not throw:
 * they are in `result.errors` and the status is `failed`.
 */
export async function sync(options: SyncOptions): Promise<SyncResult> {
  const emit = (event: SyncEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A sink must not throw; if it does, the sync still goes on.
    }
  };
  try {
    return await runSync(options, emit);
  } catch (error) {
    if (isSyncError(error))
      emit({ type: 'error', code: error.code, message: error.message, path: error.path });
    throw error;
  }
}

/** A dry run: scans, hashes and plans, changes nothing, and returns the plan. */
export async function previewSync(options: SyncOptions): Promise<Plan> {
  const result = await sync({ ...options, config: { ...options.config, dryRun: true } });
  return result.plan;
}

async function runSync(options: SyncOptions, emit: (event: SyncEvent) => void): Promise<SyncResult> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const config = resolveConfig(options.config);
  const storages: Record<Side, Storage> = { source: options.source, destination: options.destination };
  const hashAlgorithm = checkCapabilities(config, storages);
  const controller = options.controller ?? new SyncController();
  const warnings: string[] = [];
  const warn = (message: string, path?: string) => {
    warnings.push(message);
    emit(path === undefined ? { type: 'warning', message } : { type: 'warning', message, path });
  };
  const ctx: RunContext = {
    storages,
    config,
    state: options.state,
    controller,
    clock,
    startedAt,
    hashAlgorithm,
    changedPaths: options.changedPaths,
    onConflict: options.onConflict,
    emit,
    warn,
    warnings,
  };
  let temporaryFilesRemoved = 0;
  const stateWarnings = new Set<string>();
  const warnState = (message: string) => {
    stateWarnings.add(message);
    warn(message);
  };
  const unsubscribe = controller.onChange((state) => {
    if (state === 'paused') emit({ type: 'paused' });
    if (state === 'resumed') emit({ type: 'resumed' });
  });
  try {
    const key = fingerprintKey(ctx);
    const found = await findUnchangedTrees(ctx, key);
    if (found.fingerprint) {
      const { metadata, fingerprint } = found;
      for (const side of SIDES) {
        emit({ type: 'scan_start', side });
        emit({ type: 'scan_complete', side, files: fingerprint[side].entries });
      }
      for (const warning of fingerprint.warnings) warn(warning);
      const plan = emptyPlan(false);
      emit({ type: 'plan_ready', actions: 0, total_files: 0, total_bytes: 0 });
      if (config.dryRun) return finish(emit, startedAt, clock.now(), 'completed', plan, [], [], warnings);
      emit({ type: 'sync_start', total_files: 0, total_bytes: 0, totals: emptyProgressTotals() });
      return await complete({ plan, outcome: emptyOutcome(), metadata, fingerprint });
    }

    let prepared: Prepared | null;
    try {
      prepared = await prepare(
        options,
        config,
        storages,
        hashAlgorithm,
        controller,
        emit,
        warn,
        warnState,
        found.metadata,
      );
    } catch (error) {
      // A cancel during the scan surfaces as an aborted listing: that is a cancelled run.
      if (!controller.isCancelled) throw error;
      prepared = null;
    }
    if (!prepared || controller.isCancelled) {
      const plan = emptyPlan(prepared?.lastKnown === null);
      return finish(emit, startedAt, clock.now(), 'cancelled', plan, [], [], warnings);
    }
    const { lastKnown, metadata, trees, input, isUnchanged, digests, leftovers, unreadable, sideFiles } =
      prepared;
    // Warnings so far are the listings' own (a run that skips the listings repeats them) and
    // the saved state's, which its repair settles.
    const listingWarnings = warnings.filter((warning) => !stateWarnings.has(warning));
    const preparedWarnings = warnings.length;
    const plan = isUnchanged ? emptyPlan(false) : planSync(input);
    for (const warning of plan.warnings) warn(warning);
    emit({
      type: 'plan_ready',
      actions: plan.actions.length,
      total_files: plan.totals.files,
      total_bytes: plan.totals.bytes,
    });

    if (config.dryRun) {
      const status = config.strict && unreadable.length > 0 ? 'failed' : 'completed';
      return finish(emit, startedAt, clock.now(), status, plan, unreadable, [], warnings);
    }

    // No other run of the pair writes now: temporary files are an interrupted run's litter.
    temporaryFilesRemoved = await removeLeftovers(storages, leftovers, emit, warn);

    const guard = maxDeleteViolation(plan, trees, config, sideFiles);
    if (guard) {
      return finish(
        emit,
        startedAt,
        clock.now(),
        'max-delete',
        plan,
        [guard, ...unreadable],
        [],
        warnings,
        temporaryFilesRemoved,
      );
    }

    emit({
      type: 'sync_start',
      total_files: plan.totals.files,
      total_bytes: plan.totals.bytes,
      totals: progressTotalsOf(plan.actions),
    });
    // Storages may defer the durability of their writes to flush(): it runs before every
    // recorded batch and before the final save, so nothing is recorded before it is durable.
    const flushStorages = async () => {
      await Promise.all(SIDES.map((side) => storages[side].flush?.()));
    };
    const recorder = new StateRecorder(options.state, {
      onFailure: (error) => warn(`could not record progress: ${messageOf(error)}`),
      beforeWrite: flushStorages,
      previous: lastKnown,
    });
    const executor = new Executor({
      storages,
      trees,
      config,
      gate: controller,
      emit,
      recorder,
      versionStamp: versionStamp(startedAt),
      startedAt,
      hashAlgorithm: canHashLocally(hashAlgorithm ?? '') ? (hashAlgorithm as HashAlgorithm) : DEFAULT_HASH,
      onConflict: options.onConflict,
    });
    await executor.run(plan.actions);
    await recorder.flush();
    const outcome = executor.outcome;
    outcome.errors.push(...unreadable);
    let durabilityError: unknown = recorder.durabilityError;
    if (durabilityError === undefined) {
      try {
        await flushStorages();
      } catch (error) {
        durabilityError = error;
      }
    }
    if (durabilityError !== undefined) {
      const code = isSyncError(durabilityError) ? durabilityError.code : 'INTERNAL';
      const message = `written files could not be made durable (${messageOf(durabilityError)}); what this run did after that is not recorded and is checked again next run`;
      outcome.errors.push({ code, message });
      emit({ type: 'error', code, message });
    }
    if (config.conflictStrategy === 'MANUAL' && !options.onConflict && outcome.pendingConflicts.length > 0) {
      warn(`${outcome.pendingConflicts.length} conflict(s) left pending: no conflict handler for MANUAL`);
    }

    const touched = new Set<string>();
    for (const action of plan.actions) {
      touched.add(action.path);
      if (action.to) touched.add(action.to);
    }
    const refreshed = isUnchanged
      ? { source: new Map(), destination: new Map() }
      : refreshUnchanged(lastKnown, trees, touched);
    // The saved state (read intact) needs no rewrite when the run changed nothing in it
    // (no rewrite of a large tree), or when the store already holds every change the run
    // recorded and keeps them so.
    const isSaved =
      lastKnown !== null &&
      refreshed.source.size === 0 &&
      refreshed.destination.size === 0 &&
      (recorder.count === 0 ||
        (!recorder.hasFailedWrites && (await options.state.keepsUpdates?.()) === true));
    const finalState =
      lastKnown !== null && recorder.count === 0 && isSaved ? lastKnown : recorder.compose(refreshed);
    if (!isSaved && durabilityError === undefined) await options.state.save(finalState);

    // Where the run leaves both trees in sync with the state, their digests are recorded.
    const isInSync =
      durabilityError === undefined &&
      !controller.isCancelled &&
      outcome.errors.length === 0 &&
      outcome.deferred.length === 0 &&
      outcome.pendingConflicts.length === 0 &&
      warnings.length === preparedWarnings;
    for (const path of recorder.changed) touched.add(path);
    const fingerprint = isInSync
      ? fingerprintAfterRun({ key, digests, trees, state: finalState, touched, listingWarnings })
      : null;
    return await complete({ plan, outcome, metadata, fingerprint });
  } finally {
    unsubscribe();
  }

  /** The end of every run that gets to execute: old versions pruned, metadata saved, stats told. */
  async function complete(run: {
    plan: Plan;
    outcome: ExecutionOutcome;
    metadata: SyncMetadata | null;
    fingerprint: TreeFingerprint | null;
  }): Promise<SyncResult> {
    const { plan, outcome, metadata } = run;
    for (const { message } of outcome.deferred) warnings.push(message);
    // An unreadable folder fails the run only when asked to (`strict`).
    const isFailed = outcome.errors.some((error) => config.strict || error.code !== 'UNREADABLE');
    const status: SyncStatus = controller.isCancelled ? 'cancelled' : isFailed ? 'failed' : 'completed';
    if (!controller.isCancelled) {
      for (const side of SIDES) {
        try {
          await pruneVersions(storages[side], config.versions.retentionDays, clock.now());
        } catch (error) {
          warn(
            `could not prune old versions on the ${side} side: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
    await saveRunMetadata(ctx, {
      metadata,
      status,
      pendingConflicts: outcome.pendingConflicts,
      fingerprint: run.fingerprint,
    });
    const stats: SyncStats = {
      actions: outcome.actions,
      bytesUploaded: outcome.bytesUploaded,
      bytesDownloaded: outcome.bytesDownloaded,
      conflicts: outcome.conflicts,
      conflictsPending: outcome.pendingConflicts.length,
      errors: outcome.errors.length,
      durationMs: clock.now() - startedAt,
      temporaryFilesRemoved,
      deferred: outcome.deferred.length,
    };
    emit({ type: 'sync_complete', stats, status });
    return {
      status,
      plan,
      stats,
      errors: outcome.errors,
      pendingConflicts: outcome.pendingConflicts,
      warnings,
      deferred: outcome.deferred,
    };
  }
}

interface Prepared {
  lastKnown: LastKnownState | null;
  metadata: SyncMetadata | null;
  trees: Record<Side, Tree>;
  input: PlanInput;
  /** Nothing changed on either side since the last sync (`isUnchangedSinceLastSync`). */
  isUnchanged: boolean;
  /** The listings' tree digests, where the backends make them. */
  digests: Record<Side, ListingDigest | null>;
  /** Temporary files of interrupted earlier runs the listings met. */
  leftovers: Record<Side, string[]>;
  /** Folders that could not be read (`UNREADABLE`), left out of this run on both sides. */
  unreadable: SyncRunError[];
  /** Files per side, where the trees are not whole (an incremental run). */
  sideFiles: Record<Side, number> | null;
}

/** Loads the state, scans both sides and hashes what the planner needs. */
async function prepare(
  options: SyncOptions,
  config: SyncConfig,
  storages: Record<Side, Storage>,
  hashAlgorithm: HashAlgorithm | null,
  controller: SyncController,
  emit: (event: SyncEvent) => void,
  warn: (message: string, path?: string) => void,
  warnState: (message: string) => void,
  metadataRead: SyncMetadata | null | undefined,
): Promise<Prepared> {
  // The saved state is read while both sides are scanned; nothing waits for it until then.
  const loading = loadSavedState(options.state, warnState, metadataRead);
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
  // An incremental run waits for the state: its records tell which paths it looks at. Access
  // check files anywhere in the trees need the whole trees: a full run then.
  const hasAccessCheck = !config.force && config.accessCheckFiles.length > 0;
  const scope =
    options.changedPaths && !hasAccessCheck
      ? incrementalScope(options.changedPaths, (await loading).lastKnown)
      : null;
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
  const trustsMetadata = config.comparison !== 'HASH_ONLY';
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
        // A listing of part of the tree has no digest of it.
        onDigest: scope
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
  if (scope && lastKnown) await addRenameOrigins(scope, trees, lastKnown, storages, include);
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
  const leftOut = new Set([...excludeCaseCollisions(storages, trees, warn), ...unreadableRoots]);
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
    await computeHashes(hashNeeds(input), storages, trees, hashAlgorithm, config, controller, warn);
  }
  const unreadableErrors: SyncRunError[] = SIDES.flatMap((side) =>
    [...unreadable[side]].sort().map((path) => ({
      path,
      code: 'UNREADABLE',
      message: `the folder ${path} on the ${side} side could not be read (permission denied); it was left alone on both sides`,
    })),
  );
  // The max-delete guard of an incremental run measures against the whole side, as recorded.
  const sideFiles =
    scope && lastKnown
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
    leftovers,
    unreadable: unreadableErrors,
    sideFiles,
  };
}

/**
 * Removes the temporary files of interrupted earlier runs, reporting how many per side;
 * one that cannot be removed is reported and left for a later run. Returns how many went.
 */
async function removeLeftovers(
  storages: Record<Side, Storage>,
  leftovers: Record<Side, string[]>,
  emit: (event: SyncEvent) => void,
  warn: (message: string, path?: string) => void,
): Promise<number> {
  let total = 0;
  for (const side of SIDES) {
    let count = 0;
    for (const path of leftovers[side]) {
      try {
        await storages[side].delete(path);
        count++;
      } catch (error) {
        warn(`could not remove the temporary file ${path} on the ${side} side: ${messageOf(error)}`, path);
      }
    }
    if (count > 0) emit({ type: 'temporary_files_removed', side, count });
    total += count;
  }
  return total;
}

function finish(
  emit: (event: SyncEvent) => void,
  startedAt: number,
  now: number,
  status: SyncStatus,
  plan: Plan,
  errors: SyncRunError[],
  pendingConflicts: ConflictInfo[],
  warnings: string[],
  temporaryFilesRemoved = 0,
): SyncResult {
  const stats: SyncStats = {
    actions: {},
    bytesUploaded: 0,
    bytesDownloaded: 0,
    conflicts: 0,
    conflictsPending: 0,
    errors: errors.length,
    durationMs: now - startedAt,
    temporaryFilesRemoved,
    deferred: 0,
  };
  emit({ type: 'sync_complete', stats, status });
  return { status, plan, stats, errors, pendingConflicts, warnings, deferred: [] };
}

const emptyPlan = (isFirstSync: boolean): Plan => ({
  actions: [],
  totals: { files: 0, bytes: 0, deletes: { source: 0, destination: 0 } },
  isFirstSync,
  warnings: [],
});

/**
 * Refuses comparison modes the backends cannot honour, naming the backend, and returns the
 * hash algorithm both sides offer (null when they share none).
 */
function checkCapabilities(config: SyncConfig, storages: Record<Side, Storage>): HashAlgorithm | null {
  const { source, destination } = storages;
  const common = source.capabilities.hashAlgorithms.filter((algorithm) =>
    destination.capabilities.hashAlgorithms.includes(algorithm),
  );
  if (config.comparison === 'HASH_ONLY' && common.length === 0) {
    const lacking = SIDES.filter((side) => storages[side].capabilities.hashAlgorithms.length === 0);
    const who =
      lacking.length > 0
        ? lacking.map((side) => `${side} ${storages[side].description} offers no content hashes`).join('; ')
        : `${source.description} offers ${source.capabilities.hashAlgorithms.join(', ')} and ${destination.description} offers ${destination.capabilities.hashAlgorithms.join(', ')}`;
    throw new SyncError('HASH_UNAVAILABLE', `HASH_ONLY needs a hash algorithm both sides offer: ${who}`);
  }
  if (config.comparison === 'MTIME_ONLY' || config.comparison === 'SIZE_AND_MTIME') {
    for (const side of SIDES) {
      if (storages[side].capabilities.mtimePrecisionMs === null) {
        throw new SyncError(
          'INVALID_CONFIG',
          `${config.comparison} needs modification times, and the ${side} ${storages[side].description} keeps none`,
        );
      }
    }
  }
  return common.find(canHashLocally) ?? common[0] ?? null;
}

/**
 * Where either side is case-insensitive, paths that differ only in case would overwrite
 * each other there: they are reported, and returned to be left out of this run (with
 * everything below them).
 */
function excludeCaseCollisions(
  storages: Record<Side, Storage>,
  trees: Record<Side, Tree>,
  warn: (message: string, path?: string) => void,
): string[] {
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
  needs: { source: string[]; destination: string[] },
  storages: Record<Side, Storage>,
  trees: Record<Side, Tree>,
  algorithm: HashAlgorithm,
  config: SyncConfig,
  controller: SyncController,
  warn: (message: string, path?: string) => void,
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
        warn(
          `could not hash ${path} on the ${side} side: ${error instanceof Error ? error.message : String(error)}`,
          path,
        );
      },
    },
  );
}

/** The max-delete guard: the violation, or null when the plan stays within the limit. */
function maxDeleteViolation(
  plan: Plan,
  trees: Record<Side, Tree>,
  config: SyncConfig,
  sideFiles: Record<Side, number> | null,
): SyncRunError | null {
  if (config.force) return null;
  for (const side of SIDES) {
    const type = side === 'source' ? 'DELETE_SOURCE' : 'DELETE_DESTINATION';
    const deletes = plan.actions.filter(
      (action) => action.type === type && !(action.isDir ?? trees[side].get(action.path)?.isDir),
    ).length;
    if (deletes === 0) continue;
    let files = 0;
    for (const entry of trees[side].values()) if (!entry.isDir) files++;
    if (sideFiles) files = Math.max(files, sideFiles[side]);
    if (files === 0) continue;
    const percent = (deletes / files) * 100;
    if (percent > config.maxDeletePercent) {
      return {
        code: 'MAX_DELETE',
        message: `stopped before changing anything: the run would delete ${deletes} of ${files} files (${percent.toFixed(1)} %) on the ${side} side, above maxDeletePercent ${config.maxDeletePercent} %; use force to run anyway`,
      };
    }
  }
  return null;
}
