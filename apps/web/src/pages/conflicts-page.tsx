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
import {
  CONFLICT_IMAGE_MAX_BYTES,
  type Conflict,
  type ConflictPreview,
  type ConflictResolution,
  conflictImageType,
  type EntryMetadata,
  type Side as SideName,
} from '@syncengine/contracts';
import { useQueries, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { API_BASE, ApiError, api, errorMessage, query } from '../api/client.js';
import { useConflicts, usePairs, useResolveConflict } from '../api/hooks.js';
import { RelativeTime } from '../components/relative-time.js';
import { outcomeMessage, ResolvedConflicts, useResolvedConflicts } from '../components/resolved-conflicts.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { formatBytes, formatTime } from '../lib/format.js';
import { newestResolution } from '../lib/status.js';
import { diffTexts, type TextDiff } from '../lib/text-diff.js';

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
          {items.map((conflict, index) => (
            <ConflictCard
              key={conflict.id}
              conflict={conflict}
              isDiffOpen={index < OPEN_DIFFS}
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
  isDiffOpen,
}: {
  conflict: Conflict;
  pairName: string;
  isDiffOpen: boolean;
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
                <RelativeTime value={conflict.detectedAt} />
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
        <ConflictContent conflict={conflict} isOpenAtFirst={isDiffOpen} />
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
          {entry.hash ? (
            <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }} ff="monospace">
              {entry.hashAlgorithm ? `${entry.hashAlgorithm}: ` : ''}
              {entry.hash}
            </Text>
          ) : (
            <Text size="xs" c="dimmed">
              Hash: not read on this side
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

/** How many cards show their differences at once, without a click. */
const OPEN_DIFFS = 10;

/**
 * What differs between the two versions: thumbnails for an image, a line diff for a text
 * file (from the start of each side, `GET /conflicts/:id/preview`), the text of the one
 * side where the other deleted it. The first cards show it at once, the others on a click.
 */
function ConflictContent({ conflict, isOpenAtFirst }: { conflict: Conflict; isOpenAtFirst: boolean }) {
  const [isOpen, setOpen] = useState(isOpenAtFirst);
  const sides = (['source', 'destination'] as const).filter(
    (side) => conflict[side] && !conflict[side]?.isDir,
  );
  const imageType = conflictImageType(conflict.path);
  const previews = useQueries({
    queries: sides.map((side) => ({
      queryKey: ['conflicts', conflict.id, 'preview', side],
      queryFn: () => api<ConflictPreview>('GET', `/conflicts/${conflict.id}/preview${query({ side })}`),
      enabled: isOpen && !imageType,
      staleTime: 60_000,
    })),
  });
  if (sides.length === 0) return null;
  if (imageType) return <Thumbnails conflict={conflict} sides={sides} />;
  if (!isOpen) {
    return (
      <Group>
        <Button size="compact-xs" variant="subtle" onClick={() => setOpen(true)}>
          Show differences
        </Button>
      </Group>
    );
  }
  const loaded = previews.map((preview) => preview.data);
  const failed = previews.find((preview) => preview.isError);
  if (failed?.error) {
    return (
      <Text size="xs" c="dimmed">
        {failed.error instanceof ApiError && failed.error.status === 404
          ? 'No preview: the file is no longer there.'
          : `No preview: ${errorMessage(failed.error)}`}
      </Text>
    );
  }
  if (loaded.some((data) => data === undefined)) {
    return (
      <Text size="xs" c="dimmed">
        Loading the differences…
      </Text>
    );
  }
  const [first, second] = loaded as ConflictPreview[];
  if (sides.length === 2 && first?.isText && second?.isText && first.text !== null && second.text !== null) {
    return (
      <TextDiffView diff={diffTexts(first.text, second.text)} isCut={first.truncated || second.truncated} />
    );
  }
  // One side only (the other deleted it), or a binary file: each side on its own.
  return (
    <SimpleGrid cols={{ base: 1, sm: sides.length }} aria-label="Text preview">
      {sides.map((side, index) => (
        <div key={side}>
          <Text size="xs" fw={500} mb={2}>
            {side === 'source' ? 'Source' : 'Destination'}
          </Text>
          <PreviewBody preview={loaded[index]!} />
        </div>
      ))}
    </SimpleGrid>
  );
}

const DIFF_LINE_STYLE = {
  source: { prefix: '−', background: 'var(--mantine-color-red-light)' },
  destination: { prefix: '+', background: 'var(--mantine-color-green-light)' },
  same: { prefix: ' ', background: undefined },
} as const;

/** A line diff of the two versions: − lines only in the source, + lines only in the destination. */
export function TextDiffView({ diff, isCut }: { diff: TextDiff; isCut: boolean }) {
  const note = isCut ? 'Compared the first 64 KiB of each side.' : null;
  if (diff.kind === 'same') {
    return (
      <Text size="xs" c="dimmed" aria-label="Differences">
        The text is the same on both sides{note ? ` (${note.slice(0, -1).toLowerCase()})` : ''}: only the
        times or other details differ.
      </Text>
    );
  }
  if (diff.kind === 'too-different') {
    return (
      <Text size="xs" c="dimmed" aria-label="Differences">
        The two versions differ almost everywhere; no line-by-line comparison.
      </Text>
    );
  }
  return (
    <Stack gap={4} aria-label="Differences">
      <Text size="xs" c="dimmed">
        {diff.changed} {diff.changed === 1 ? 'line differs' : 'lines differ'}:{' '}
        <Text span c="red" inherit>
          − source
        </Text>
        ,{' '}
        <Text span c="green" inherit>
          + destination
        </Text>
        {note ? `. ${note}` : ''}
      </Text>
      <Code block style={{ maxHeight: 260, overflow: 'auto', padding: 0 }} data-testid="conflict-diff">
        {diff.hunks.map((hunk) => (
          <div key={`${hunk.sourceStart}:${hunk.destinationStart}`}>
            <div style={{ padding: '2px 8px', opacity: 0.7 }}>
              line {hunk.sourceStart} of the source, {hunk.destinationStart} of the destination
            </div>
            {hunk.lines.map((line, index) => (
              <div
                // Lines repeat; their place in the hunk tells them apart.
                key={index}
                data-kind={line.kind}
                style={{
                  background: DIFF_LINE_STYLE[line.kind].background,
                  padding: '0 8px',
                  whiteSpace: 'pre-wrap',
                  wordBreak: 'break-all',
                }}
              >
                {DIFF_LINE_STYLE[line.kind].prefix} {line.text}
              </div>
            ))}
          </div>
        ))}
      </Code>
      {diff.isCut && (
        <Text size="xs" c="dimmed">
          More lines differ than are shown here.
        </Text>
      )}
    </Stack>
  );
}

/** Both versions of an image, small, side by side; a file too large for a thumbnail says so. */
function Thumbnails({ conflict, sides }: { conflict: Conflict; sides: readonly SideName[] }) {
  return (
    <SimpleGrid cols={{ base: 2 }} aria-label="Thumbnails">
      {sides.map((side) => {
        const title = side === 'source' ? 'Source' : 'Destination';
        const size = conflict[side]?.size ?? 0;
        return (
          <Stack key={side} gap={2}>
            <Text size="xs" fw={500}>
              {title}
            </Text>
            {size > CONFLICT_IMAGE_MAX_BYTES ? (
              <Text size="xs" c="dimmed">
                too large for a thumbnail
              </Text>
            ) : (
              <Thumbnail
                src={`${API_BASE}/conflicts/${conflict.id}/image${query({ side })}`}
                alt={`${title} version of ${conflict.path}`}
              />
            )}
          </Stack>
        );
      })}
    </SimpleGrid>
  );
}

function Thumbnail({ src, alt }: { src: string; alt: string }) {
  const [isBroken, setBroken] = useState(false);
  if (isBroken) {
    return (
      <Text size="xs" c="dimmed">
        no thumbnail: the file could not be shown
      </Text>
    );
  }
  return (
    <img
      src={src}
      alt={alt}
      loading="lazy"
      onError={() => setBroken(true)}
      style={{ maxWidth: '100%', maxHeight: 160, objectFit: 'contain', alignSelf: 'flex-start' }}
    />
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
