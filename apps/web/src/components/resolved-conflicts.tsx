import { Anchor, Badge, Card, Group, Stack, Text, Title } from '@mantine/core';
import type { Conflict, ConflictList, ConflictResolution } from '@syncengine/contracts';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, query } from '../api/client.js';
import { formatRelative, formatTime } from '../lib/format.js';

const DECISION_LABEL: Record<ConflictResolution, string> = {
  source: 'kept the source',
  destination: 'kept the destination',
  'keep-both': 'kept both',
  skip: 'skipped',
};

/** Shown until a decision is on disk. */
const APPLYING = 'being applied…';

/** The name a resolved conflict's versions are found by in the versions view. */
const fileName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Resolved conflicts, newest first; polled while a decision is still being applied. */
export function useResolvedConflicts(pairId?: string) {
  return useQuery({
    queryKey: ['conflicts', 'resolved', pairId ?? 'all'],
    queryFn: () => api<ConflictList>('GET', `/conflicts${query({ status: 'resolved', pairId })}`),
    refetchInterval: (current) =>
      current.state.data?.items.some((conflict) => conflict.appliedAt === null) ? 1_000 : false,
  });
}

/** What resolving did, for the message after a decision: the outcome once it is on disk. */
export function outcomeMessage(conflict: Conflict): string {
  return `${conflict.path}: ${conflict.outcome ?? (conflict.resolution ? `${DECISION_LABEL[conflict.resolution]}, ${APPLYING}` : APPLYING)}`;
}

/**
 * The history of resolved conflicts: who decided what and when, what it did on disk, and
 * a way back through the versions view (every loser is kept there).
 */
export function ResolvedConflicts({
  items,
  pairNames,
}: {
  items: Conflict[];
  pairNames: Map<string, string>;
}) {
  if (items.length === 0) return null;
  return (
    <Stack gap="xs" component="section" aria-labelledby="resolved-title">
      <Title order={2} size="h3" id="resolved-title">
        Resolved
      </Title>
      <Stack gap="xs" role="list" aria-label="Resolved conflicts">
        {items.slice(0, 50).map((conflict) => (
          <Card key={conflict.id} withBorder padding="sm" role="listitem" data-testid="resolved-conflict">
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Text fw={600} style={{ wordBreak: 'break-all' }}>
                {conflict.path}
              </Text>
              {conflict.resolution && (
                <Badge variant="light" color={conflict.appliedAt ? 'green' : 'blue'}>
                  {DECISION_LABEL[conflict.resolution]}
                </Badge>
              )}
            </Group>
            <Text size="sm">{conflict.outcome ?? (conflict.appliedAt ? 'settled by a sync' : APPLYING)}</Text>
            <Text size="xs" c="dimmed">
              {pairNames.get(conflict.pairId) ?? 'Pair'} · by {conflict.resolvedBy ?? 'unknown'}{' '}
              <span title={formatTime(conflict.resolvedAt)}>
                {conflict.resolvedAt ? formatRelative(conflict.resolvedAt) : ''}
              </span>{' '}
              ·{' '}
              {conflict.resolution === 'keep-both' ? (
                'both copies stay: delete the one you do not need'
              ) : (
                <Anchor
                  component={Link}
                  size="xs"
                  to={`/pairs/${conflict.pairId}/versions${query({ q: fileName(conflict.path) })}`}
                >
                  Undo from the versions
                </Anchor>
              )}
            </Text>
          </Card>
        ))}
      </Stack>
    </Stack>
  );
}
