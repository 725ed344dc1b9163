import {
  Badge,
  Button,
  Card,
  Group,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import type { Change, Pair, Run, ServerInfo } from '@syncengine/contracts';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { usePairs, useRecentChanges, useRecentRuns, useServerInfo } from '../api/hooks.js';
import { PairStatusBadge, usePairHealth } from '../components/pair-status.js';
import { RunTriggerLabel, WatchGlance } from '../components/pair-watch.js';
import { RelativeTime } from '../components/relative-time.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { ACTION_INFO, actionLabel } from '../lib/actions.js';
import { formatBytes, formatDuration } from '../lib/format.js';
import { filesMoved, runDuration } from '../lib/runs.js';
import { RUN_STATUS_COLOR } from '../lib/status.js';

/** The home page: every pair at a glance, recent runs and changes, and the server. */
export function OverviewPage() {
  const pairs = usePairs();
  const names = new Map((pairs.data?.items ?? []).map((pair) => [pair.id, pair.name]));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Overview
        </Title>
        <Button component={Link} to="/pairs/new">
          New pair
        </Button>
      </Group>
      <section aria-labelledby="overview-pairs">
        <Title order={2} size="h4" id="overview-pairs" mb="xs">
          Pairs
        </Title>
        {pairs.isPending ? (
          <LoadingState label="Loading pairs…" />
        ) : pairs.isError ? (
          <ErrorState error={pairs.error} onRetry={() => pairs.refetch()} title="Could not load the pairs" />
        ) : pairs.data.items.length === 0 ? (
          <EmptyState title="No sync pairs yet">
            <Link to="/pairs/new">Create your first pair</Link> to keep two folders in sync.
          </EmptyState>
        ) : (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} role="list" aria-label="Pairs at a glance">
            {pairs.data.items.map((pair) => (
              <PairGlance key={pair.id} pair={pair} />
            ))}
          </SimpleGrid>
        )}
      </section>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <RecentRuns names={names} />
        <RecentChanges names={names} />
      </SimpleGrid>
      <ServerPanel />
    </Stack>
  );
}

function PairGlance({ pair }: { pair: Pair }) {
  const { status, label, check, watch } = usePairHealth(pair);
  return (
    <Card withBorder padding="sm" role="listitem" aria-label={`Pair ${pair.name}`} data-testid="pair-glance">
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Text fw={600} component={Link} to={`/pairs/${pair.id}`} truncate>
          {pair.name}
        </Text>
        <PairStatusBadge pairId={pair.id} status={status} label={label} check={check} />
      </Group>
      {status === 'error' && check?.problem && (
        <Text size="sm" c="red" mt={4}>
          {check.problem}
        </Text>
      )}
      {pair.watch.enabled && (
        <Group mt={4}>
          <WatchGlance state={watch} />
        </Group>
      )}
      <Text size="xs" c="dimmed" mt={4}>
        Last run:{' '}
        {pair.lastRun ? (
          <>
            {pair.lastRun.status}, <RelativeTime value={pair.lastRun.finishedAt ?? pair.lastRun.queuedAt} />
          </>
        ) : (
          'never'
        )}
      </Text>
    </Card>
  );
}

function RecentRuns({ names }: { names: Map<string, string> }) {
  const runs = useRecentRuns();
  return (
    <Card withBorder padding="sm" component="section" aria-labelledby="overview-runs">
      <Title order={2} size="h4" id="overview-runs" mb="xs">
        Recent runs
      </Title>
      {runs.isPending ? (
        <LoadingState label="Loading runs…" />
      ) : runs.isError ? (
        <ErrorState error={runs.error} onRetry={() => runs.refetch()} title="Could not load the runs" />
      ) : runs.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          No run yet.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={540}>
          <Table aria-label="Recent runs" data-testid="recent-runs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Pair</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">When</Table.Th>
                <Table.Th scope="col">Changes</Table.Th>
                <Table.Th scope="col">Duration</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {runs.data.items.map((run) => (
                <RunRow key={run.id} run={run} name={names.get(run.pairId) ?? 'deleted pair'} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

function RunRow({ run, name }: { run: Run; name: string }) {
  const duration = runDuration(run);
  return (
    <Table.Tr>
      <Table.Td>
        <Link to={`/runs/${run.id}`}>{name}</Link>
      </Table.Td>
      <Table.Td>
        <Group gap={4} wrap="nowrap">
          <Badge
            color={RUN_STATUS_COLOR[run.status] ?? 'gray'}
            variant="light"
            style={{ overflow: 'visible' }}
          >
            {run.dryRun ? `${run.status} (dry run)` : run.status}
          </Badge>
          {run.trigger === 'watch' && <RunTriggerLabel trigger={run.trigger} />}
        </Group>
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        <RelativeTime value={run.finishedAt ?? run.startedAt ?? run.queuedAt} />
      </Table.Td>
      <Table.Td>{run.stats ? filesMoved(run.stats) : '—'}</Table.Td>
      <Table.Td>{duration === null ? '—' : formatDuration(duration)}</Table.Td>
    </Table.Tr>
  );
}

function RecentChanges({ names }: { names: Map<string, string> }) {
  const changes = useRecentChanges();
  return (
    <Card withBorder padding="sm" component="section" aria-labelledby="overview-changes">
      <Title order={2} size="h4" id="overview-changes" mb="xs">
        Recent changes
      </Title>
      {changes.isPending ? (
        <LoadingState label="Loading changes…" />
      ) : changes.isError ? (
        <ErrorState
          error={changes.error}
          onRetry={() => changes.refetch()}
          title="Could not load the changes"
        />
      ) : changes.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          No file has been synced yet.
        </Text>
      ) : (
        <Stack
          component="ul"
          p={0}
          m={0}
          style={{ listStyle: 'none' }}
          gap={6}
          aria-label="Recent changes"
          data-testid="recent-changes"
        >
          {changes.data.items.map((change) => (
            <ChangeLine key={change.id} change={change} name={names.get(change.pairId) ?? 'deleted pair'} />
          ))}
        </Stack>
      )}
    </Card>
  );
}

function ChangeLine({ change, name }: { change: Change; name: string }) {
  const isFailed = change.status === 'failed';
  return (
    <li>
      <Group gap="xs" wrap="wrap" align="center">
        <Tooltip label={change.type}>
          <Badge variant="light" color={isFailed ? 'red' : ACTION_INFO[change.type].color} tt="none">
            {isFailed
              ? `Failed: ${actionLabel(change.type, change.isDir)}`
              : actionLabel(change.type, change.isDir)}
          </Badge>
        </Tooltip>
        <Text size="sm" style={{ wordBreak: 'break-all' }}>
          {change.path}
          {change.to ? ` → ${change.to}` : ''}
          {change.isDir ? '/' : ''}
        </Text>
      </Group>
      <Text size="xs" c="dimmed">
        <Link to={`/runs/${change.runId}`}>{name}</Link> · <RelativeTime value={change.at} />
        {change.bytes > 0 ? ` · ${formatBytes(change.bytes)}` : ''}
      </Text>
    </li>
  );
}

function ServerPanel() {
  const info = useServerInfo();
  return (
    <Card
      withBorder
      padding="sm"
      component="section"
      aria-labelledby="overview-server"
      data-testid="server-panel"
    >
      <Title order={2} size="h4" id="overview-server" mb="xs">
        Server
      </Title>
      {info.isPending ? (
        <LoadingState label="Loading the server's state…" />
      ) : info.isError ? (
        <ErrorState
          error={info.error}
          onRetry={() => info.refetch()}
          title="Could not read the server's state"
        />
      ) : (
        <ServerFacts info={info.data} />
      )}
    </Card>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Text size="sm" c="dimmed" w={130} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" component="div" style={{ wordBreak: 'break-all', minWidth: 0 }}>
        {children}
      </Text>
    </Group>
  );
}

function ServerFacts({ info }: { info: ServerInfo }) {
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
      <Stack gap={6}>
        <Fact label="Version">{info.version}</Fact>
        <Fact label="Mode">
          {info.mode === 'embedded'
            ? 'Embedded (runs execute in the server)'
            : 'Distributed (workers on Redis)'}
        </Fact>
        <Fact label="Database">{info.database === 'pglite' ? 'Embedded (PGlite)' : 'PostgreSQL'}</Fact>
        <Fact label="Data directory">{info.dataDir}</Fact>
        <Fact label="Runs">
          {info.runs.queued} queued, {info.runs.running} running, {info.runs.paused} paused
        </Fact>
        {info.workersOnline !== null && <Fact label="Workers online">{info.workersOnline}</Fact>}
      </Stack>
      <Stack gap={6} aria-label="Allowed roots">
        <Text size="sm" c="dimmed">
          Allowed roots (pairs' local folders lie under these)
        </Text>
        {info.allowedRoots.map((root) => (
          <div key={root.path} data-testid="allowed-root">
            <Text size="sm" style={{ wordBreak: 'break-all' }}>
              {root.path}
            </Text>
            {root.freeBytes !== null && root.totalBytes ? (
              <>
                <Progress
                  value={100 - (root.freeBytes / root.totalBytes) * 100}
                  size="sm"
                  aria-label={`Space used on ${root.path}`}
                />
                <Text size="xs" c="dimmed">
                  {formatBytes(root.freeBytes)} free of {formatBytes(root.totalBytes)}
                </Text>
              </>
            ) : (
              <Text size="xs" c="red">
                {root.exists ? 'Cannot be read' : 'Does not exist'}
              </Text>
            )}
          </div>
        ))}
      </Stack>
    </SimpleGrid>
  );
}
