import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import type { ActionType, Run, RunAction, RunActionStatus } from '@syncengine/contracts';
import { ActionTypeSchema, RunActionStatusSchema, TERMINAL_RUN_STATUSES } from '@syncengine/contracts';
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { errorMessage } from '../api/client.js';
import { type RunActionFilters, usePair, useRun, useRunActions, useRunControl } from '../api/hooks.js';
import { RelativeTime } from '../components/relative-time.js';
import { RunProgressBars } from '../components/run-progress.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { ACTION_INFO, actionLabel } from '../lib/actions.js';
import { formatBytes, formatDuration, formatTime } from '../lib/format.js';
import { bytesMoved, filesMoved, runDuration } from '../lib/runs.js';
import { conflictsWaiting, RUN_STATUS_COLOR } from '../lib/status.js';
import { RUN_TRIGGER_LABEL } from '../lib/watch.js';
import { useLive } from '../live/live-provider.js';

const PAGE_SIZE = 50;

/** A run: live progress and controls while it is active, its stats and action log always. */
export function RunPage() {
  const { id = '' } = useParams();
  const runQuery = useRun(id);
  const live = useLive();
  const liveRun = live.runs[id];

  if (runQuery.isPending && !liveRun?.run) return <LoadingState label="Loading the run…" />;
  if (runQuery.isError && !liveRun?.run) {
    return (
      <ErrorState error={runQuery.error} onRetry={() => runQuery.refetch()} title="Could not load the run" />
    );
  }
  const fetched = runQuery.data;
  // The fetched snapshot wins once it is terminal (it may be newer than what the socket saw).
  const run: Run =
    fetched && (TERMINAL_RUN_STATUSES.includes(fetched.status) || !liveRun?.run)
      ? fetched
      : (liveRun?.run ?? fetched!);
  const isActive = !TERMINAL_RUN_STATUSES.includes(run.status);
  const progress = liveRun?.progress ?? run.progress;

  return (
    <Stack>
      <RunHeader run={run} />
      {live.connection !== 'open' && isActive && (
        <Alert color="yellow" role="status">
          Live updates are reconnecting; the view catches up as soon as the connection is back.
        </Alert>
      )}
      {isActive ? (
        <Card withBorder padding="md" aria-label="Live progress">
          <Stack>
            <RunProgressBars progress={progress} startedAt={run.startedAt} />
            <RunControls run={run} />
          </Stack>
        </Card>
      ) : (
        <RunSummary run={run} />
      )}
      {isActive && <StreamedActions actions={liveRun?.actions ?? []} />}
      <ActionLog runId={run.id} isActive={isActive} />
    </Stack>
  );
}

function RunHeader({ run }: { run: Run }) {
  const pair = usePair(run.pairId);
  return (
    <Group justify="space-between" align="flex-start">
      <div>
        <Group gap="sm">
          <Title order={1} size="h2">
            {run.dryRun ? 'Dry run' : 'Run'}
          </Title>
          <Badge color={RUN_STATUS_COLOR[run.status]} size="lg" data-testid="run-status" aria-live="polite">
            {run.status === 'needs_decision' ? 'needs decision' : run.status}
          </Badge>
        </Group>
        <Text size="sm" c="dimmed">
          {pair.data ? <Link to={`/pairs/${run.pairId}`}>{pair.data.name}</Link> : 'Pair'} ·{' '}
          {RUN_TRIGGER_LABEL[run.trigger]} · queued <RelativeTime value={run.queuedAt} />
        </Text>
      </div>
      <Button variant="default" component={Link} to={`/pairs/${run.pairId}`}>
        Back to the pair
      </Button>
    </Group>
  );
}

function RunControls({ run }: { run: Run }) {
  const control = useRunControl(run.id);
  return (
    <Stack gap="xs">
      <Group gap="xs">
        {run.status === 'paused' ? (
          <Button
            onClick={() => control.mutate('resume')}
            loading={control.isPending && control.variables === 'resume'}
          >
            Resume
          </Button>
        ) : (
          <Button
            variant="light"
            onClick={() => control.mutate('pause')}
            disabled={run.status !== 'running'}
            loading={control.isPending && control.variables === 'pause'}
          >
            Pause
          </Button>
        )}
        <Button
          color="red"
          variant="light"
          onClick={() => control.mutate('cancel')}
          loading={control.isPending && control.variables === 'cancel'}
        >
          Cancel run
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Pause and cancel let running transfers finish; nothing is left half-written. A cancelled sync
        continues on the next run.
      </Text>
      {control.error && (
        <Text size="sm" c="red" role="alert">
          {errorMessage(control.error)}
        </Text>
      )}
    </Stack>
  );
}

function RunSummary({ run }: { run: Run }) {
  const duration = runDuration(run);
  return (
    <Stack>
      {run.error && (
        <Alert
          color={run.status === 'failed' ? 'red' : 'yellow'}
          title={run.status === 'failed' ? 'The run failed' : 'Note'}
          role="alert"
        >
          {run.error}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4 }} data-testid="run-summary">
        <Figure label="Changes" value={String(filesMoved(run.stats))} />
        <Figure label="Data moved" value={formatBytes(bytesMoved(run.stats))} />
        <Figure label="Duration" value={duration === null ? '—' : formatDuration(duration)} />
        <Figure
          label="Conflicts / errors"
          value={run.stats ? `${run.stats.conflicts} / ${run.stats.errors}` : '—'}
        />
      </SimpleGrid>
      {run.stats && run.stats.conflictsPending > 0 && (
        <Alert
          color="orange"
          title={conflictsWaiting(run.stats.conflictsPending)}
          data-testid="conflicts-waiting"
        >
          The run did everything else and ended; nothing changes on these files until you decide.{' '}
          <Link to={`/conflicts?pairId=${run.pairId}`}>Decide now</Link>.
        </Alert>
      )}
    </Stack>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="lg" fw={600}>
        {value}
      </Text>
    </Card>
  );
}

function StreamedActions({ actions }: { actions: RunAction[] }) {
  return (
    <Card withBorder padding="sm">
      <Text fw={500} size="sm" mb="xs">
        Latest actions
      </Text>
      {actions.length === 0 ? (
        <Text size="sm" c="dimmed">
          Actions appear here as they complete.
        </Text>
      ) : (
        <Stack
          gap={2}
          role="log"
          aria-live="polite"
          aria-label="Latest actions"
          mah={260}
          style={{ overflowY: 'auto' }}
        >
          {actions.slice(0, 50).map((action) => (
            <Group key={action.id} gap="xs" wrap="nowrap">
              <Tooltip label={action.type}>
                <Badge
                  size="xs"
                  color={action.status === 'failed' ? 'red' : ACTION_INFO[action.type].color}
                  miw={90}
                  tt="none"
                  style={{ flexShrink: 0 }}
                >
                  {actionLabel(action.type, action.isDir)}
                </Badge>
              </Tooltip>
              <Text size="xs" truncate="start" title={action.path}>
                {action.path}
                {action.to ? ` → ${action.to}` : ''}
                {action.isDir ? '/' : ''}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Card>
  );
}

function ActionLog({ runId, isActive }: { runId: string; isActive: boolean }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [typeFilter, setTypeFilter] = useState<ActionType | null>(null);
  const [statusFilter, setStatusFilter] = useState<RunActionStatus | null>(null);
  const [pathFilter, setPathFilter] = useState('');
  // The server filters the whole log; typing waits a moment before it asks again.
  const [debouncedPath] = useDebouncedValue(pathFilter.trim(), 300);
  const filters = useMemo<RunActionFilters>(
    () => ({
      types: typeFilter ? [typeFilter] : undefined,
      statuses: statusFilter ? [statusFilter] : undefined,
      path: debouncedPath === '' ? undefined : debouncedPath,
    }),
    [typeFilter, statusFilter, debouncedPath],
  );
  // Cursors belong to one filtered listing: a new filter starts again at the first page.
  const [cursorFilters, setCursorFilters] = useState(filters);
  if (cursorFilters !== filters) {
    setCursorFilters(filters);
    setCursors([null]);
  }
  const cursor = cursorFilters === filters ? (cursors[cursors.length - 1] ?? null) : null;
  const page = useRunActions(runId, filters, cursor, PAGE_SIZE, isActive);
  const isFiltered = Boolean(filters.types || filters.statuses || filters.path);
  const items = page.data?.items ?? [];
  const pageNumber = cursors.length;

  return (
    <Stack gap="xs">
      <Title order={2} size="h3">
        Action log
      </Title>
      <Group gap="xs" align="flex-end">
        <Select
          label="Action"
          placeholder="All actions"
          data={ActionTypeSchema.options.map((type) => ({ value: type, label: ACTION_INFO[type].label }))}
          value={typeFilter}
          onChange={(value) => setTypeFilter(value ? ActionTypeSchema.parse(value) : null)}
          clearable
          w={220}
        />
        <Select
          label="Result"
          placeholder="Any"
          data={RunActionStatusSchema.options}
          value={statusFilter}
          onChange={(value) => setStatusFilter(value ? RunActionStatusSchema.parse(value) : null)}
          clearable
          w={120}
        />
        <TextInput
          label="Path contains"
          value={pathFilter}
          onChange={(event) => setPathFilter(event.currentTarget.value)}
          w={220}
        />
      </Group>
      {page.isPending ? (
        <LoadingState label="Loading the action log…" />
      ) : page.isError ? (
        <ErrorState error={page.error} onRetry={() => page.refetch()} title="Could not load the action log" />
      ) : items.length === 0 ? (
        <EmptyState title={isFiltered ? 'No action matches' : 'No actions recorded'}>
          {isFiltered
            ? 'No action of this run matches the filters. Clear them to see the whole log.'
            : isActive
              ? 'Actions are logged as the run carries them out.'
              : 'This run had nothing to do: both sides were already in sync.'}
        </EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table striped aria-label="Action log" data-testid="action-log">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Action</Table.Th>
                <Table.Th scope="col">Path</Table.Th>
                <Table.Th scope="col">Result</Table.Th>
                <Table.Th scope="col">Size</Table.Th>
                <Table.Th scope="col">Time</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((action) => (
                <Table.Tr key={action.id}>
                  <Table.Td>
                    <Tooltip label={`${action.type}: ${action.reason}`}>
                      <Badge color={ACTION_INFO[action.type].color} variant="light" tt="none">
                        {actionLabel(action.type, action.isDir)}
                      </Badge>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td style={{ wordBreak: 'break-all' }}>
                    {action.path}
                    {action.to ? ` → ${action.to}` : ''}
                    {action.isDir ? '/' : ''}
                    {action.error && (
                      <Text size="xs" c="red">
                        {action.error}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{action.status}</Table.Td>
                  <Table.Td>{action.isDir ? '—' : formatBytes(action.bytes)}</Table.Td>
                  <Table.Td>{formatTime(action.at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Group justify="space-between">
        <Button
          variant="default"
          size="xs"
          disabled={cursors.length <= 1}
          onClick={() => setCursors((current) => current.slice(0, -1))}
        >
          Previous page
        </Button>
        <Text size="sm" c="dimmed">
          Page {pageNumber}
        </Text>
        <Button
          variant="default"
          size="xs"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            const next = page.data?.nextCursor;
            if (next) setCursors((current) => [...current, next]);
          }}
        >
          Next page
        </Button>
      </Group>
    </Stack>
  );
}
