import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  Menu,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import type { Conflict, ConflictPreview, ConflictResolution, EntryMetadata } from '@syncengine/contracts';
import { useQueries, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError, api, errorMessage, query } from '../api/client.js';
import { useConflicts, usePairs, useResolveConflict } from '../api/hooks.js';
import { outcomeMessage, ResolvedConflicts, useResolvedConflicts } from '../components/resolved-conflicts.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { formatBytes, formatTime } from '../lib/format.js';
import { newestResolution } from '../lib/status.js';

type BulkChoice = ConflictResolution | 'newest';

const RESOLUTION_LABEL: Record<ConflictResolution, string> = {
  source: 'Keep source',
  destination: 'Keep destination',
  'keep-both': 'Keep both',
  skip: 'Skip for now',
};

/** The inbox of pending conflicts across pairs, one by one or in bulk. */
export function ConflictsPage() {
  const [params, setParams] = useSearchParams();
  const pairId = params.get('pairId') ?? undefined;
  const conflicts = useConflicts(pairId);
  const pairs = usePairs();
  const client = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<{ done: number; total: number; failures: string[] } | null>(null);
  const resolvedList = useResolvedConflicts(pairId);
  /** Conflicts decided on this page: their outcome is told once it is on disk. */
  const [decided, setDecided] = useState<string[]>([]);
  const onDecided = (id: string) => setDecided((current) => [id, ...current.filter((item) => item !== id)]);
  const told = (resolvedList.data?.items ?? []).filter((conflict) => decided.includes(conflict.id));

  const pairNames = useMemo(() => {
    const names = new Map<string, string>();
    for (const pair of pairs.data?.items ?? []) names.set(pair.id, pair.name);
    return names;
  }, [pairs.data]);

  const items = conflicts.data?.items ?? [];
  const visibleIds = items.map((conflict) => conflict.id);
  const chosen = items.filter((conflict) => selected.has(conflict.id));
  const isAllSelected = items.length > 0 && chosen.length === items.length;

  const resolveMany = async (targets: Conflict[], choice: BulkChoice) => {
    setBulk({ done: 0, total: targets.length, failures: [] });
    const failures: string[] = [];
    let done = 0;
    // A few at a time: each resolution may reach a live run.
    const queue = [...targets];
    const worker = async () => {
      for (let conflict = queue.shift(); conflict; conflict = queue.shift()) {
        const resolution = choice === 'newest' ? newestResolution(conflict) : choice;
        try {
          await api('POST', `/conflicts/${conflict.id}/resolve`, { resolution });
          if (resolution !== 'skip') onDecided(conflict.id);
        } catch (error) {
          failures.push(`${conflict.path}: ${errorMessage(error)}`);
        }
        done += 1;
        setBulk({ done, total: targets.length, failures: [...failures] });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    setSelected(new Set());
    await client.invalidateQueries({ queryKey: ['conflicts'] });
  };

  return (
    <Stack>
      <Title order={1} size="h2">
        Conflicts
      </Title>
      <Text c="dimmed" size="sm">
        Files changed on both sides of a pair set to “Ask me”. Nothing changes on either side until you
        decide; the losing version is always kept in the versions folder.
      </Text>
      <Group align="flex-end" gap="sm">
        <Select
          label="Pair"
          placeholder="All pairs"
          data={(pairs.data?.items ?? []).map((pair) => ({ value: pair.id, label: pair.name }))}
          value={pairId ?? null}
          onChange={(value) => {
            setSelected(new Set());
            setParams(value ? { pairId: value } : {});
          }}
          clearable
          w={240}
        />
        {items.length > 0 && (
          <>
            <Checkbox
              label="Select all"
              checked={isAllSelected}
              indeterminate={chosen.length > 0 && !isAllSelected}
              onChange={() => setSelected(isAllSelected ? new Set() : new Set(visibleIds))}
              mb={8}
            />
            <Menu position="bottom-start">
              <Menu.Target>
                <Button variant="light" disabled={bulk !== null && bulk.done < bulk.total}>
                  {chosen.length > 0 ? `Resolve ${chosen.length} selected` : `Resolve all ${items.length}`}
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                {(['newest', 'source', 'destination', 'keep-both'] as const).map((choice) => (
                  <Menu.Item
                    key={choice}
                    onClick={() => void resolveMany(chosen.length > 0 ? chosen : items, choice)}
                  >
                    {choice === 'newest' ? 'Newest wins' : RESOLUTION_LABEL[choice]}
                  </Menu.Item>
                ))}
              </Menu.Dropdown>
            </Menu>
          </>
        )}
      </Group>
      {told.length > 0 && (
        <Alert
          color={told.every((conflict) => conflict.appliedAt) ? 'green' : 'blue'}
          role="status"
          title={told.every((conflict) => conflict.appliedAt) ? 'Done' : 'Applying your decisions…'}
          withCloseButton
          onClose={() => setDecided([])}
          data-testid="resolve-outcome"
        >
          {told.slice(0, 10).map((conflict) => (
            <Text key={conflict.id} size="sm">
              {outcomeMessage(conflict)}
            </Text>
          ))}
        </Alert>
      )}
      {bulk && (
        <Alert
          color={bulk.failures.length > 0 ? 'red' : bulk.done < bulk.total ? 'blue' : 'green'}
          role="status"
          withCloseButton={bulk.done === bulk.total}
          onClose={() => setBulk(null)}
          title={
            bulk.done < bulk.total
              ? `Resolving… ${bulk.done} of ${bulk.total}`
              : `Resolved ${bulk.done - bulk.failures.length} of ${bulk.total}`
          }
        >
          {bulk.failures.map((failure) => (
            <Text key={failure} size="sm">
              {failure}
            </Text>
          ))}
        </Alert>
      )}
      {conflicts.isPending ? (
        <LoadingState label="Loading conflicts…" />
      ) : conflicts.isError ? (
        <ErrorState
          error={conflicts.error}
          onRetry={() => conflicts.refetch()}
          title="Could not load the conflicts"
        />
      ) : items.length === 0 ? (
        <EmptyState
          title="No conflicts waiting"
          action={
            <Button component={Link} to="/pairs" variant="light">
              Go to the pairs
            </Button>
          }
        >
          {pairId
            ? 'This pair has no pending conflicts.'
            : 'Every pair is settled. Conflicts of pairs set to “Ask me” appear here.'}
        </EmptyState>
      ) : (
        <Stack role="list" aria-label="Pending conflicts">
          {items.map((conflict) => (
            <ConflictCard
              key={conflict.id}
              conflict={conflict}
              pairName={pairNames.get(conflict.pairId) ?? 'Pair'}
              isSelected={selected.has(conflict.id)}
              onDecided={onDecided}
              onSelect={(isOn) =>
                setSelected((current) => {
                  const next = new Set(current);
                  if (isOn) next.add(conflict.id);
                  else next.delete(conflict.id);
                  return next;
                })
              }
            />
          ))}
        </Stack>
      )}
      <ResolvedConflicts items={resolvedList.data?.items ?? []} pairNames={pairNames} />
    </Stack>
  );
}

function ConflictCard({
  conflict,
  pairName,
  isSelected,
  onSelect,
  onDecided,
}: {
  conflict: Conflict;
  pairName: string;
  isSelected: boolean;
  onSelect: (isOn: boolean) => void;
  onDecided: (id: string) => void;
}) {
  const resolve = useResolveConflict();
  const suggestion = newestResolution(conflict);
  return (
    <Card
      withBorder
      padding="md"
      role="listitem"
      aria-label={`Conflict on ${conflict.path}`}
      data-testid="conflict-card"
    >
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Group gap="sm" wrap="nowrap" align="flex-start">
            <Checkbox
              checked={isSelected}
              onChange={(event) => onSelect(event.currentTarget.checked)}
              aria-label={`Select ${conflict.path}`}
              mt={4}
            />
            <div>
              <Text fw={600} style={{ wordBreak: 'break-all' }}>
                {conflict.path}
              </Text>
              <Text size="xs" c="dimmed">
                <Link to={`/pairs/${conflict.pairId}`}>{pairName}</Link> · detected{' '}
                {formatTime(conflict.detectedAt)}
              </Text>
            </div>
          </Group>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Side
            title="Source"
            entry={conflict.source}
            isNewer={suggestion === 'source'}
            isLarger={(conflict.source?.size ?? -1) > (conflict.destination?.size ?? -1)}
          />
          <Side
            title="Destination"
            entry={conflict.destination}
            isNewer={suggestion === 'destination'}
            isLarger={(conflict.destination?.size ?? -1) > (conflict.source?.size ?? -1)}
          />
        </SimpleGrid>
        <TextPreview conflict={conflict} />
        <Group gap="xs">
          {(['source', 'destination', 'keep-both', 'skip'] as const).map((resolution) => (
            <Button
              key={resolution}
              size="xs"
              variant={resolution === 'skip' ? 'subtle' : 'light'}
              loading={resolve.isPending && resolve.variables?.resolution === resolution}
              disabled={resolve.isPending}
              onClick={() => {
                // Told before the answer: the card may be gone (live update) by the time it comes.
                if (resolution !== 'skip') onDecided(conflict.id);
                resolve.mutate({ id: conflict.id, resolution });
              }}
            >
              {RESOLUTION_LABEL[resolution]}
            </Button>
          ))}
        </Group>
        {resolve.error && (
          <Text c="red" size="sm" role="alert">
            {errorMessage(resolve.error)}
          </Text>
        )}
        {resolve.isSuccess && resolve.variables?.resolution === 'skip' && (
          <Text size="sm" c="dimmed" role="status">
            Skipped: it stays here and is reported again on the next run.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function Side({
  title,
  entry,
  isNewer,
  isLarger,
}: {
  title: string;
  entry: EntryMetadata | null;
  isNewer: boolean;
  isLarger: boolean;
}) {
  return (
    <Card withBorder padding="sm" bg="var(--mantine-color-body)" aria-label={`${title} version`}>
      <Group justify="space-between" mb={4}>
        <Text fw={500} size="sm">
          {title}
        </Text>
        <Group gap={4}>
          {isNewer && (
            <Badge size="xs" variant="light">
              newer
            </Badge>
          )}
          {isLarger && (
            <Badge size="xs" variant="light" color="gray">
              larger
            </Badge>
          )}
        </Group>
      </Group>
      {entry ? (
        <Stack gap={2}>
          <Text size="sm">Size: {formatBytes(entry.size)}</Text>
          <Text size="sm">Modified: {formatTime(entry.mtime)}</Text>
          {entry.hash && (
            <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }} ff="monospace">
              {entry.hashAlgorithm ? `${entry.hashAlgorithm}: ` : ''}
              {entry.hash}
            </Text>
          )}
        </Stack>
      ) : (
        <Text size="sm" c="dimmed">
          Deleted on this side
        </Text>
      )}
    </Card>
  );
}

/**
 * The start of both versions of a text file, side by side, fetched on demand from
 * `GET /conflicts/:id/preview?side=`. Servers without that route answer 404, and the
 * dashboard says the preview is unavailable.
 */
function TextPreview({ conflict }: { conflict: Conflict }) {
  const [isOpen, setOpen] = useState(false);
  const sides = (['source', 'destination'] as const).filter(
    (side) => conflict[side] && !conflict[side]?.isDir,
  );
  const previews = useQueries({
    queries: sides.map((side) => ({
      queryKey: ['conflicts', conflict.id, 'preview', side],
      queryFn: () => api<ConflictPreview>('GET', `/conflicts/${conflict.id}/preview${query({ side })}`),
      enabled: isOpen,
      staleTime: 60_000,
    })),
  });
  if (sides.length === 0) return null;
  if (!isOpen) {
    return (
      <Group>
        <Button size="compact-xs" variant="subtle" onClick={() => setOpen(true)}>
          Show text preview
        </Button>
      </Group>
    );
  }
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} aria-label="Text preview">
      {sides.map((side, index) => {
        const preview = previews[index];
        let body: ReactNode;
        if (!preview || preview.isPending)
          body = (
            <Text size="xs" c="dimmed">
              Loading…
            </Text>
          );
        else if (preview.isError) {
          body = (
            <Text size="xs" c="dimmed">
              {preview.error instanceof ApiError && preview.error.status === 404
                ? 'This server offers no file preview.'
                : errorMessage(preview.error)}
            </Text>
          );
        } else {
          body = <PreviewBody preview={preview.data} />;
        }
        return (
          <div key={side}>
            <Text size="xs" fw={500} mb={2}>
              {side === 'source' ? 'Source' : 'Destination'}
            </Text>
            {body}
          </div>
        );
      })}
    </SimpleGrid>
  );
}

/** One side's preview: the text (noting when it was cut short), or why there is none. */
export function PreviewBody({ preview }: { preview: ConflictPreview }) {
  if (!preview.isText || preview.text === null) {
    return (
      <Text size="xs" c="dimmed">
        binary file, no preview
      </Text>
    );
  }
  return (
    <Stack gap={2}>
      <Code block style={{ maxHeight: 200, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
        {preview.text}
      </Code>
      {preview.truncated && (
        <Text size="xs" c="dimmed">
          truncated: only the start of the file is shown
        </Text>
      )}
    </Stack>
  );
}
