import type { SyncOptions, SyncResult, SyncRunError } from '../api.js';
import { systemClock } from '../clock.js';
import { resolveConfig } from '../config.js';
import { SyncController } from '../controller.js';
import { isSyncError } from '../errors.js';
import type { SyncEvent, SyncStatus } from '../events.js';
import { canHashLocally, DEFAULT_HASH } from '../hash.js';
import type { HashAlgorithm, LastKnownState, Plan, Side, SyncStats } from '../model.js';
import { planSync } from '../planner/index.js';
import { emptyProgressTotals, progressTotalsOf } from '../progress.js';
import { RateLimit } from '../rate-limit.js';
import type { StateChange, SyncMetadata, TreeFingerprint } from '../state-store.js';
import { type ExecutionOutcome, Executor, emptyOutcome } from './executor.js';
import { findUnchangedTrees, fingerprintAfterRun, fingerprintKey } from './fingerprint.js';
import { recordedFileCount } from './incremental.js';
import { removeLeftovers } from './leftovers.js';
import { saveRunMetadata } from './metadata.js';
import { checkCapabilities, maxDeleteViolation } from './preflight.js';
import { type Prepared, prepare } from './prepare.js';
import { refreshUnchanged } from './record-reuse.js';
import { messageOf, type RunContext, SIDES } from './run-context.js';
import { StateRecorder } from './state-recorder.js';
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
    return await runSync(startRun(options, emit));
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

/** The run's context: its settings resolved, and the backends checked for what they ask. */
function startRun(options: SyncOptions, emit: (event: SyncEvent) => void): RunContext {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const config = resolveConfig(options.config);
  const storages = { source: options.source, destination: options.destination };
  const hashAlgorithm = checkCapabilities(config, storages);
  const warnings: string[] = [];
  return {
    storages,
    config,
    state: options.state,
    controller: options.controller ?? new SyncController(),
    clock,
    startedAt,
    hashAlgorithm,
    changedPaths: options.changedPaths,
    onConflict: options.onConflict,
    emit,
    warn: (message, path) => {
      warnings.push(message);
      emit(path === undefined ? { type: 'warning', message } : { type: 'warning', message, path });
    },
    warnings,
  };
}

async function runSync(ctx: RunContext): Promise<SyncResult> {
  const { config, controller, emit, warn, warnings } = ctx;
  const unsubscribe = controller.onChange((state) => {
    if (state === 'paused') emit({ type: 'paused' });
    if (state === 'resumed') emit({ type: 'resumed' });
  });
  try {
    // Both trees exactly as the last run left them in sync: nothing to scan, plan or do.
    const key = fingerprintKey(ctx);
    const found = await findUnchangedTrees(ctx, key);
    if (found.fingerprint) return await completeUnchanged(ctx, found.metadata, found.fingerprint);

    // Load the last-known state, scan both sides, hash what the planner needs.
    let prepared: Prepared | null;
    try {
      prepared = await prepare(ctx, found.metadata, found.changes);
    } catch (error) {
      // A cancel during the scan surfaces as an aborted listing: that is a cancelled run.
      if (!controller.isCancelled) throw error;
      prepared = null;
    }
    if (!prepared || controller.isCancelled) {
      return finish(ctx, 'cancelled', emptyPlan(prepared?.lastKnown === null));
    }
    const { isUnchanged, unreadable } = prepared;
    const preparedWarnings = warnings.length;

    // Plan.
    const plan = isUnchanged ? emptyPlan(false) : planSync(prepared.input);
    for (const warning of plan.warnings) warn(warning);
    emit({
      type: 'plan_ready',
      actions: plan.actions.length,
      total_files: plan.totals.files,
      total_bytes: plan.totals.bytes,
    });
    if (config.dryRun) {
      return finish(ctx, config.strict && unreadable.length > 0 ? 'failed' : 'completed', plan, unreadable);
    }

    // No other run of the pair writes now: temporary files are an interrupted run's litter.
    const temporaryFilesRemoved = await removeLeftovers(ctx, prepared.leftovers);

    const guard = maxDeleteViolation(config, plan, prepared);
    if (guard) return finish(ctx, 'max-delete', plan, [guard, ...unreadable], temporaryFilesRemoved);

    // Execute, recording each completed action, then save the state the run leaves.
    const executed = await execute(ctx, plan, prepared);
    const { outcome, durabilityError } = executed;
    const { finalState, touched } = prepared.isPartial
      ? await recordPart(ctx, plan, prepared, executed)
      : await saveState(ctx, plan, prepared, executed);

    // Where the run leaves both trees in sync with the state, their digests are recorded.
    const isInSync =
      durabilityError === undefined &&
      !controller.isCancelled &&
      outcome.errors.length === 0 &&
      outcome.deferred.length === 0 &&
      outcome.pendingConflicts.length === 0 &&
      warnings.length === preparedWarnings;
    const fingerprint = isInSync
      ? fingerprintAfterRun({
          key,
          digests: prepared.digests,
          trees: prepared.trees,
          state: finalState,
          entries: prepared.isPartial ? await savedEntries(ctx) : undefined,
          touched,
          listingWarnings: prepared.listingWarnings,
          scoped:
            prepared.folderScope && found.changes
              ? { previous: found.changes.previous, scope: prepared.folderScope }
              : undefined,
        })
      : null;
    return await complete(ctx, {
      plan,
      outcome,
      metadata: prepared.metadata,
      fingerprint,
      temporaryFilesRemoved,
    });
  } finally {
    unsubscribe();
  }
}

/** A run that found both trees unchanged: it reports them as scanned, with nothing to do. */
async function completeUnchanged(
  ctx: RunContext,
  metadata: SyncMetadata,
  fingerprint: TreeFingerprint,
): Promise<SyncResult> {
  const { emit, warn } = ctx;
  for (const side of SIDES) {
    emit({ type: 'scan_start', side });
    emit({ type: 'scan_complete', side, files: fingerprint[side].entries });
  }
  for (const warning of fingerprint.warnings) warn(warning);
  const plan = emptyPlan(false);
  emit({ type: 'plan_ready', actions: 0, total_files: 0, total_bytes: 0 });
  if (ctx.config.dryRun) return finish(ctx, 'completed', plan);
  emit({ type: 'sync_start', total_files: 0, total_bytes: 0, totals: emptyProgressTotals() });
  return await complete(ctx, {
    plan,
    outcome: emptyOutcome(),
    metadata,
    fingerprint,
    temporaryFilesRemoved: 0,
  });
}

interface Executed {
  outcome: ExecutionOutcome;
  recorder: StateRecorder;
  /** Why the written files could not be made durable; undefined when they were. */
  durabilityError: unknown;
}

/** Carries the plan out, recording each completed action as it goes. */
async function execute(ctx: RunContext, plan: Plan, prepared: Prepared): Promise<Executed> {
  const { storages, config, controller, emit, warn, startedAt, hashAlgorithm } = ctx;
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
  const recorder = new StateRecorder(ctx.state, {
    onFailure: (error) => warn(`could not record progress: ${messageOf(error)}`),
    beforeWrite: flushStorages,
    previous: prepared.lastKnown,
  });
  const executor = new Executor({
    storages,
    trees: prepared.trees,
    config,
    gate: controller,
    emit,
    recorder,
    versionStamp: versionStamp(startedAt),
    startedAt,
    hashAlgorithm: canHashLocally(hashAlgorithm ?? '') ? (hashAlgorithm as HashAlgorithm) : DEFAULT_HASH,
    onConflict: ctx.onConflict,
    rateLimit: config.bandwidthLimit === null ? undefined : new RateLimit(config.bandwidthLimit),
  });
  await executor.run(plan.actions);
  await recorder.flush();
  const outcome = executor.outcome;
  outcome.errors.push(...prepared.unreadable);
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
  if (config.conflictResolution === 'MANUAL' && !ctx.onConflict && outcome.pendingConflicts.length > 0) {
    warn(`${outcome.pendingConflicts.length} conflict(s) left pending: no conflict handler for MANUAL`);
  }
  return { outcome, recorder, durabilityError };
}

/** Entries and files per side of a whole state. */
function countsOf(state: LastKnownState): Record<Side, { entries: number; files: number }> {
  const count = (side: Side) => ({ entries: state[side].size, files: recordedFileCount(state, side) });
  return { source: count('source'), destination: count('destination') };
}

/** Every path an action of the plan touches: its own, and where it renames to. */
function actionPaths(plan: Plan): Set<string> {
  const paths = new Set<string>();
  for (const action of plan.actions) {
    paths.add(action.path);
    if (action.to) paths.add(action.to);
  }
  return paths;
}

/**
 * Saves the last-known state the run leaves (unless the store already holds it), and returns
 * it with every path an action or a record of the run touched.
 */
async function saveState(
  ctx: RunContext,
  plan: Plan,
  { lastKnown, trees, isUnchanged }: Prepared,
  { recorder, durabilityError }: Executed,
): Promise<{ finalState: LastKnownState; touched: Set<string> }> {
  const touched = actionPaths(plan);
  const refreshed = isUnchanged
    ? { source: new Map(), destination: new Map() }
    : refreshUnchanged(lastKnown, trees, touched);
  // The saved state (read intact) needs no rewrite when the run changed nothing in it
  // (no rewrite of a large tree), or when the store already holds every change the run
  // recorded and keeps them so.
  const holdsAll =
    lastKnown !== null &&
    refreshed.source.size === 0 &&
    refreshed.destination.size === 0 &&
    (recorder.count === 0 || !recorder.hasFailedWrites);
  if (holdsAll && recorder.count === 0) return { finalState: lastKnown, touched };
  const finalState = recorder.compose(refreshed);
  let isSaved = false;
  if (holdsAll && durabilityError === undefined && ctx.state.keepsUpdates) {
    // The whole state is known here: its counts spare a later partial load from reading
    // every record this run replaced.
    await ctx.state.checkpointCounts?.(countsOf(finalState));
    isSaved = (await ctx.state.keepsUpdates()) === true;
  }
  if (!isSaved && durabilityError === undefined) await ctx.state.save(finalState);
  for (const path of recorder.changed) touched.add(path);
  return { finalState, touched };
}

/**
 * Records what a run that loaded only part of the state leaves, with `update()` only: every
 * action's record went there as it completed, and so do the records refreshed now. Where an
 * update failed, the whole state is read and saved with every change of the run instead;
 * where the store would no longer keep its updates apart, they are compacted. Returns the
 * records within the scope as the run leaves them, with every path an action or a record of
 * the run touched.
 */
async function recordPart(
  ctx: RunContext,
  plan: Plan,
  { lastKnown, trees, isUnchanged }: Prepared,
  { recorder, durabilityError }: Executed,
): Promise<{ finalState: LastKnownState; touched: Set<string> }> {
  const touched = actionPaths(plan);
  // Nothing is recorded after written files could not be made durable (as a full run saves nothing then).
  if (durabilityError === undefined && !isUnchanged && lastKnown) {
    const refreshed = refreshUnchanged(lastKnown, trees, touched);
    const paths = new Set([...refreshed.source.keys(), ...refreshed.destination.keys()]);
    const changes: StateChange[] = [];
    for (const path of paths) {
      if (recorder.changed.has(path)) continue;
      changes.push({
        path,
        source: refreshed.source.get(path) ?? lastKnown.source.get(path) ?? null,
        destination: refreshed.destination.get(path) ?? lastKnown.destination.get(path) ?? null,
      });
    }
    if (changes.length > 0) {
      recorder.record(...changes);
      await recorder.flush();
    }
  }
  const empty = { source: new Map(), destination: new Map() };
  const finalState = recorder.compose(empty);
  if (durabilityError === undefined && recorder.hasFailedWrites) {
    // The store lacks changes only a save of the whole state carries.
    try {
      const whole = (await ctx.state.load()) ?? { source: new Map(), destination: new Map() };
      recorder.applyTo(whole);
      await ctx.state.save(whole);
    } catch (error) {
      // The next run finds what is not recorded and looks at it again.
      ctx.warn(`could not save the sync state: ${messageOf(error)}`);
    }
  } else if (recorder.count > 0 && (await ctx.state.keepsUpdates?.()) === false) {
    await ctx.state.compact?.();
  }
  for (const path of recorder.changed) touched.add(path);
  return { finalState, touched };
}

/** Entries per side of the whole saved state, as a run that loaded part of it leaves it. */
async function savedEntries(ctx: RunContext): Promise<Record<Side, number> | undefined> {
  const saved = await ctx.state.loadPart?.({ folders: [], subtrees: [], paths: [] });
  return saved
    ? { source: saved.counts.source.entries, destination: saved.counts.destination.entries }
    : undefined;
}

/** The end of every run that gets to execute: old versions pruned, metadata saved, stats told. */
async function complete(
  ctx: RunContext,
  run: {
    plan: Plan;
    outcome: ExecutionOutcome;
    metadata: SyncMetadata | null;
    fingerprint: TreeFingerprint | null;
    temporaryFilesRemoved: number;
  },
): Promise<SyncResult> {
  const { storages, config, controller, clock, startedAt, warnings } = ctx;
  const { plan, outcome } = run;
  for (const { message } of outcome.deferred) warnings.push(message);
  // An unreadable folder fails the run only when asked to (`strict`).
  const isFailed = outcome.errors.some((error) => config.strict || error.code !== 'UNREADABLE');
  const status: SyncStatus = controller.isCancelled ? 'cancelled' : isFailed ? 'failed' : 'completed';
  if (!controller.isCancelled) {
    for (const side of SIDES) {
      try {
        await pruneVersions(storages[side], config.versions.retentionDays, clock.now());
      } catch (error) {
        ctx.warn(`could not prune old versions on the ${side} side: ${messageOf(error)}`);
      }
    }
  }
  await saveRunMetadata(ctx, {
    metadata: run.metadata,
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
    temporaryFilesRemoved: run.temporaryFilesRemoved,
    deferred: outcome.deferred.length,
  };
  ctx.emit({ type: 'sync_complete', stats, status });
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

/** The end of a run that executes nothing (a dry run, a cancel before the plan, the max-delete guard). */
function finish(
  { emit, clock, startedAt, warnings }: RunContext,
  status: SyncStatus,
  plan: Plan,
  errors: SyncRunError[] = [],
  temporaryFilesRemoved = 0,
): SyncResult {
  const stats: SyncStats = {
    actions: {},
    bytesUploaded: 0,
    bytesDownloaded: 0,
    conflicts: 0,
    conflictsPending: 0,
    errors: errors.length,
    durationMs: clock.now() - startedAt,
    temporaryFilesRemoved,
    deferred: 0,
  };
  emit({ type: 'sync_complete', stats, status });
  return { status, plan, stats, errors, pendingConflicts: [], warnings, deferred: [] };
}

const emptyPlan = (isFirstSync: boolean): Plan => ({
  actions: [],
  totals: { files: 0, bytes: 0, deletes: { source: 0, destination: 0 } },
  isFirstSync,
  warnings: [],
});
