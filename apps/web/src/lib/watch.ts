import type {
  Pair,
  PairSyncStatus,
  PairWatchState,
  RunTrigger,
  Side,
  WatchFullRunReason,
  WatchSideMode,
} from '@syncengine/contracts';
import type { LiveState, WatchActivity } from '../live/live-state.js';

/** What started a run, as lists show it. */
export const RUN_TRIGGER_LABEL: Record<RunTrigger, string> = {
  manual: 'manual',
  schedule: 'schedule',
  'conflict-resolution': 'conflict decisions',
  watch: 'live sync',
};

/**
 * Where a pair's watch stands, or null when the pair is not watched. Of the latest `watch.*`
 * event and the status check, the one that arrived last wins: the watch records its state
 * for the check before it sends an event, and again every few seconds, so a later check is
 * at least as new (it also corrects what no event announced). An event without a time of
 * arrival wins. The pair's own setting decides whether it is watched at all, so turning
 * watching off shows at once.
 */
export function pairWatchState(
  pair: Pick<Pair, 'id' | 'watch'>,
  live: Pick<LiveState, 'watches' | 'watchesReceivedAt'>,
  check: { status: Pick<PairSyncStatus, 'watch'>; receivedAt: number } | undefined,
): PairWatchState | null {
  if (!pair.watch.enabled) return null;
  const event = live.watches[pair.id];
  const eventAt = live.watchesReceivedAt[pair.id];
  if (check && (!event || (eventAt !== undefined && check.receivedAt > eventAt))) return check.status.watch;
  return event ?? null;
}

/** How the dashboard sums up a watched pair's watch. */
export type WatchBadgeKind = 'live' | 'polling' | 'stopped' | 'starting';

/** `label` on its own (lists), `short` under a "Live sync" heading. */
export const WATCH_BADGE_INFO: Record<
  WatchBadgeKind,
  { label: string; short: string; color: string; description: string }
> = {
  live: {
    label: 'Live sync',
    short: 'On',
    color: 'teal',
    description: 'Changes on either side are synced as they happen.',
  },
  polling: {
    label: 'Live sync, polling',
    short: 'Polling',
    color: 'yellow',
    description: 'Notifications failed on a side, which is listed every poll interval instead.',
  },
  stopped: {
    label: 'Live sync stopped',
    short: 'Stopped',
    color: 'orange',
    description: 'No process watches this pair now; changes wait for the next run.',
  },
  starting: {
    label: 'Live sync starting',
    short: 'Starting',
    color: 'gray',
    description: 'The server has not reported this pair’s watch yet.',
  },
};

/**
 * The badge of a watched pair (`enabled` in its settings), from its reported state. It says
 * "Live sync", not "Live", which the header says of the dashboard's own connection.
 */
export function watchBadgeKind(state: PairWatchState | null): WatchBadgeKind {
  if (!state) return 'starting';
  if (!state.isWatching) return 'stopped';
  const { source, destination } = state.modes;
  return source === 'fallback-poll' || destination === 'fallback-poll' ? 'polling' : 'live';
}

/** How one side is watched: "notifications", "polled every 60 s", "polled (notifications failed)". */
export function describeSideMode(mode: WatchSideMode | null, pollSeconds: number): string {
  switch (mode) {
    case 'notify':
      return 'change notifications';
    case 'poll':
      return `polled every ${pollSeconds.toLocaleString()} s`;
    case 'fallback-poll':
      return `polled every ${pollSeconds.toLocaleString()} s (notifications failed)`;
    case null:
      return 'not watched';
  }
}

/** "Nothing waiting", "1 change waiting", "12 changes waiting". */
export function pendingChangesLabel(count: number): string {
  if (count === 0) return 'Nothing waiting';
  return `${count.toLocaleString()} change${count === 1 ? '' : 's'} waiting`;
}

const SIDE_LABEL: Record<Side, string> = { source: 'source', destination: 'destination' };

const FULL_RUN_REASON: Record<WatchFullRunReason, string> = {
  start: 'the watch started',
  rescan: 'the periodic rescan',
  fallback: 'notifications failed',
};

/** One line of a pair's live activity, e.g. "3 changes on source: a.txt, b.txt and 1 more". */
export function describeActivity(entry: WatchActivity): string {
  if (entry.kind === 'changes') {
    const count = `${entry.count.toLocaleString()} change${entry.count === 1 ? '' : 's'}`;
    const shown = entry.paths.slice(0, 3);
    const more = entry.count - shown.length;
    const paths =
      shown.length > 0 ? `: ${shown.join(', ')}${more > 0 ? ` and ${more.toLocaleString()} more` : ''}` : '';
    return `${count} on ${SIDE_LABEL[entry.side]}${paths}`;
  }
  if (entry.runKind === 'incremental') {
    return `Run started for ${entry.changes.toLocaleString()} change${entry.changes === 1 ? '' : 's'}`;
  }
  return `Full run started${entry.reason ? ` after ${FULL_RUN_REASON[entry.reason]}` : ''}`;
}
