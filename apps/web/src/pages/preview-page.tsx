import { Accordion, Alert, Badge, Button, Group, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { Link, useNavigate, useParams } from 'react-router';
import { errorMessage } from '../api/client.js';
import { usePair, usePlan, useStartRun } from '../api/hooks.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { ACTION_INFO, actionLabel } from '../lib/actions.js';
import { formatBytes } from '../lib/format.js';
import { groupPlanByAction, planHasChanges, summarizePlan } from '../lib/plan.js';

/** How many actions of one group are listed before "and N more". */
const LISTED_PER_GROUP = 200;

/** The dry run: what a run would do now, grouped by action, with a button to run it. */
export function PreviewPage() {
  const { id = '' } = useParams();
  const pair = usePair(id);
  const plan = usePlan(id);
  const startRun = useStartRun(id);
  const navigate = useNavigate();

  const groups = plan.data ? groupPlanByAction(plan.data.actions) : [];
  const hasChanges = planHasChanges(groups);
  const summary = summarizePlan(groups);

  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={1} size="h2">
            Preview
          </Title>
          <Text c="dimmed" size="sm">
            {pair.data
              ? `What a run of “${pair.data.name}” would do now. Nothing is changed.`
              : 'Nothing is changed.'}
          </Text>
        </div>
        <Group gap="xs">
          <Button variant="default" onClick={() => plan.refetch()} loading={plan.isFetching}>
            Refresh
          </Button>
          <Button
            onClick={() => startRun.mutate({}, { onSuccess: (run) => navigate(`/runs/${run.id}`) })}
            loading={startRun.isPending}
            disabled={!plan.data}
          >
            Run now
          </Button>
        </Group>
      </Group>
      {startRun.error && (
        <Alert color="red" role="alert" title="The run did not start">
          {errorMessage(startRun.error)}
        </Alert>
      )}
      {plan.isPending ? (
        <LoadingState label="Scanning both sides to build the plan…" />
      ) : plan.isError ? (
        <ErrorState error={plan.error} onRetry={() => plan.refetch()} title="Could not build the preview" />
      ) : (
        <>
          <Group gap="lg" data-testid="plan-totals">
            <Text>
              <strong>{summary.files}</strong> {summary.files === 1 ? 'file' : 'files'} to transfer
            </Text>
            <Text>
              <strong>{formatBytes(summary.bytes)}</strong> to copy
            </Text>
            {summary.folders > 0 && (
              <Text>
                <strong>{summary.folders}</strong> {summary.folders === 1 ? 'folder' : 'folders'}
              </Text>
            )}
            <Text>
              <strong>{summary.deletes}</strong> {summary.deletes === 1 ? 'deletion' : 'deletions'}
            </Text>
            {summary.renames > 0 && (
              <Text>
                <strong>{summary.renames}</strong> {summary.renames === 1 ? 'rename' : 'renames'}
              </Text>
            )}
            {summary.conflicts > 0 && (
              <Text>
                <strong>{summary.conflicts}</strong> {summary.conflicts === 1 ? 'conflict' : 'conflicts'}
              </Text>
            )}
            {plan.data.isFirstSync && <Badge variant="light">First sync: nothing will be deleted</Badge>}
          </Group>
          {plan.data.warnings.map((warning) => (
            <Alert key={warning} color="yellow" role="alert">
              {warning}
            </Alert>
          ))}
          {!hasChanges ? (
            <EmptyState
              title="Both sides are in sync"
              action={
                <Button component={Link} to={`/pairs/${id}`} variant="light">
                  Back to the pair
                </Button>
              }
            >
              A run now would change nothing.
            </EmptyState>
          ) : null}
          {groups.length > 0 && (
            <Accordion multiple variant="separated" aria-label="Planned actions by type">
              {groups.map((group) => (
                <Accordion.Item
                  key={`${group.type}:${group.isDir}`}
                  value={`${group.type}:${group.isDir}`}
                  data-testid={`plan-group-${group.type}${group.isDir ? '-folders' : ''}`}
                >
                  <Accordion.Control>
                    <Group justify="space-between" wrap="nowrap" pr="sm">
                      <Group gap="xs">
                        <Badge color={ACTION_INFO[group.type].color}>{group.count}</Badge>
                        <Tooltip label={group.type}>
                          <Text>{actionLabel(group.type, group.isDir)}</Text>
                        </Tooltip>
                      </Group>
                      <Text size="sm" c="dimmed">
                        {group.isDir ? '' : formatBytes(group.bytes)}
                      </Text>
                    </Group>
                  </Accordion.Control>
                  <Accordion.Panel>
                    <Table.ScrollContainer minWidth={480}>
                      <Table>
                        <Table.Thead>
                          <Table.Tr>
                            <Table.Th scope="col">Path</Table.Th>
                            <Table.Th scope="col">Why</Table.Th>
                            <Table.Th scope="col" ta="right">
                              Size
                            </Table.Th>
                          </Table.Tr>
                        </Table.Thead>
                        <Table.Tbody>
                          {group.actions.slice(0, LISTED_PER_GROUP).map((action) => (
                            <Table.Tr key={`${action.path}->${action.to ?? ''}`}>
                              <Table.Td style={{ wordBreak: 'break-all' }}>
                                {action.path}
                                {action.to ? ` → ${action.to}` : ''}
                                {action.isDir ? '/' : ''}
                              </Table.Td>
                              <Table.Td>
                                <Text size="sm" c="dimmed">
                                  {action.reason}
                                </Text>
                              </Table.Td>
                              <Table.Td ta="right">{action.isDir ? '—' : formatBytes(action.bytes)}</Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    </Table.ScrollContainer>
                    {group.count > LISTED_PER_GROUP && (
                      <Text size="sm" c="dimmed" mt="xs">
                        and {group.count - LISTED_PER_GROUP} more
                      </Text>
                    )}
                  </Accordion.Panel>
                </Accordion.Item>
              ))}
            </Accordion>
          )}
        </>
      )}
    </Stack>
  );
}
