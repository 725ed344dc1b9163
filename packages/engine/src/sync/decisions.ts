import { type Clock, systemClock } from '../clock.js';
import { resolveConfig, type SyncConfig } from '../config.js';
import { SyncController } from '../controller.js';
import type { SyncEvent } from '../events.js';
import { canHashLocally, DEFAULT_HASH } from '../hash.js';
import type { ConflictResolution, Entry, HashAlgorithm, PlannedAction, Side, Tree } from '../model.js';
import { normalizeRelativePath } from '../paths.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';
import { Executor } from './executor.js';
import { StateRecorder } from './state-recorder.js';
import { isSameVersion } from './transfer.js';
import { versionStamp } from './versions.js';

const SIDES = ['source', 'destination'] as const;

/** A decision on a conflict a run left pending, with both sides as the run saw them. */
export interface ConflictDecision {
  path: string;
  resolution: Exclude<ConflictResolution, 'skip'>;
  source: Entry | null;
  destination: Entry | null;
}

/** What became of one decision. */
export type DecisionOutcome =
  | {
      path: string;
      status: 'applied';
      resolution: ConflictDecision['resolution'];
      /** Keep-both: the loser's new name, on its side (then copied to the other). */
      renamed: { side: Side; to: string } | null;
      /** Versions kept of what was overwritten, per side. */
      kept: Array<{ side: Side; versionPath: string }>;
    }
  /** A side no longer holds what the decision was taken on: nothing was changed. */
  | { path: string; status: 'changed'; message: string }
  /** Carrying it out failed (reported); nothing is recorded as synced. */
  | { path: string; status: 'failed'; message: string };

export interface ApplyDecisionsOptions {
  source: Storage;
  destination: Storage;
  state: StateStore;
  config?: Partial<SyncConfig>;
  decisions: ConflictDecision[];
  onEvent?: (event: SyncEvent) => void;
  controller?: SyncController;
  clock?: Clock;
}

/**
 * Carries out decisions on MANUAL conflicts without a whole sync: for each one whose files
 * are still as the run saw them, the executor settles the conflict exactly as a run would
 * (the loser to the versions area, or renamed to its conflict name for keep-both), and the
 * last-known state records the path. A decision whose files changed since is left alone
 * (`changed`): the next sync meets the path again. The paths are dropped from the pending
 * conflicts of the saved metadata.
 */
export async function applyConflictDecisions(options: ApplyDecisionsOptions): Promise<DecisionOutcome[]> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const config = resolveConfig(options.config);
  const storages: Record<Side, Storage> = { source: options.source, destination: options.destination };
  const controller = options.controller ?? new SyncController();
  const trees: Record<Side, Tree> = { source: new Map(), destination: new Map() };
  const outcomes = new Map<string, DecisionOutcome>();
  const actions: PlannedAction[] = [];
  for (const decision of options.decisions) {
    const path = normalizeRelativePath(decision.path);
    const now = await Promise.all(SIDES.map((side) => storages[side].stat(path)));
    const changed = SIDES.filter((side, index) => !isSameVersion(decision[side], now[index] ?? null));
    if (changed.length > 0) {
      outcomes.set(path, {
        path,
        status: 'changed',
        message: `${path} changed on the ${changed.join(' and ')} since the conflict was detected; the next sync looks at it again`,
      });
      continue;
    }
    if (decision.source?.isDir || decision.destination?.isDir) {
      outcomes.set(path, {
        path,
        status: 'changed',
        message: `${path} is a folder on one side; the next sync applies the decision`,
      });
      continue;
    }
    for (const side of SIDES) {
      const entry = decision[side];
      if (entry) trees[side].set(path, { ...entry, path });
    }
    actions.push({
      type: 'CONFLICT',
      path,
      reason: `manual decision: ${decision.resolution}`,
      bytes: Math.max(decision.source?.size ?? 0, decision.destination?.size ?? 0),
      source: decision.source,
      destination: decision.destination,
      conflict: {
        path,
        source: decision.source,
        destination: decision.destination,
        resolution: decision.resolution,
      },
    });
  }

  const renamed = new Map<string, { side: Side; to: string }>();
  const kept = new Map<string, Array<{ side: Side; versionPath: string }>>();
  const emit = (event: SyncEvent) => {
    if (event.type === 'rename_complete') renamed.set(event.path, { side: event.side, to: event.to });
    if (event.type === 'version_kept') {
      const list = kept.get(event.path) ?? [];
      list.push({ side: event.side, versionPath: event.versionPath });
      kept.set(event.path, list);
    }
    try {
      options.onEvent?.(event);
    } catch {
      // A sink must not throw.
    }
  };
  if (actions.length > 0) {
    const common = storages.source.capabilities.hashAlgorithms.filter((algorithm) =>
      storages.destination.capabilities.hashAlgorithms.includes(algorithm),
    );
    const hashAlgorithm: HashAlgorithm = common.find(canHashLocally) ?? DEFAULT_HASH;
    const recorder = new StateRecorder(options.state, {
      onFailure: (error) => emit({ type: 'warning', message: `could not record progress: ${String(error)}` }),
      delayMs: 0,
      beforeWrite: async () => {
        await Promise.all(SIDES.map((side) => storages[side].flush?.()));
      },
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
      hashAlgorithm,
    });
    await executor.run(actions);
    await recorder.flush();
    const failures = new Map(executor.outcome.errors.map((error) => [error.path, error.message]));
    if (recorder.durabilityError !== undefined || recorder.hasFailedWrites) {
      for (const action of actions)
        failures.set(action.path, failures.get(action.path) ?? 'could not record the result');
    }
    for (const action of actions) {
      const failure = failures.get(action.path);
      outcomes.set(
        action.path,
        failure !== undefined || controller.isCancelled
          ? { path: action.path, status: 'failed', message: failure ?? 'cancelled' }
          : {
              path: action.path,
              status: 'applied',
              resolution: action.conflict!.resolution as ConflictDecision['resolution'],
              renamed: renamed.get(action.path) ?? null,
              kept: kept.get(action.path) ?? [],
            },
      );
    }
    const applied = new Set([...outcomes.values()].filter((o) => o.status === 'applied').map((o) => o.path));
    if (applied.size > 0) {
      const metadata = await options.state.loadMetadata();
      if (metadata) {
        const { treeFingerprint: _stale, ...rest } = metadata;
        await options.state.saveMetadata({
          ...rest,
          pendingConflicts: metadata.pendingConflicts.filter((record) => !applied.has(record.path)),
        });
      }
    }
  }
  return options.decisions.map((decision) => outcomes.get(normalizeRelativePath(decision.path))!);
}
