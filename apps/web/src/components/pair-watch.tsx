import { Alert, Badge, Card, Group, Stack, Text, Title, Tooltip } from '@mantine/core';
import type { Pair, PairWatchState, Side } from '@syncengine/contracts';
import { Link } from 'react-router';
import { RUN_STATUS_COLOR } from '../lib/status.js';
import {
  describeActivity,
  describeSideMode,
  pendingChangesLabel,
  RUN_TRIGGER_LABEL,
  WATCH_BADGE_INFO,
  watchBadgeKind,
} from '../lib/watch.js';
import { useLive } from '../live/live-provider.js';
import type { WatchActivity } from '../live/live-state.js';
import { RelativeTime } from './relative-time.js';

const SIDES = ['source', 'destination'] as const satisfies readonly Side[];
const SIDE_TITLE: Record<Side, string> = { source: 'Source', destination: 'Destination' };

/** Seconds matter for a watched pair's last change: its time is written again this often. */
const LAST_CHANGE_TICK_MS = 5_000;

/** "Live sync", "Live sync, polling", "Live sync stopped": how a watched pair is watched, at a glance. */
export function WatchBadge({ state, isShort = false }: { state: PairWatchState | null; isShort?: boolean }) {
  const info = WATCH_BADGE_INFO[watchBadgeKind(state)];
  return (
    <Tooltip label={info.description} multiline maw={280}>
      <Badge color={info.color} variant="light" tt="none" data-testid="watch-badge" style={{ flexShrink: 0 }}>
        {isShort ? info.short : info.label}
      </Badge>
    </Tooltip>
  );
}

/**
 * "Last change: 12 seconds ago", "3 changes waiting": how far behind a watched pair is.
 * Nothing counts what waits while no process watches the pair, so no count is shown then.
 */
export function WatchProgressLine({ state }: { state: PairWatchState | null }) {
  if (!state) return null;
  return (
    <>
      <Text size="xs" c="dimmed" data-testid="watch-last-change">
        Last change:{' '}
        {state.lastChangeAt ? (
          <RelativeTime value={state.lastChangeAt} tickMs={LAST_CHANGE_TICK_MS} />
        ) : (
          'none seen yet'
        )}
      </Text>
      {state.isWatching && (
        <Text
          size="xs"
          c={state.pendingChanges > 0 ? undefined : 'dimmed'}
          fw={state.pendingChanges > 0 ? 600 : undefined}
          data-testid="watch-pending"
        >
          {pendingChangesLabel(state.pendingChanges)}
        </Text>
      )}
    </>
  );
}

/** A watched pair in a card of a list: the badge, its last change and what waits. */
export function WatchGlance({ state }: { state: PairWatchState | null }) {
  return (
    <Group gap="xs" wrap="wrap" data-testid="watch-glance">
      <WatchBadge state={state} />
      <WatchProgressLine state={state} />
    </Group>
  );
}

/** Why a side is polled instead of notified, said where it cannot be missed. */
function FallbackNotice({ state }: { state: PairWatchState }) {
  if (!state.fallbackReason) return null;
  return (
    <Alert
      color="yellow"
      role="status"
      title="A side is polled instead of watched"
      data-testid="watch-fallback"
    >
      {state.fallbackReason}
    </Alert>
  );
}

/** Why no process can watch the pair (a folder that cannot be opened, say); it is tried again. */
function ProblemNotice({ state }: { state: PairWatchState }) {
  if (!state.problem) return null;
  return (
    <Alert color="red" role="status" title="Live sync cannot start" data-testid="watch-problem">
      {state.problem}. SyncEngine tries again every few seconds.
    </Alert>
  );
}

/**
 * The pair page's live sync panel: how each side is watched and by whom, the last change,
 * what waits, and the watch's activity since the page opened, updated by `watch.*` events.
 */
export function WatchPanel({ pair, state }: { pair: Pair; state: PairWatchState | null }) {
  const live = useLive();
  const activity = live.watchActivity[pair.id] ?? [];
  const pollSeconds = pair.watch.pollSeconds;
  return (
    <Card
      withBorder
      padding="sm"
      component="section"
      aria-labelledby="live-sync-title"
      data-testid="watch-panel"
    >
      <Stack gap="xs">
        <Group gap="xs" wrap="wrap">
          <Title order={2} size="h4" id="live-sync-title">
            Live sync
          </Title>
          <WatchBadge state={state} isShort />
        </Group>
        {state ? (
          <>
            <Group gap="md" wrap="wrap">
              {SIDES.map((side) => (
                <Text size="sm" key={side} data-testid={`watch-mode-${side}`}>
                  <Text span c="dimmed">
                    {SIDE_TITLE[side]}:
                  </Text>{' '}
                  {describeSideMode(state.modes[side], pollSeconds)}
                </Text>
              ))}
              {state.watchedBy && (
                <Text size="sm">
                  <Text span c="dimmed">
                    Watched by:
                  </Text>{' '}
                  {state.watchedBy}
                </Text>
              )}
            </Group>
            <Group gap="md" wrap="wrap">
              <WatchProgressLine state={state} />
              <Text size="xs" c="dimmed">
                Last live run: <RelativeTime value={state.lastRunAt} />
              </Text>
            </Group>
            <FallbackNotice state={state} />
            <ProblemNotice state={state} />
          </>
        ) : (
          <Text size="sm" c="dimmed">
            {WATCH_BADGE_INFO.starting.description}
          </Text>
        )}
        <Text size="sm" fw={500} id="watch-activity-title">
          Activity
        </Text>
        {activity.length === 0 ? (
          <Text size="sm" c="dimmed">
            Changes seen and the runs they start appear here as they happen.
          </Text>
        ) : (
          <Stack
            component="ol"
            gap={4}
            p={0}
            m={0}
            role="log"
            aria-live="polite"
            aria-labelledby="watch-activity-title"
            mah={260}
            style={{ listStyle: 'none', overflowY: 'auto' }}
            data-testid="watch-activity"
          >
            {activity.map((entry) => (
              <ActivityLine key={entry.id} entry={entry} />
            ))}
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

function ActivityLine({ entry }: { entry: WatchActivity }) {
  const live = useLive();
  const status = entry.kind === 'run' ? live.runs[entry.runId]?.run?.status : undefined;
  return (
    <li>
      <Text size="sm" style={{ wordBreak: 'break-all' }}>
        <Text span size="xs" c="dimmed">
          <RelativeTime value={entry.at} tickMs={LAST_CHANGE_TICK_MS} />
        </Text>{' '}
        {entry.kind === 'run' ? (
          <Link to={`/runs/${entry.runId}`}>{describeActivity(entry)}</Link>
        ) : (
          describeActivity(entry)
        )}
        {status && (
          <Badge size="xs" variant="light" ml={6} tt="none" color={RUN_STATUS_COLOR[status]}>
            {status}
          </Badge>
        )}
      </Text>
    </li>
  );
}

/** What started a run; runs of a watched pair's watch stand out as live sync. */
export function RunTriggerLabel({ trigger }: { trigger: keyof typeof RUN_TRIGGER_LABEL }) {
  if (trigger === 'watch') {
    return (
      <Badge color="teal" variant="light" tt="none" data-testid="run-trigger">
        {RUN_TRIGGER_LABEL.watch}
      </Badge>
    );
  }
  return <span data-testid="run-trigger">{RUN_TRIGGER_LABEL[trigger]}</span>;
}
