import {
  type BusEvent,
  CHANGED_PATHS_LIMIT,
  type PairWatchState,
  type Side,
  UNWATCHED_STATE,
  WATCH_EVENT_PATHS_LIMIT,
} from '@syncengine/contracts';
import type { PairRecord, PairRepo, RunRecord, RunRepo } from '@syncengine/db';
import type { Entry, Storage } from '@syncengine/engine';
import {
  type LocalWatcherFactory,
  PairWatcher,
  type WatchEvent,
  type WatchRunRequest,
} from '@syncengine/watch';
import type { EventBus } from './bus.js';
import type { RunLauncher } from './launcher.js';
import type { WatchLeases } from './watch-leases.js';

/** Run statuses after which a run holds its pair no more. */
const ENDED = new Set(['completed', 'needs_decision', 'failed', 'cancelled']);
/** How often a run being waited for is read again, in case its end event was lost. */
const RUN_CHECK_MS = 2_000;
/** At most one `watch.changes` event per pair and side this often; the rest are summed into the next. */
const CHANGES_EVENT_MS = 1_000;

export interface WatchServiceDeps {
  /** Who this process is in the leases: `server` in the embedded mode, else the worker's name. */
  holder: string;
  leases: WatchLeases;
  /** How long a lease lasts without renewal: how soon another process takes over a dead holder's pairs. */
  leaseMs: number;
  pairs: Pick<PairRepo, 'get' | 'listWatched'>;
  runs: Pick<RunRepo, 'get'>;
  launcher: Pick<RunLauncher, 'launch'>;
  bus: Pick<EventBus, 'publish' | 'subscribe'>;
  /** Opens a pair's sides the way runs do (confined local paths, decrypted credentials). */
  openSide(pair: PairRecord, side: Side): Promise<Storage>;
  /** The pair's last-known records of these paths on a side (see `PairWatcherOptions.lastKnown`). */
  lastKnown(pairId: string, side: Side, paths: string[]): Promise<ReadonlyMap<string, Entry>>;
  log: { info(message: string): void; warn(message: string): void };
  /** How local folders are watched (default @parcel/watcher). */
  localWatcher?: LocalWatcherFactory;
}

/** One pair this process watches. */
interface Watch {
  pair: PairRecord;
  /** What, when it changes, makes the watch start again (locations, watch settings, ignore patterns). */
  key: string;
  watcher: PairWatcher | null;
  storages: Storage[];
  /** Changes seen per side since the last `watch.changes` event. */
  unsent: Record<Side, { count: number; paths: string[] }>;
  changesTimer: NodeJS.Timeout | undefined;
  stopping: Promise<void> | null;
}

/**
 * A change of the ignore patterns restarts the watch too: changes are filtered by them, and
 * what they no longer ignore is found by the full run a watch starts with.
 */
const watchKey = (pair: PairRecord) =>
  JSON.stringify({
    source: pair.source,
    destination: pair.destination,
    watch: pair.watch,
    ignore: pair.ignorePatterns,
  });

/**
 * Watches the watched pairs this process holds the lease of (SPEC §12): exactly one process
 * watches a pair at a time. Every `leaseMs / 3` it renews its leases (a watch whose lease
 * was lost stops) and takes the lease of every watched pair nobody holds (a new pair, or
 * one whose holder died). Pair changes on the bus start, restart and stop watches at once.
 *
 * A watch's runs are ordinary runs (trigger `watch`) created through the launcher, so they
 * execute wherever runs execute and the pair lock still holds: while any run of the pair
 * is active, the watch waits for it to end and then starts its own follow-up with what it
 * saw meanwhile. An incremental run carries its changed paths (a full run past
 * `CHANGED_PATHS_LIMIT`). The run's own writes are recognised against the last-known
 * state once it has ended, so they start no other run.
 *
 * What the watch sees is published on the bus (`watch.changes`, `watch.run_started`,
 * `watch.state`) and reported in the leases for the pair's status.
 */
export function createWatchService(deps: WatchServiceDeps) {
  const watches = new Map<string, Watch>();
  /** Why a pair could not be watched, per pair, so the log says it once, not every tick. */
  const problems = new Map<string, string>();
  const tickMs = Math.max(50, Math.floor(deps.leaseMs / 3));
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | null = null;
  let isClosed = false;
  /** Pair changes are applied one at a time, in order. */
  let changes: Promise<void> = Promise.resolve();

  const publish = (event: BusEvent) => {
    deps.bus.publish(event).catch(() => undefined);
  };

  function stateOf(watch: Watch): PairWatchState {
    const status = watch.watcher?.status;
    if (!status) return { ...UNWATCHED_STATE, isWatching: true, watchedBy: deps.holder };
    const fallbacks = Object.values(status.fallbacks);
    return {
      isWatching: true,
      watchedBy: deps.holder,
      modes: status.modes,
      lastChangeAt: status.lastChangeAt === null ? null : new Date(status.lastChangeAt).toISOString(),
      pendingChanges: status.pending,
      fallbackReason: fallbacks.length > 0 ? fallbacks.join('; ') : null,
      lastRunAt: status.lastRunAt === null ? null : new Date(status.lastRunAt).toISOString(),
      problem: null,
    };
  }

  async function report(watch: Watch, options: { event?: boolean } = {}): Promise<PairWatchState> {
    const state = stateOf(watch);
    await deps.leases.putState(watch.pair.id, state, deps.leaseMs).catch(() => undefined);
    if (options.event) publish({ type: 'watch.state', pairId: watch.pair.id, watch: state });
    return state;
  }

  /** Resolves once the run has ended (its event on the bus, or its row), or the signal aborts. */
  function waitForEnd(runId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let check: NodeJS.Timeout | undefined;
      const done = () => {
        stop();
        clearTimeout(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const stop = deps.bus.subscribe((event) => {
        if (
          (event.type === 'run.completed' || event.type === 'run.failed' || event.type === 'run.cancelled') &&
          event.run.id === runId
        ) {
          done();
        }
      });
      signal.addEventListener('abort', done, { once: true });
      const read = async () => {
        const run: RunRecord | null = await deps.runs.get(runId).catch(() => null);
        if (signal.aborted) return;
        if (!run || ENDED.has(run.status)) done();
        else check = setTimeout(() => void read(), RUN_CHECK_MS);
      };
      void read();
    });
  }

  /** The watcher's runner: one run of the pair, after whatever run of it is active now. */
  async function runFor(watch: Watch, request: WatchRunRequest, signal: AbortSignal): Promise<undefined> {
    const pairId = watch.pair.id;
    const paths =
      request.kind === 'incremental' && request.paths.length <= CHANGED_PATHS_LIMIT ? request.paths : null;
    while (!signal.aborted) {
      const launched = await deps.launcher.launch(pairId, {
        trigger: 'watch',
        ...(paths ? { changedPaths: paths } : {}),
      });
      if (launched.run) {
        publish({
          type: 'watch.run_started',
          pairId,
          runId: launched.run.id,
          kind: paths ? 'incremental' : 'full',
          reason: request.kind === 'full' ? request.reason : null,
          changes: request.kind === 'incremental' ? request.changes : 0,
          watch: await report(watch),
        });
        await waitForEnd(launched.run.id, signal);
        return undefined;
      }
      // Another run holds the pair: what it does not cover runs after it.
      if (launched.activeRun) await waitForEnd(launched.activeRun.id, signal);
    }
    return undefined;
  }

  function onEvent(watch: Watch, event: WatchEvent): void {
    switch (event.type) {
      case 'changes': {
        const unsent = watch.unsent[event.side];
        unsent.count += event.paths.length;
        for (const path of event.paths) {
          if (unsent.paths.length >= WATCH_EVENT_PATHS_LIMIT) break;
          unsent.paths.push(path);
        }
        watch.changesTimer ??= setTimeout(() => {
          watch.changesTimer = undefined;
          void sendChanges(watch);
        }, CHANGES_EVENT_MS);
        // The first change of a quiet pair is told at once; a burst is summed.
        if (watch.unsent.source.count + watch.unsent.destination.count === event.paths.length) {
          void sendChanges(watch);
        }
        break;
      }
      case 'run_end':
      case 'dropped':
        // How far behind the pair is changed: the dashboard hears it at once.
        void report(watch, { event: true });
        break;
      case 'fallback':
        deps.log.warn(`pair ${watch.pair.id} (${watch.pair.name}): ${event.reason}; a full run follows`);
        void report(watch, { event: true });
        break;
      case 'poll_error':
        deps.log.warn(
          `pair ${watch.pair.id} (${watch.pair.name}): listing the ${event.side} for changes failed: ${
            event.error instanceof Error ? event.error.message : String(event.error)
          }`,
        );
        break;
      case 'run_start':
        break;
    }
  }

  async function sendChanges(watch: Watch): Promise<void> {
    const state = await report(watch);
    for (const side of ['source', 'destination'] as const) {
      const unsent = watch.unsent[side];
      if (unsent.count === 0) continue;
      publish({
        type: 'watch.changes',
        pairId: watch.pair.id,
        side,
        count: unsent.count,
        paths: unsent.paths,
        watch: state,
      });
      watch.unsent[side] = { count: 0, paths: [] };
    }
  }

  /** Opens the pair's sides and starts its watcher; the lease is held already. */
  async function start(pair: PairRecord): Promise<void> {
    const watch: Watch = {
      pair,
      key: watchKey(pair),
      watcher: null,
      storages: [],
      unsent: { source: { count: 0, paths: [] }, destination: { count: 0, paths: [] } },
      changesTimer: undefined,
      stopping: null,
    };
    watches.set(pair.id, watch);
    try {
      const source = await deps.openSide(pair, 'source');
      watch.storages.push(source);
      const destination = await deps.openSide(pair, 'destination');
      watch.storages.push(destination);
      // Known before it starts: its first run reports its state while `start()` is under way.
      const watcher = new PairWatcher({
        source,
        destination,
        settings: {
          debounceMs: pair.watch.debounceMs,
          rescanMinutes: pair.watch.rescanMinutes,
          pollSeconds: pair.watch.pollSeconds,
        },
        ignorePatterns: pair.ignorePatterns,
        run: (request, signal) => runFor(watch, request, signal),
        lastKnown: (side, paths) => deps.lastKnown(pair.id, side, paths),
        onEvent: (event) => onEvent(watch, event),
        ...(deps.localWatcher ? { localWatcher: deps.localWatcher } : {}),
      });
      watch.watcher = watcher;
      await watcher.start();
      if (watch.stopping) {
        await watcher.stop();
        return;
      }
      problems.delete(pair.id);
      deps.log.info(
        `watching pair ${pair.id} (${pair.name}): source ${watcher.status.modes.source}, destination ${watcher.status.modes.destination}`,
      );
      await report(watch, { event: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (problems.get(pair.id) !== message) {
        deps.log.warn(`pair ${pair.id} (${pair.name}) cannot be watched: ${message}`);
        problems.set(pair.id, message);
      }
      // Said in the pair's status until a later try watches it.
      await stop(pair.id, {
        release: true,
        state: { ...UNWATCHED_STATE, problem: `cannot be watched: ${message}` },
      });
    }
  }

  /**
   * Stops a watch; with `release`, gives its lease up (else it was lost) and clears its state,
   * or reports `state` instead (for as long as a lease lasts).
   */
  function stop(pairId: string, options: { release: boolean; state?: PairWatchState }): Promise<void> {
    const watch = watches.get(pairId);
    if (!watch) return Promise.resolve();
    watch.stopping ??= (async () => {
      clearTimeout(watch.changesTimer);
      await watch.watcher?.stop();
      for (const storage of watch.storages) await storage.close?.().catch(() => undefined);
      if (watches.get(pairId) === watch) watches.delete(pairId);
      if (options.release) {
        await deps.leases.deleteState(pairId).catch(() => undefined);
        await deps.leases.release(pairId, deps.holder).catch(() => undefined);
      }
      if (options.state)
        await deps.leases.putState(pairId, options.state, deps.leaseMs).catch(() => undefined);
      publish({ type: 'watch.state', pairId, watch: options.state ?? UNWATCHED_STATE });
    })();
    return watch.stopping;
  }

  /** Takes the pair's lease if nobody holds it and starts watching it. */
  async function claim(pair: PairRecord): Promise<void> {
    if (isClosed || watches.has(pair.id)) return;
    if (!(await deps.leases.acquire(pair.id, deps.holder, deps.leaseMs))) return;
    if (isClosed || watches.has(pair.id)) return;
    await start(pair);
  }

  /** Renews the leases held, stops watches whose lease was lost, and claims unheld pairs. */
  async function tick(): Promise<void> {
    for (const [pairId, watch] of [...watches]) {
      if (watch.stopping) continue;
      const isHeld = await deps.leases.renew(pairId, deps.holder, deps.leaseMs).catch(() => false);
      if (!isHeld) {
        deps.log.warn(
          `pair ${pairId} (${watch.pair.name}): the watch lease was lost; another process watches it`,
        );
        await stop(pairId, { release: false });
      } else {
        await report(watch);
      }
    }
    const watched = await deps.pairs.listWatched();
    const ids = new Set(watched.map((pair) => pair.id));
    for (const pairId of [...watches.keys()]) if (!ids.has(pairId)) await stop(pairId, { release: true });
    for (const pair of watched) {
      // A change whose bus event was lost still restarts the watch here.
      const watch = watches.get(pair.id);
      if (watch && !watch.stopping && watch.key !== watchKey(pair)) await stop(pair.id, { release: true });
      await claim(pair).catch(() => undefined);
    }
  }

  /** A pair was created, changed or deleted: its watch starts, restarts or stops. */
  async function pairChanged(pairId: string): Promise<void> {
    const pair = await deps.pairs.get(pairId);
    const watch = watches.get(pairId);
    if (!pair?.enabled || !pair.watch.enabled) {
      await stop(pairId, { release: true });
      return;
    }
    if (watch && watch.key !== watchKey(pair)) await stop(pairId, { release: true });
    await claim(pair);
  }

  const schedule = () => {
    if (isClosed) return;
    timer = setTimeout(() => {
      ticking = tick()
        .catch((error: unknown) => {
          deps.log.warn(`watched pairs: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(schedule);
    }, tickMs);
    timer.unref?.();
  };

  return {
    /** Claims the watched pairs nobody holds, then keeps the leases and follows pair changes. */
    async start(): Promise<void> {
      unsubscribe = deps.bus.subscribe((event) => {
        if (event.type !== 'pair.updated' && event.type !== 'pair.deleted') return;
        const pairId = event.type === 'pair.updated' ? event.pair.id : event.pairId;
        changes = changes
          .then(() => (isClosed ? undefined : pairChanged(pairId)))
          .catch((error: unknown) => {
            deps.log.warn(`pair ${pairId}: ${error instanceof Error ? error.message : String(error)}`);
          });
      });
      ticking = tick().catch((error: unknown) => {
        deps.log.warn(`watched pairs: ${error instanceof Error ? error.message : String(error)}`);
      });
      await ticking;
      schedule();
    },
    /** Pairs this process watches now. */
    watching: (): string[] => [...watches.keys()],
    /** Stops every watch and gives its lease up, for another process to take over at once. */
    async close(): Promise<void> {
      isClosed = true;
      clearTimeout(timer);
      unsubscribe?.();
      await ticking;
      await changes;
      await Promise.all([...watches.keys()].map((pairId) => stop(pairId, { release: true })));
    },
  };
}
export type WatchService = ReturnType<typeof createWatchService>;
