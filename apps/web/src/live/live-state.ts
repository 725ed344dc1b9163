import type {
  Conflict,
  PairWatchState,
  Run,
  RunAction,
  RunProgress,
  Side,
  WatchFullRunReason,
  WsEvent,
} from '@syncengine/contracts';

/** How many streamed actions a run keeps in memory; older ones are in the action log. */
export const MAX_STREAMED_ACTIONS = 200;

/** How many watch events a pair's activity keeps in memory (newest first). */
export const MAX_WATCH_ACTIVITY = 30;

/** One thing a pair's watch did, as its `watch.*` events tell it. */
export type WatchActivity =
  | {
      kind: 'changes';
      /** Unique within the session, for React keys. */
      id: number;
      /** When it happened: the server's time of the change, else when the event arrived. */
      at: string | number | null;
      side: Side;
      count: number;
      /** The first of the changed paths. */
      paths: string[];
    }
  | {
      kind: 'run';
      id: number;
      at: string | number | null;
      runId: string;
      runKind: 'incremental' | 'full';
      reason: WatchFullRunReason | null;
      changes: number;
    };

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting';

/** What the dashboard knows live about one run. */
export interface LiveRun {
  run: Run | null;
  progress: RunProgress | null;
  /** Newest first. */
  actions: RunAction[];
}

export interface LiveState {
  connection: ConnectionStatus;
  /** Failed connection attempts since the last successful one. */
  attempt: number;
  /** Incremented on every (re)connection: a snapshot follows and cached queries are stale. */
  generation: number;
  runs: Record<string, LiveRun>;
  pendingConflicts: Record<string, Conflict>;
  /** The latest watch state of each watched pair that reported one, by pair id. */
  watches: Record<string, PairWatchState>;
  /** When each of those arrived (epoch ms), to weigh it against a later status check. */
  watchesReceivedAt: Record<string, number>;
  /** What each watched pair's watch did since the page opened, newest first, by pair id. */
  watchActivity: Record<string, WatchActivity[]>;
  /** Numbers the activity entries. */
  activitySeq: number;
}

export type LiveMessage =
  | { type: 'socket.connecting' }
  | { type: 'socket.open' }
  | { type: 'socket.closed' }
  /** `receivedAt`: when the event arrived (epoch ms), for activity that carries no time of its own. */
  | { type: 'event'; event: WsEvent; receivedAt?: number }
  /** Events received together, applied in order in one update. */
  | { type: 'events'; events: WsEvent[]; receivedAt?: number };

export const initialLiveState: LiveState = {
  connection: 'connecting',
  attempt: 0,
  generation: 0,
  runs: {},
  pendingConflicts: {},
  watches: {},
  watchesReceivedAt: {},
  watchActivity: {},
  activitySeq: 0,
};

/** Delay before the next reconnection attempt: 0.5 s doubling to at most 15 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
}

function withRun(state: LiveState, runId: string, update: (current: LiveRun) => LiveRun): LiveState {
  const current = state.runs[runId] ?? { run: null, progress: null, actions: [] };
  return { ...state, runs: { ...state.runs, [runId]: update(current) } };
}

function setRun(state: LiveState, run: Run): LiveState {
  return withRun(state, run.id, (current) => ({
    ...current,
    run,
    progress: run.progress ?? current.progress,
  }));
}

function setStatus(state: LiveState, runId: string, status: Run['status']): LiveState {
  return withRun(state, runId, (current) => ({
    ...current,
    run: current.run ? { ...current.run, status } : current.run,
  }));
}

/**
 * The live state's reducer: socket lifecycle and server events. A snapshot (sent on every
 * connection) replaces the active runs and pending conflicts, so a client that was away
 * for a while sees the present state; what it streamed before is kept for runs it knows.
 */
export function liveReducer(state: LiveState, message: LiveMessage): LiveState {
  switch (message.type) {
    case 'socket.connecting':
      return {
        ...state,
        connection: state.attempt > 0 || state.generation > 0 ? 'reconnecting' : 'connecting',
      };
    case 'socket.open':
      return { ...state, connection: 'open', attempt: 0, generation: state.generation + 1 };
    case 'socket.closed':
      return { ...state, connection: 'reconnecting', attempt: state.attempt + 1 };
    case 'event':
      return applyEvent(state, message.event, message.receivedAt);
    case 'events':
      return message.events.reduce((current, event) => applyEvent(current, event, message.receivedAt), state);
  }
}

/** An activity entry before it is numbered. */
type NewWatchActivity = {
  [K in WatchActivity['kind']]: Omit<Extract<WatchActivity, { kind: K }>, 'id'>;
}[WatchActivity['kind']];

function withActivity(state: LiveState, pairId: string, entry: NewWatchActivity): LiveState {
  const id = state.activitySeq + 1;
  const list: WatchActivity[] = [{ ...entry, id }, ...(state.watchActivity[pairId] ?? [])];
  return {
    ...state,
    activitySeq: id,
    watchActivity: { ...state.watchActivity, [pairId]: list.slice(0, MAX_WATCH_ACTIVITY) },
  };
}

function applyEvent(state: LiveState, event: WsEvent, receivedAt: number | undefined): LiveState {
  switch (event.type) {
    case 'snapshot': {
      const runs: Record<string, LiveRun> = {};
      // Runs that finished while disconnected keep their last known data (the page refetches them).
      for (const [id, live] of Object.entries(state.runs)) runs[id] = live;
      for (const run of event.activeRuns) {
        const previous = state.runs[run.id];
        runs[run.id] = {
          run,
          progress: run.progress ?? previous?.progress ?? null,
          actions: previous?.actions ?? [],
        };
      }
      const pendingConflicts: Record<string, Conflict> = {};
      for (const conflict of event.pendingConflicts) pendingConflicts[conflict.id] = conflict;
      // Watch events may have been missed while away: the pairs' statuses, refetched on every
      // connection, say where each watch stands until its next event.
      return { ...state, runs, pendingConflicts, watches: {}, watchesReceivedAt: {} };
    }
    case 'run.queued':
    case 'run.started':
    case 'run.completed':
    case 'run.failed':
    case 'run.cancelled':
      return setRun(state, event.run);
    case 'run.paused':
      return setStatus(state, event.runId, 'paused');
    case 'run.resumed':
      return setStatus(state, event.runId, 'running');
    case 'run.progress':
      return withRun(state, event.runId, (current) => ({ ...current, progress: event.progress }));
    case 'run.action':
      return withRun(state, event.runId, (current) => ({
        ...current,
        actions: [event.action, ...current.actions.filter((action) => action.id !== event.action.id)].slice(
          0,
          MAX_STREAMED_ACTIONS,
        ),
      }));
    case 'conflict.created':
      return {
        ...state,
        pendingConflicts: { ...state.pendingConflicts, [event.conflict.id]: event.conflict },
      };
    case 'conflict.resolved': {
      const { [event.conflict.id]: _resolved, ...rest } = state.pendingConflicts;
      return { ...state, pendingConflicts: rest };
    }
    case 'watch.changes':
      return withActivity(withWatch(state, event.pairId, event.watch, receivedAt), event.pairId, {
        kind: 'changes',
        at: event.watch.lastChangeAt ?? receivedAt ?? null,
        side: event.side,
        count: event.count,
        paths: event.paths,
      });
    case 'watch.run_started':
      return withActivity(withWatch(state, event.pairId, event.watch, receivedAt), event.pairId, {
        kind: 'run',
        at: receivedAt ?? null,
        runId: event.runId,
        runKind: event.kind,
        reason: event.reason,
        changes: event.changes,
      });
    case 'watch.state':
      return withWatch(state, event.pairId, event.watch, receivedAt);
    case 'pair.deleted': {
      const { [event.pairId]: _deleted, ...watches } = state.watches;
      const { [event.pairId]: _at, ...watchesReceivedAt } = state.watchesReceivedAt;
      const { [event.pairId]: _activity, ...watchActivity } = state.watchActivity;
      return { ...state, watches, watchesReceivedAt, watchActivity };
    }
    case 'pair.updated':
    case 'version.restored':
      return state;
  }
}

function withWatch(
  state: LiveState,
  pairId: string,
  watch: PairWatchState,
  receivedAt: number | undefined,
): LiveState {
  const { [pairId]: _previous, ...others } = state.watchesReceivedAt;
  return {
    ...state,
    watches: { ...state.watches, [pairId]: watch },
    watchesReceivedAt: receivedAt === undefined ? others : { ...others, [pairId]: receivedAt },
  };
}

/** The active (queued, running, paused) run of a pair, if the live state knows one. */
export function activeRunOfPair(state: LiveState, pairId: string): Run | undefined {
  for (const live of Object.values(state.runs)) {
    const run = live.run;
    if (
      run &&
      run.pairId === pairId &&
      (run.status === 'queued' || run.status === 'running' || run.status === 'paused')
    ) {
      return run;
    }
  }
  return undefined;
}

/** Pending conflicts per pair id. */
export function pendingConflictsByPair(state: LiveState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const conflict of Object.values(state.pendingConflicts)) {
    counts[conflict.pairId] = (counts[conflict.pairId] ?? 0) + 1;
  }
  return counts;
}
