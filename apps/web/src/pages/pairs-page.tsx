import { Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { Location, Pair } from '@syncengine/contracts';
import { describeLocation } from '@syncengine/contracts';
import { Link, useNavigate } from 'react-router';
import { errorMessage } from '../api/client.js';
import { usePairs, useStartRun } from '../api/hooks.js';
import { PairStatusBadge, SideTotalsLine, usePairHealth } from '../components/pair-status.js';
import { WatchGlance } from '../components/pair-watch.js';
import { RelativeTime } from '../components/relative-time.js';
import { RunProgressBars } from '../components/run-progress.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { SYNC_MODE_INFO } from '../lib/actions.js';
import { conflictsWaiting } from '../lib/status.js';
import { useLive } from '../live/live-provider.js';

export function PairsPage() {
  const pairs = usePairs();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Sync pairs
        </Title>
        <Button component={Link} to="/pairs/new">
          New pair
        </Button>
      </Group>
      {pairs.isPending ? (
        <LoadingState label="Loading pairs…" />
      ) : pairs.isError ? (
        <ErrorState error={pairs.error} onRetry={() => pairs.refetch()} title="Could not load the pairs" />
      ) : pairs.data.items.length === 0 ? (
        <EmptyState
          title="No sync pairs yet"
          action={
            <Button component={Link} to="/pairs/new">
              Create your first pair
            </Button>
          }
        >
          A pair keeps two folders in sync. Pick a source and a destination, choose how changes flow, and
          SyncEngine does the rest.
        </EmptyState>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} role="list" aria-label="Sync pairs">
          {pairs.data.items.map((pair) => (
            <PairCard key={pair.id} pair={pair} />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

export function PairCard({ pair }: { pair: Pair }) {
  const live = useLive();
  const navigate = useNavigate();
  const startRun = useStartRun(pair.id);
  const { status, label, check, activeRun, conflicts, watch } = usePairHealth(pair);
  const liveRun = activeRun ? live.runs[activeRun.id] : undefined;

  return (
    <Card
      withBorder
      radius="md"
      padding="md"
      role="listitem"
      aria-label={`Pair ${pair.name}`}
      data-testid="pair-card"
    >
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600} component={Link} to={`/pairs/${pair.id}`} truncate>
            {pair.name}
          </Text>
          <PairStatusBadge pairId={pair.id} status={status} label={label} check={check} />
        </Group>
        {status === 'error' && check?.problem && (
          <Text size="sm" c="red" role="alert" data-testid="pair-problem">
            {check.problem}
          </Text>
        )}
        <Text size="sm" c="dimmed" truncate title={describeLocation(pair.source as Location)}>
          {describeLocation(pair.source as Location)}
        </Text>
        <Text size="sm" c="dimmed" truncate title={describeLocation(pair.destination as Location)}>
          ↳ {describeLocation(pair.destination as Location)}
        </Text>
        <Text size="xs">{SYNC_MODE_INFO[pair.mode].label}</Text>
        {pair.watch.enabled && <WatchGlance state={watch} />}
        <SideTotalsLine check={check} />
        {activeRun && (activeRun.status === 'running' || activeRun.status === 'paused') && (
          <Link
            to={`/runs/${activeRun.id}`}
            aria-label="Open the live run"
            style={{ color: 'inherit', textDecoration: 'none' }}
          >
            <RunProgressBars progress={liveRun?.progress ?? null} compact />
          </Link>
        )}
        <Group gap="md">
          <Text size="xs" c="dimmed">
            Last run:{' '}
            {pair.lastRun ? (
              <span>
                {pair.lastRun.status},{' '}
                <RelativeTime value={pair.lastRun.finishedAt ?? pair.lastRun.queuedAt} />
              </span>
            ) : (
              'never'
            )}
          </Text>
          <Text size="xs" c="dimmed">
            Next:{' '}
            {pair.nextRunAt ? (
              <RelativeTime value={pair.nextRunAt} />
            ) : pair.schedule ? (
              pair.enabled ? (
                '—'
              ) : (
                'disabled'
              )
            ) : (
              'manual only'
            )}
          </Text>
        </Group>
        {startRun.error && (
          <Text size="xs" c="red" role="alert">
            {errorMessage(startRun.error)}
          </Text>
        )}
        <Group gap="xs" mt="xs">
          <Button
            size="xs"
            loading={startRun.isPending}
            disabled={Boolean(activeRun)}
            onClick={() => startRun.mutate({}, { onSuccess: (run) => navigate(`/runs/${run.id}`) })}
          >
            Run now
          </Button>
          <Button size="xs" variant="light" component={Link} to={`/pairs/${pair.id}/preview`}>
            Preview
          </Button>
          <Button size="xs" variant="subtle" component={Link} to={`/pairs/${pair.id}`}>
            History
          </Button>
          {conflicts > 0 && (
            <Button
              size="xs"
              variant="subtle"
              color="orange"
              component={Link}
              to={`/conflicts?pairId=${pair.id}`}
              data-testid="conflicts-waiting"
            >
              {conflictsWaiting(conflicts)}
            </Button>
          )}
        </Group>
      </Stack>
    </Card>
  );
}
