import { stat } from 'node:fs/promises';
import {
  OUT_OF_SYNC_LIST_LIMIT,
  type PairSyncStatus,
  type PairWatchState,
  type PlannedActionView,
  type SideTotals,
  UNWATCHED_STATE,
} from '@syncengine/contracts';
import type { PairRecord, PairRepo, RunRepo } from '@syncengine/db';
import type { WatchLeases } from '@syncengine/runs';

/** How long a check answers again without looking at the folders. */
const CHECK_TTL_MS = 5_000;
/** What a check found would change: how many actions, and the first OUT_OF_SYNC_LIST_LIMIT of them. */
export interface PlannedChanges {
  count: number;
  items: PlannedActionView[];
}

/** A side that does not answer the check within this time counts as unreachable. */
const CHECK_TIMEOUT_MS = 30_000;

const SIDE_LABEL = { source: 'Source', destination: 'Destination' } as const;

/** Why a local root cannot be synced, naming the side and the folder; null when it can. */
async function localRootProblem(side: 'source' | 'destination', path: string): Promise<string | null> {
  const folder = `${SIDE_LABEL[side]} folder ${path}`;
  try {
    const stats = await stat(path);
    return stats.isDirectory() ? null : `${folder} is not a folder`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${folder} does not exist`;
    if (code === 'EACCES' || code === 'EPERM') return `${folder} cannot be read (permission denied)`;
    return `${folder} cannot be read (${code ?? String(error)})`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Where each pair stands, checked cheaply: an active run answers at once; otherwise local
 * roots must exist, then a dry-run plan (which stops at the folder digests when two local
 * trees are unchanged) counts what a run would change. Plans are kept for a few seconds
 * and dropped as soon as the pair or its last run changes.
 */
export function createPairStatusService(deps: {
  getPair(id: string): Promise<PairRecord>;
  pairs: Pick<PairRepo, 'stateTotals'>;
  runs: Pick<RunRepo, 'activeForPair'>;
  /**
   * Plans the pair (a `plan-preview` job a worker answers) and hands back what would change;
   * throws with the problem when it cannot be planned.
   */
  planChanges(pairId: string): Promise<PlannedChanges>;
  /** What the process watching a pair reports (the watch leases). */
  watchStates: Pick<WatchLeases, 'getState'>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  /** Dry-run plans per pair, reused while the pair and its last run stay the same. */
  const plans = new Map<string, { key: string; at: number; plan: Promise<PlannedChanges> }>();

  function planOf(pair: PairRecord): Promise<PlannedChanges> {
    const key = [pair.updatedAt, pair.lastRun?.id, pair.lastRun?.status, pair.lastRun?.finishedAt].join('|');
    const cached = plans.get(pair.id);
    if (cached && cached.key === key && now() - cached.at < CHECK_TTL_MS) return cached.plan;
    const plan = withTimeout(
      deps.planChanges(pair.id),
      CHECK_TIMEOUT_MS,
      `the check did not finish within ${CHECK_TIMEOUT_MS / 1_000} s; a side may be unreachable`,
    );
    plans.set(pair.id, { key, at: now(), plan });
    plan.catch(() => plans.delete(pair.id));
    return plan;
  }

  return {
    /**
     * Where the pair stands. The run, the roots and the totals are read on every call (a
     * folder that vanished shows at once); only the dry-run plan is reused for a few seconds.
     */
    async status(id: string): Promise<PairSyncStatus> {
      const pair = await deps.getPair(id);
      const sides: { source: SideTotals; destination: SideTotals } | null = await deps.pairs.stateTotals(
        pair.id,
      );
      const watch: PairWatchState | null = pair.watch.enabled
        ? ((await deps.watchStates.getState(pair.id).catch(() => null)) ?? UNWATCHED_STATE)
        : null;
      const base = {
        pairId: pair.id,
        watch,
        checkedAt: new Date(now()).toISOString(),
        outOfSync: 0,
        items: [],
        problem: null,
        activeRunId: null,
        sides,
      };
      const active = await deps.runs.activeForPair(pair.id);
      if (active) {
        return { ...base, state: active.status === 'paused' ? 'paused' : 'syncing', activeRunId: active.id };
      }
      for (const side of ['source', 'destination'] as const) {
        const location = pair[side];
        if (location.type !== 'local' || typeof location.path !== 'string') continue;
        const problem = await localRootProblem(side, location.path);
        if (problem) return { ...base, state: 'error', problem };
      }
      if (!pair.enabled) return { ...base, state: 'disabled' };
      let changes: PlannedChanges;
      try {
        changes = await planOf(pair);
      } catch (error) {
        return { ...base, state: 'error', problem: error instanceof Error ? error.message : String(error) };
      }
      return {
        ...base,
        state: changes.count === 0 ? 'in_sync' : 'out_of_sync',
        outOfSync: changes.count,
        items: changes.items.slice(0, OUT_OF_SYNC_LIST_LIMIT),
      };
    },
  };
}
export type PairStatusService = ReturnType<typeof createPairStatusService>;
