import { Alert, Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { Location, Pair } from '@syncengine/contracts';
import { describeLocation } from '@syncengine/contracts';
import { useEffect } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { errorMessage } from '../api/client.js';
import { usePair, usePairRuns, useStartRun } from '../api/hooks.js';
import { OutOfSyncItems, PairStatusBadge, SideTotalsLine, usePairHealth } from '../components/pair-status.js';
import { RunTriggerLabel, WatchPanel } from '../components/pair-watch.js';
import { RelativeTime } from '../components/relative-time.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { CONFLICT_STRATEGY_INFO, SYNC_MODE_INFO } from '../lib/actions.js';
import { formatBytes, formatDuration, formatRate } from '../lib/format.js';
import { bytesMoved, filesMoved, runChartPoints, runDuration } from '../lib/runs.js';
import { describeSchedule } from '../lib/schedule.js';
import { RUN_STATUS_COLOR } from '../lib/status.js';

/** A pair: its settings at a glance, its run history and a chart of its last runs. */
export function PairPage() {
  const { id = '' } = useParams();
  const pair = usePair(id);
  const runs = usePairRuns(id);

  if (pair.isPending) return <LoadingState label="Loading the pair…" />;
  if (pair.isError)
    return <ErrorState error={pair.error} onRetry={() => pair.refetch()} title="Could not load the pair" />;
  return <PairView pair={pair.data} runs={runs} />;
}

function PairView({ pair, runs }: { pair: Pair; runs: ReturnType<typeof usePairRuns> }) {
  const id = pair.id;
  const startRun = useStartRun(id);
  const navigate = useNavigate();
  const { status, label, check, activeRun, watch } = usePairHealth(pair);
  const location = useLocation();
  useEffect(() => {
    if (location.hash === '#out-of-sync' && check) {
      document.getElementById('out-of-sync')?.scrollIntoView();
    }
  }, [location.hash, check]);

  const schedule = describeSchedule(pair.schedule);
  const points = runs.data ? runChartPoints(runs.data.items) : [];

  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <div>
          <Group gap="sm">
            <Title order={1} size="h2">
              {pair.name}
            </Title>
            <PairStatusBadge pairId={id} status={status} label={label} check={check} />
          </Group>
          <Text size="sm" c="dimmed" style={{ wordBreak: 'break-all' }}>
            {describeLocation(pair.source as Location)} ⇄ {describeLocation(pair.destination as Location)}
          </Text>
        </div>
        <Group gap="xs">
          {activeRun ? (
            <Button component={Link} to={`/runs/${activeRun.id}`}>
              Watch the run
            </Button>
          ) : (
            <Button
              loading={startRun.isPending}
              onClick={() => startRun.mutate({}, { onSuccess: (run) => navigate(`/runs/${run.id}`) })}
            >
              Run now
            </Button>
          )}
          <Button variant="light" component={Link} to={`/pairs/${id}/preview`}>
            Preview
          </Button>
          <Button variant="default" component={Link} to={`/pairs/${id}/versions`}>
            Versions
          </Button>
          <Button variant="default" component={Link} to={`/pairs/${id}/edit`}>
            Edit
          </Button>
        </Group>
      </Group>
      {startRun.error && (
        <Alert color="red" role="alert" title="The run did not start">
          {errorMessage(startRun.error)}
        </Alert>
      )}
      <Group gap="lg">
        <Text size="sm">
          <Text span c="dimmed">
            Mode:
          </Text>{' '}
          {SYNC_MODE_INFO[pair.mode].label}
        </Text>
        <Text size="sm">
          <Text span c="dimmed">
            Conflicts:
          </Text>{' '}
          {CONFLICT_STRATEGY_INFO[pair.conflictResolution].label}
        </Text>
        <Text size="sm">
          <Text span c="dimmed">
            Schedule:
          </Text>{' '}
          {schedule.kind === 'valid' ? schedule.description : 'manual only'}
          {!pair.enabled && ' (disabled)'}
        </Text>
        {pair.bandwidthLimit !== null && (
          <Text size="sm">
            <Text span c="dimmed">
              Bandwidth:
            </Text>{' '}
            at most {formatRate(pair.bandwidthLimit)}
          </Text>
        )}
      </Group>

      {pair.watch.enabled && <WatchPanel pair={pair} state={watch} />}

      {status === 'error' && check?.problem && (
        <Alert color="red" role="alert" title="This pair cannot sync" data-testid="pair-problem">
          {check.problem}
        </Alert>
      )}
      <SideTotalsLine check={check} />
      {check && check.outOfSync > 0 && (
        <section id="out-of-sync" aria-labelledby="out-of-sync-title">
          <Title order={2} size="h3" id="out-of-sync-title" mb="xs">
            Out of sync items ({check.outOfSync})
          </Title>
          <OutOfSyncItems check={check} />
        </section>
      )}

      <Title order={2} size="h3">
        History
      </Title>
      {runs.isPending ? (
        <LoadingState label="Loading runs…" />
      ) : runs.isError ? (
        <ErrorState error={runs.error} onRetry={() => runs.refetch()} title="Could not load the runs" />
      ) : runs.data.items.length === 0 ? (
        <EmptyState title="No runs yet">
          Press “Run now” to sync, or “Preview” to see first what would happen.
        </EmptyState>
      ) : (
        <>
          {points.length > 1 && (
            <Card
              withBorder
              padding="sm"
              aria-label="Duration and data moved over the last runs"
              role="figure"
            >
              <Text size="sm" fw={500} mb="xs">
                Last {points.length} runs
              </Text>
              <div style={{ width: '100%', height: 240 }}>
                <ResponsiveContainer>
                  <ComposedChart data={points} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
                    <XAxis dataKey="label" fontSize={11} minTickGap={24} />
                    <YAxis
                      yAxisId="bytes"
                      fontSize={11}
                      width={70}
                      tickFormatter={(value: number) => formatBytes(value)}
                    />
                    <YAxis yAxisId="duration" orientation="right" fontSize={11} unit=" s" width={50} />
                    <Tooltip
                      formatter={(value, name) =>
                        name === 'Data moved' ? formatBytes(Number(value)) : `${String(value)} s`
                      }
                    />
                    <Legend />
                    <Bar
                      yAxisId="bytes"
                      dataKey="bytes"
                      name="Data moved"
                      fill="#4dabf7"
                      isAnimationActive={false}
                    />
                    <Line
                      yAxisId="duration"
                      dataKey="durationSeconds"
                      name="Duration"
                      stroke="#f76707"
                      isAnimationActive={false}
                    />
                  </ComposedChart>
                </ResponsiveContainer>
              </div>
            </Card>
          )}
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover aria-label="Runs of this pair">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Started</Table.Th>
                  <Table.Th scope="col">Status</Table.Th>
                  <Table.Th scope="col">Trigger</Table.Th>
                  <Table.Th scope="col">Duration</Table.Th>
                  <Table.Th scope="col">Changes</Table.Th>
                  <Table.Th scope="col">Data</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runs.data.items.map((run) => {
                  const duration = runDuration(run);
                  return (
                    <Table.Tr key={run.id} data-testid="run-row">
                      <Table.Td>
                        <Link to={`/runs/${run.id}`}>
                          <RelativeTime value={run.startedAt ?? run.queuedAt} />
                        </Link>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={RUN_STATUS_COLOR[run.status]} variant="light">
                          {run.status}
                        </Badge>
                        {run.dryRun && (
                          <Badge variant="outline" ml={4}>
                            dry run
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <RunTriggerLabel trigger={run.trigger} />
                      </Table.Td>
                      <Table.Td>{duration === null ? '—' : formatDuration(duration)}</Table.Td>
                      <Table.Td>{run.stats ? filesMoved(run.stats) : '—'}</Table.Td>
                      <Table.Td>{run.stats ? formatBytes(bytesMoved(run.stats)) : '—'}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </>
      )}
    </Stack>
  );
}
