import type {
  ConflictResolution,
  EntryMetadata,
  Location,
  RunProgress,
  RunStats,
  RunStatus,
} from '@syncengine/contracts';
import {
  type ConflictRepo,
  type Database,
  type KeptVersionRecord,
  type KeptVersionRepo,
  PairLockLostError,
  type PairRecord,
  type PairRepo,
  PostgresStateStore,
  type RunActionRepo,
  type RunRecord,
  type RunRepo,
  toPublicRun,
} from '@syncengine/db';
import type {
  ApplyDecisionsOptions,
  ConflictInfo,
  DecisionOutcome,
  Entry,
  Plan,
  PlannedAction,
  StateChange,
  Storage,
  SyncEvent,
  SyncOptions,
  SyncResult,
} from '@syncengine/engine';
import { SyncController, scrubbedMessage, scrubSecrets } from '@syncengine/engine';
import { PathNotAllowedError } from '@syncengine/locations';
import type { SecretBox } from '@syncengine/secrets';
import type { EventBus } from './bus.js';
import { type JobContext, JobTimeoutError } from './job-queue.js';
import type { RunLauncher } from './launcher.js';
import type { PairLocations } from './pair-check.js';
import { pairSyncConfig } from './pair-sync-config.js';
import { ProgressTracker } from './progress.js';
import { createThrottle } from './throttle.js';

/** The engine entry points a sync-run job calls (injected, so tests and workers share one path). */
export interface SyncEngine {
  sync(options: SyncOptions): Promise<SyncResult>;
  applyConflictDecisions(options: ApplyDecisionsOptions): Promise<DecisionOutcome[]>;
  /** Plans a run without carrying it out (previews). */
  previewSync(options: SyncOptions): Promise<Plan>;
}

const SIDE_NAME = { source: 'source', destination: 'destination' } as const;

/** What applying a decision did, in words, for the conflict's history. */
export function describeOutcome(outcome: Extract<DecisionOutcome, { status: 'applied' }>): string {
  const fileName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  switch (outcome.resolution) {
    case 'keep-both':
      return outcome.renamed
        ? `kept both; the ${SIDE_NAME[outcome.renamed.side]}'s copy is now ${fileName(outcome.renamed.to)} on both sides`
        : 'kept both';
    case 'source':
    case 'destination': {
      const loser = outcome.resolution === 'source' ? 'destination' : 'source';
      return `kept the ${outcome.resolution}'s copy on both sides; the ${loser}'s copy is kept as a version`;
    }
  }
}

export interface SyncRunJobDeps {
  db: Database;
  pairs: Pick<PairRepo, 'get'>;
  runs: Pick<RunRepo, 'get' | 'transition' | 'transitionClosingUnseen' | 'setProgress'>;
  runActions: Pick<RunActionRepo, 'insertMany'>;
  /** Records why each version a run keeps was kept. */
  keptVersions: Pick<KeptVersionRepo, 'recordMany'>;
  conflicts: Pick<
    ConflictRepo,
    'recordDetected' | 'markApplied' | 'countUnappliedDecisions' | 'listUnappliedDecisions'
  >;
  bus: EventBus;
  /** Starts follow-up runs for conflict decisions that arrive after their run. */
  launcher: Pick<RunLauncher, 'launch'>;
  secrets: Pick<SecretBox, 'open'>;
  openStorage(location: Location): Promise<Storage>;
  engine: SyncEngine;
  options?: {
    /** Minimum time between two `run.progress` events of a run (≤ 10 a second). */
    progressIntervalMs?: number;
    /**
     * Minimum time between two progress writes to the database. The first comes one
     * interval into the run; the last is written with the run's end (a run shorter than
     * an interval writes its progress once, with its outcome).
     */
    progressWriteIntervalMs?: number;
  };
  log?: { warn(message: string): void; error(message: string): void };
}

/** A pair as read for a run, with its locations decrypted; null when it is gone. */
export type LoadedPair = { pair: PairRecord; locations: PairLocations } | null;

/** A run executing in this process. */
interface LiveRun {
  controller: SyncController;
}

/** A run that has started here, with its pair. */
interface StartedRun {
  run: RunRecord;
  pair: PairRecord;
  liveRun: LiveRun;
}

const toEntryMetadata = (entry: Entry | null): EntryMetadata | null =>
  entry
    ? {
        path: entry.path,
        size: entry.size,
        mtime: entry.mtime,
        isDir: entry.isDir,
        ...(entry.hash !== undefined ? { hash: entry.hash } : {}),
        ...(entry.hashAlgorithm !== undefined ? { hashAlgorithm: entry.hashAlgorithm } : {}),
        ...(entry.id !== undefined ? { id: entry.id } : {}),
      }
    : null;

/** An error as a run records and logs it: never with a secret a driver's error may carry. */
const errorMessage = (error: unknown) => {
  if (error instanceof PathNotAllowedError && error.field) return `${error.field}: ${error.message}`;
  return scrubbedMessage(error);
};

/**
 * Opens one side of a pair (its decrypted location) the way runs and previews do. A
 * location refused by the confinement of local paths is reported with the side's field
 * (`source.path`).
 */
export async function openPairSide(
  deps: Pick<SyncRunJobDeps, 'openStorage'>,
  location: Location,
  side: 'source' | 'destination',
): Promise<Storage> {
  try {
    return await deps.openStorage(location);
  } catch (error) {
    if (error instanceof PathNotAllowedError) {
      throw new PathNotAllowedError(error.message, `${side}.${error.field ?? 'path'}`);
    }
    throw error;
  }
}

/**
 * The `sync-run` job: executes one sync run, for the job handlers that the in-process
 * runner and BullMQ workers share (`createJobHandlers`); the engine's own executor carries
 * out a plan's actions inside it. Loads the pair, opens both storages, runs the engine with the
 * Postgres state store, and writes progress, the action log, conflicts and the outcome,
 * publishing events as it goes. MANUAL conflicts never hold a run: they are recorded as
 * pending and the run ends `needs_decision`; a `conflict-resolution` run applies the
 * decisions. Pause, resume and cancel arrive as
 * control messages on the bus.
 */
export function createSyncRunJob(deps: SyncRunJobDeps) {
  const progressIntervalMs = deps.options?.progressIntervalMs ?? 100;
  const progressWriteIntervalMs = deps.options?.progressWriteIntervalMs ?? 1_000;
  const live = new Map<string, LiveRun>();

  const stopControl = deps.bus.onControl((message) => {
    const run = live.get(message.runId);
    if (!run) return;
    switch (message.type) {
      case 'pause':
        run.controller.pause();
        break;
      case 'resume':
        run.controller.resume();
        break;
      case 'cancel':
        run.controller.cancel();
        break;
    }
  });

  /**
   * Records a run's end. With `seenPaths` (a complete run), the pair's open conflicts the
   * run did not meet at those paths are closed in the same statement, and told first.
   */
  async function finish(
    run: RunRecord,
    status: Extract<RunStatus, 'completed' | 'needs_decision' | 'failed' | 'cancelled'>,
    fields: { stats?: RunStats; error?: string | null; progress?: RunProgress | undefined },
    seenPaths?: string[],
  ): Promise<RunRecord | null> {
    const { progress, ...outcome } = fields;
    const from: RunStatus[] = ['queued', 'running', 'paused'];
    const ended = {
      finishedAt: new Date(),
      ...outcome,
      ...(progress ? { progress } : {}),
      // The reason is shown and kept: a backend's message may hold a URL or header with credentials.
      ...(fields.error ? { error: scrubSecrets(fields.error) } : {}),
    };
    let finished: RunRecord | null;
    if (seenPaths) {
      const closing = await deps.runs.transitionClosingUnseen(run.id, from, status, ended, {
        pairId: run.pairId,
        seenPaths,
      });
      for (const conflict of closing.closed) await deps.bus.publish({ type: 'conflict.resolved', conflict });
      finished = closing.run;
    } else {
      finished = await deps.runs.transition(run.id, from, status, ended);
    }
    if (finished) {
      const type =
        status === 'completed' || status === 'needs_decision'
          ? 'run.completed'
          : status === 'failed'
            ? 'run.failed'
            : 'run.cancelled';
      await deps.bus.publish({ type, run: toPublicRun(finished) });
    } else if (progress) {
      // Ended by someone else meanwhile: its progress is still the run's own.
      await deps.runs.setProgress(run.id, progress);
    }
    return finished;
  }

  /**
   * Starts a queued run (or one whose executor stopped while it ran) in one statement, its
   * pair already read: the common case. Null where the run is in no such status (then
   * `start` finds out why).
   */
  async function startQueued(runId: string, loadedPair: PairRecord): Promise<StartedRun | null> {
    const liveRun: LiveRun = { controller: new SyncController() };
    live.set(runId, liveRun);
    const run = await deps.runs.transition(runId, ['queued', 'running'], 'running', {
      startedAt: new Date(),
    });
    if (!run) {
      live.delete(runId);
      return null;
    }
    const pair = run.pairId === loadedPair.id ? loadedPair : await deps.pairs.get(run.pairId);
    if (!pair) {
      live.delete(runId);
      await finish(run, 'failed', { error: 'the pair no longer exists' });
      return null;
    }
    return { run, pair, liveRun };
  }

  /** Reads a run and starts it as its status says; null where there is nothing to run. */
  async function start(runId: string, loaded: LoadedPair | undefined): Promise<StartedRun | null> {
    const queued = await deps.runs.get(runId);
    // Gone or already finished (a duplicate delivery, or cancelled while queued): nothing to do.
    if (
      !queued ||
      queued.status === 'completed' ||
      queued.status === 'needs_decision' ||
      queued.status === 'failed' ||
      queued.status === 'cancelled'
    ) {
      return null;
    }
    const pair =
      loaded !== undefined && (loaded === null || loaded.pair.id === queued.pairId)
        ? (loaded?.pair ?? null)
        : await deps.pairs.get(queued.pairId);
    if (!pair) {
      await finish(queued, 'failed', { error: 'the pair no longer exists' });
      return null;
    }
    const liveRun: LiveRun = { controller: new SyncController() };
    // A run that was paused when the process running it died (a crash, a restart) starts
    // again paused and waits for a resume. It is live before its status is read again, so
    // a resume sent in between reaches its controller.
    if (queued.status === 'paused') liveRun.controller.pause();
    live.set(queued.id, liveRun);
    const startedAt = new Date();
    const run =
      (queued.status === 'paused'
        ? await deps.runs.transition(queued.id, ['paused'], 'paused', { startedAt })
        : null) ??
      (await deps.runs.transition(queued.id, ['queued', 'running', 'paused'], 'running', { startedAt }));
    if (!run) {
      live.delete(queued.id);
      return null;
    }
    return { run, pair, liveRun };
  }

  /**
   * Executes one run. With a context, its signal stops the run as a cancel does (running
   * operations finish, nothing new starts, what was done is recorded): on a timeout the run
   * is then recorded as failed with the reason; on a lost pair lock nothing more is written
   * for it (a newer run may own the pair) and the PairLockLostError is thrown, leaving the
   * run active for its job to be tried again, which resumes it from its recorded state.
   * `loaded` is the run's pair as the caller already read it (`null`: not found), with its
   * locations decrypted, so a run reads and decrypts its pair once.
   */
  async function execute(
    payload: { runId: string; pairId: string; changedPaths?: string[] | undefined },
    context?: JobContext,
    loaded?: LoadedPair,
  ): Promise<void> {
    if (live.has(payload.runId)) return;
    const started =
      (loaded ? await startQueued(payload.runId, loaded.pair) : null) ?? (await start(payload.runId, loaded));
    if (!started) return;
    const { run, pair, liveRun } = started;
    if (run.status === 'running') liveRun.controller.resume();
    await deps.bus.publish({ type: 'run.started', run: toPublicRun(run) });

    const signal = context?.signal;
    const stop = () => liveRun.controller.cancel();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    const storages: Storage[] = [];
    const work = createRunWork(run, pair);
    let isCompleted = false;
    try {
      const locations =
        loaded?.pair === pair
          ? loaded.locations
          : { source: deps.secrets.open(pair.source), destination: deps.secrets.open(pair.destination) };
      const source = await openPairSide(deps, locations.source, 'source');
      storages.push(source);
      const destination = await openPairSide(deps, locations.destination, 'destination');
      storages.push(destination);
      if (run.trigger === 'conflict-resolution' && !run.dryRun) {
        isCompleted = await applyDecisions(run, pair, { source, destination }, liveRun, work, context);
        return;
      }
      const result = await deps.engine.sync({
        source,
        destination,
        state: new PostgresStateStore(deps.db, pair.id, { lockEpoch: context?.lockEpoch }),
        config: pairSyncConfig(pair, run),
        controller: liveRun.controller,
        onEvent: work.onEvent,
        ...(payload.changedPaths ? { changedPaths: payload.changedPaths } : {}),
        ...(pair.conflictResolution === 'MANUAL' ? { onConflict: work.onConflict } : {}),
      });
      // The last progress is written with the outcome (or, should the run not get there, below).
      await work.settle({ progress: false });
      const stopReason: unknown = signal?.aborted ? signal.reason : undefined;
      if (stopReason instanceof PairLockLostError) throw stopReason;
      if (run.dryRun) await work.recordPlan(result.plan.actions);
      const stats = result.stats as RunStats;
      switch (result.status) {
        case 'completed':
          // Everything else is done; MANUAL conflicts wait for decisions without holding the run.
          // Closes, with the run's end, the conflicts it no longer met (someone made both sides agree).
          await finish(
            run,
            stats.conflictsPending > 0 && !run.dryRun ? 'needs_decision' : 'completed',
            { stats, progress: work.takeProgress() },
            run.dryRun ? undefined : [...work.conflictPaths],
          );
          isCompleted = true;
          break;
        case 'cancelled':
          if (stopReason instanceof JobTimeoutError)
            await finish(run, 'failed', { stats, error: stopReason.message, progress: work.takeProgress() });
          else await finish(run, 'cancelled', { stats, progress: work.takeProgress() });
          break;
        case 'max-delete':
          await finish(run, 'failed', {
            stats,
            error: result.errors[0]?.message ?? 'stopped by the max-delete guard; nothing was deleted',
            progress: work.takeProgress(),
          });
          break;
        case 'failed': {
          const first = result.errors[0];
          const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
          await finish(run, 'failed', {
            stats,
            error: first ? `${first.path ? `${first.path}: ` : ''}${first.message}${more}` : 'the run failed',
            progress: work.takeProgress(),
          });
          break;
        }
      }
    } catch (error) {
      const lockLost =
        error instanceof PairLockLostError
          ? error
          : signal?.reason instanceof PairLockLostError
            ? signal.reason
            : null;
      // A run that stays active writes its progress now; a failed one with its end.
      await work.settle({ progress: lockLost !== null }).catch(() => {});
      if (lockLost) {
        deps.log?.warn(`run ${run.id} stopped: ${lockLost.message}; it resumes once its pair is free`);
        throw lockLost;
      }
      await finish(run, 'failed', {
        error: signal?.reason instanceof JobTimeoutError ? signal.reason.message : errorMessage(error),
        progress: work.takeProgress(),
      });
    } finally {
      signal?.removeEventListener('abort', stop);
      live.delete(run.id);
      for (const storage of storages) await storage.close?.().catch(() => {});
    }
    // Only after a complete run: a run that failed (a folder gone) would fail again, and a
    // follow-up of each would loop. The decision stays recorded for the next run.
    if (!run.dryRun && isCompleted) await launchFollowUpIfDecided(pair.id);
  }

  /**
   * A `conflict-resolution` run: carries out the decided conflicts of the pair that no run
   * has applied yet, and nothing else (no listing, no plan). A decision whose files changed
   * since stays unapplied for the next sync. Returns whether the run completed.
   */
  async function applyDecisions(
    run: RunRecord,
    pair: PairRecord,
    storages: { source: Storage; destination: Storage },
    liveRun: LiveRun,
    work: ReturnType<typeof createRunWork>,
    context: JobContext | undefined,
  ): Promise<boolean> {
    const startedAt = Date.now();
    const decided = await deps.conflicts.listUnappliedDecisions(pair.id);
    // Fenced like a sync run's store: a worker whose lock a newer one took records nothing,
    // and the run stays active for its job to be tried again.
    const state = new LockAwareStateStore(deps.db, pair.id, { lockEpoch: context?.lockEpoch });
    const outcomes = await deps.engine.applyConflictDecisions({
      ...storages,
      state,
      config: pairSyncConfig(pair, run),
      controller: liveRun.controller,
      onEvent: work.onEvent,
      decisions: decided.map((conflict) => ({
        path: conflict.path,
        resolution: conflict.resolution as Exclude<ConflictResolution, 'skip'>,
        source: conflict.source as Entry | null,
        destination: conflict.destination as Entry | null,
      })),
    });
    const lockLost =
      context?.signal?.reason instanceof PairLockLostError ? context.signal.reason : state.lockLost;
    if (lockLost) throw lockLost;
    const failures: string[] = [];
    let applied = 0;
    for (const [index, outcome] of outcomes.entries()) {
      const conflict = decided[index]!;
      if (outcome.status === 'applied') {
        applied += 1;
        const done = await deps.conflicts.markApplied(conflict.id, run.id, describeOutcome(outcome));
        if (done) await deps.bus.publish({ type: 'conflict.resolved', conflict: done });
      } else if (outcome.status === 'failed') {
        failures.push(`${outcome.path}: ${outcome.message}`);
      } else {
        deps.log?.warn(`run ${run.id}: ${outcome.message}`);
      }
    }
    await work.settle({ progress: false });
    const stats: RunStats = {
      actions: applied > 0 ? { CONFLICT: applied } : {},
      bytesUploaded: 0,
      bytesDownloaded: 0,
      conflicts: decided.length,
      conflictsPending: 0,
      errors: failures.length,
      durationMs: Date.now() - startedAt,
    };
    if (failures.length > 0) {
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
      await finish(run, 'failed', { stats, error: `${failures[0]}${more}`, progress: work.takeProgress() });
      return false;
    }
    await finish(run, liveRun.controller.isCancelled ? 'cancelled' : 'completed', {
      stats,
      progress: work.takeProgress(),
    });
    // Decisions taken while this run went (not those left for the next sync) get their own.
    const left = outcomes.filter((outcome) => outcome.status === 'changed').length;
    if (!liveRun.controller.isCancelled && (await deps.conflicts.countUnappliedDecisions(pair.id)) > left) {
      await launchFollowUpIfDecided(pair.id);
    }
    return !liveRun.controller.isCancelled;
  }

  /** Decisions taken after their run stopped waiting are applied by a follow-up run. */
  async function launchFollowUpIfDecided(pairId: string): Promise<void> {
    if ((await deps.conflicts.countUnappliedDecisions(pairId)) === 0) return;
    try {
      await deps.launcher.launch(pairId, { trigger: 'conflict-resolution' });
    } catch (error) {
      deps.log?.error(`could not start a follow-up run for pair ${pairId}: ${errorMessage(error)}`);
    }
  }

  function createRunWork(run: RunRecord, pair: PairRecord) {
    const tracker = new ProgressTracker();
    const ref = { runId: run.id, pairId: pair.id };
    const pendingWrites = new Set<Promise<unknown>>();
    const track = (promise: Promise<unknown>) => {
      const tracked = promise
        .catch((error) => deps.log?.warn(`run ${run.id}: ${errorMessage(error)}`))
        .finally(() => pendingWrites.delete(tracked));
      pendingWrites.add(tracked);
    };
    const progressEvents = createThrottle(progressIntervalMs, () =>
      track(deps.bus.publish({ type: 'run.progress', ...ref, progress: tracker.progress })),
    );
    /** Whether the progress changed since it was last written. */
    let isProgressUnwritten = false;
    const writeProgress = () => {
      isProgressUnwritten = false;
      track(deps.runs.setProgress(run.id, tracker.progress));
    };
    const progressWrites = createThrottle(progressWriteIntervalMs, writeProgress);
    // The first write comes one interval into the run: a short run writes its progress only
    // with its end, in the same statement.
    progressWrites.markSent();
    let actionBuffer: Parameters<RunActionRepo['insertMany']>[1] = [];
    let actionTimer: NodeJS.Timeout | null = null;
    let keptBuffer: KeptVersionRecord[] = [];
    const flushActions = () => {
      if (actionTimer) clearTimeout(actionTimer);
      actionTimer = null;
      if (keptBuffer.length > 0) {
        const kept = keptBuffer;
        keptBuffer = [];
        track(deps.keptVersions.recordMany(pair.id, kept));
      }
      const batch = actionBuffer;
      actionBuffer = [];
      if (batch.length === 0) return;
      track(
        // Published together: the bus sends them in this order (one Redis connection, or
        // in-process in call order) without waiting for each in turn.
        deps.runActions
          .insertMany(run.id, batch)
          .then((rows) =>
            Promise.all(rows.map((action) => deps.bus.publish({ type: 'run.action', ...ref, action }))),
          ),
      );
    };
    const conflictPaths = new Set<string>();
    /** Paths of conflicts this run left pending (shown as pending in the action log). */
    const pendingPaths = new Set<string>();

    const onEvent = (event: SyncEvent) => {
      if (event.type === 'paused' || event.type === 'resumed') {
        track(deps.bus.publish({ type: event.type === 'paused' ? 'run.paused' : 'run.resumed', ...ref }));
      }
      if (event.type === 'version_kept') {
        keptBuffer.push({
          side: event.side,
          versionPath: event.versionPath,
          path: event.path,
          reason: event.reason,
          runId: run.id,
        });
      }
      if (event.type === 'conflict' && event.conflict.resolution === 'skip')
        pendingPaths.add(event.conflict.path);
      if (event.type === 'action_complete' && event.action.type !== 'NO_ACTION') {
        const isPending =
          event.action.type === 'CONFLICT' &&
          event.error === undefined &&
          pendingPaths.has(event.action.path);
        actionBuffer.push({
          type: event.action.type,
          path: event.action.path,
          to: event.action.to ?? null,
          isDir: event.action.isDir ?? false,
          reason: event.action.reason,
          bytes: event.action.bytes,
          status: isPending ? 'pending' : event.error === undefined ? 'done' : 'failed',
          error: event.error ?? null,
        });
        if (actionBuffer.length >= 500) flushActions();
        else actionTimer ??= setTimeout(flushActions, 250);
      }
      if (tracker.apply(event)) {
        progressEvents.push(undefined);
        isProgressUnwritten = true;
        progressWrites.push(undefined);
      }
    };

    const onConflict = async (info: ConflictInfo): Promise<ConflictResolution> => {
      conflictPaths.add(info.path);
      const detected = await deps.conflicts.recordDetected({
        pairId: pair.id,
        runId: run.id,
        path: info.path,
        source: toEntryMetadata(info.source),
        destination: toEntryMetadata(info.destination),
      });
      if (detected.decision) {
        await deps.conflicts.markApplied(detected.conflict.id, run.id);
        return detected.decision;
      }
      if (detected.isNew) await deps.bus.publish({ type: 'conflict.created', conflict: detected.conflict });
      // The conflict waits in the inbox; the run goes on with everything else.
      return 'skip';
    };

    return {
      onEvent,
      onConflict,
      conflictPaths,
      async recordPlan(actions: PlannedAction[]) {
        const planned = actions
          .filter((action) => action.type !== 'NO_ACTION')
          .map((action) => ({
            type: action.type,
            path: action.path,
            to: action.to ?? null,
            isDir: action.isDir ?? false,
            reason: action.reason,
            bytes: action.bytes,
            status: 'planned' as const,
            error: null,
          }));
        await deps.runActions.insertMany(run.id, planned);
      },
      /**
       * Writes everything buffered and waits for it. With `progress: false`, the progress
       * is left unwritten for the run's end to write (`takeProgress`).
       */
      async settle(options: { progress?: boolean } = {}) {
        flushActions();
        progressEvents.flush();
        progressWrites.cancel();
        if (options.progress !== false && isProgressUnwritten) writeProgress();
        while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
      },
      /** The progress, when it changed since it was last written (then counted as written). */
      takeProgress(): RunProgress | undefined {
        if (!isProgressUnwritten) return undefined;
        isProgressUnwritten = false;
        return tracker.progress;
      },
    };
  }

  return {
    execute,
    /** Runs executing in this process. */
    liveRunIds: () => [...live.keys()],
    close() {
      stopControl();
      for (const run of live.values()) run.controller.cancel();
    },
  };
}
export type SyncRunJob = ReturnType<typeof createSyncRunJob>;

/**
 * The pair's state store, remembering a write refused because the pair's lock was taken by a
 * newer run (the engine reports a failed write as a warning and goes on).
 */
class LockAwareStateStore extends PostgresStateStore {
  lockLost: PairLockLostError | undefined;

  override async update(changes: StateChange[]): Promise<void> {
    try {
      await super.update(changes);
    } catch (error) {
      if (error instanceof PairLockLostError) this.lockLost ??= error;
      throw error;
    }
  }
}
