import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { RestoreVersionResult, Side, Version, VersionReason } from '@syncengine/contracts';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { errorMessage } from '../api/client.js';
import { usePair } from '../api/hooks.js';
import {
  useDeleteVersion,
  usePruneVersions,
  useRestoreVersion,
  useVersions,
  versionContentUrl,
} from '../api/versions.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { formatBytes, formatRelative, formatTime } from '../lib/format.js';

const REASON_LABEL: Record<VersionReason, { label: string; color: string }> = {
  overwritten: { label: 'overwritten', color: 'blue' },
  deleted: { label: 'deleted', color: 'orange' },
  conflict: { label: 'lost a conflict', color: 'grape' },
  restore: { label: 'replaced by a restore', color: 'teal' },
  unknown: { label: 'kept', color: 'gray' },
};

const SIDE_LABEL: Record<Side, string> = { source: 'Source', destination: 'Destination' };

/** What a restore did, in a sentence. */
export function restoreMessage(result: RestoreVersionResult): string {
  const where = `${result.path} on the ${result.side}`;
  if (result.status === 'queued') return `Restoring ${where}: the job is queued and runs shortly.`;
  return result.keptAs
    ? `Restored ${where}. The file that was there is kept as a version (listed here), so this can be undone too.`
    : `Restored ${where}.`;
}

/**
 * A pair's kept versions (SPEC §8): every file a sync overwrote or deleted, on both sides.
 * Browse by side and folder, search by name, download, restore, delete, and prune by hand.
 */
export function VersionsPage() {
  const { id = '' } = useParams();
  const pair = usePair(id);
  const [params, setParams] = useSearchParams();
  const side = (params.get('side') as Side | null) ?? undefined;
  const path = params.get('path') ?? '';
  const q = params.get('q') ?? '';
  const [search, setSearch] = useState(q);
  const [folder, setFolder] = useState(path);
  const versions = useVersions(id, { side, path: path || undefined, q: q || undefined });
  const restore = useRestoreVersion(id);
  const remove = useDeleteVersion(id);
  const prune = usePruneVersions(id);
  const [pruneDays, setPruneDays] = useState<number | string>(30);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);

  const setParam = (name: string, value: string | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const isPhone = useMediaQuery('(max-width: 48em)') ?? false;
  const rowProps = (version: Version): VersionItemProps => ({
    pairId: id,
    version,
    isBusy: restore.isPending || remove.isPending,
    isConfirmingDelete: confirmDelete === version.id,
    onRestore: () => restore.mutate(version.id),
    onDelete: () => {
      if (confirmDelete !== version.id) {
        setConfirmDelete(version.id);
        return;
      }
      setConfirmDelete(null);
      remove.mutate(version.id);
    },
  });

  const retentionDays = versions.data?.retentionDays;
  return (
    <Stack>
      <div>
        <Text size="sm">
          <Anchor component={Link} to={`/pairs/${id}`}>
            ← {pair.data?.name ?? 'Pair'}
          </Anchor>
        </Text>
        <Title order={1} size="h2">
          Versions
        </Title>
        <Text size="sm" c="dimmed">
          Every file a sync overwrote or deleted is kept in <code>.syncengine/versions/</code> on its own
          side.
          {retentionDays !== undefined &&
            (retentionDays > 0
              ? ` Versions are kept ${retentionDays} days, then pruned after a run.`
              : ' Versions are kept forever.')}
        </Text>
      </div>

      <Group align="flex-end" gap="sm" wrap="wrap">
        <SegmentedControl
          aria-label="Side"
          value={side ?? 'both'}
          onChange={(value) => setParam('side', value === 'both' ? undefined : value)}
          data={[
            { value: 'both', label: 'Both sides' },
            { value: 'source', label: 'Source' },
            { value: 'destination', label: 'Destination' },
          ]}
        />
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const next = new URLSearchParams(params);
            for (const [name, value] of [
              ['q', search.trim()],
              ['path', folder.trim()],
            ] as const) {
              if (value) next.set(name, value);
              else next.delete(name);
            }
            setParams(next, { replace: true });
          }}
        >
          <Group align="flex-end" gap="sm" wrap="wrap">
            <TextInput
              label="Folder"
              placeholder="e.g. docs/2026"
              value={folder}
              onChange={(event) => setFolder(event.currentTarget.value)}
              w={200}
            />
            <TextInput
              label="Search names"
              placeholder="part of a name"
              value={search}
              onChange={(event) => setSearch(event.currentTarget.value)}
              w={200}
            />
            <Button type="submit" variant="light">
              Search
            </Button>
          </Group>
        </form>
      </Group>

      {restore.isSuccess && (
        <Alert color="green" role="status" withCloseButton onClose={() => restore.reset()} title="Restored">
          {restoreMessage(restore.data)}
        </Alert>
      )}
      {(restore.error || remove.error || prune.error) && (
        <Alert color="red" role="alert" title="That did not work">
          {errorMessage(restore.error ?? remove.error ?? prune.error)}
        </Alert>
      )}
      {prune.isSuccess && (
        <Alert color="green" role="status" withCloseButton onClose={() => prune.reset()} title="Pruned">
          Removed {prune.data.removedFolders} versions folder{prune.data.removedFolders === 1 ? '' : 's'}.
        </Alert>
      )}

      {versions.isPending ? (
        <LoadingState label="Reading the versions…" />
      ) : versions.isError ? (
        <ErrorState
          error={versions.error}
          onRetry={() => versions.refetch()}
          title="Could not read the versions"
        />
      ) : versions.data.items.length === 0 ? (
        <EmptyState title={q || path || side ? 'No versions match' : 'No versions kept yet'}>
          {q || path || side
            ? 'Try another folder or name, or both sides.'
            : 'When a sync overwrites or deletes a file, the old copy appears here.'}
        </EmptyState>
      ) : (
        <>
          <Text size="sm" c="dimmed" role="status">
            {versions.data.items.length} version{versions.data.items.length === 1 ? '' : 's'}
            {versions.data.truncated ? ' (the newest; narrow the search to see older ones)' : ''}
          </Text>
          {isPhone ? (
            <Stack gap="xs" role="list" aria-label="Kept versions">
              {versions.data.items.map((version) => (
                <VersionCard key={version.id} {...rowProps(version)} />
              ))}
            </Stack>
          ) : (
            <Table striped highlightOnHover aria-label="Kept versions">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>File</Table.Th>
                  <Table.Th>Side</Table.Th>
                  <Table.Th>Kept</Table.Th>
                  <Table.Th>Size</Table.Th>
                  <Table.Th>Why</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {versions.data.items.map((version) => (
                  <VersionRow key={version.id} {...rowProps(version)} />
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}

      <Group align="flex-end" gap="sm">
        <NumberInput
          label="Prune versions kept more than (days)"
          min={1}
          max={36_500}
          value={pruneDays}
          onChange={setPruneDays}
          w={260}
        />
        <Button
          variant="default"
          loading={prune.isPending}
          disabled={typeof pruneDays !== 'number' || pruneDays < 1}
          onClick={() => typeof pruneDays === 'number' && prune.mutate({ olderThanDays: pruneDays })}
        >
          Prune now
        </Button>
      </Group>
    </Stack>
  );
}

interface VersionItemProps {
  pairId: string;
  version: Version;
  isBusy: boolean;
  isConfirmingDelete: boolean;
  onRestore: () => void;
  onDelete: () => void;
}

function ReasonBadge({ version }: { version: Version }) {
  const reason = REASON_LABEL[version.reason];
  return (
    <Group gap={4} wrap="nowrap">
      <Badge variant="light" color={reason.color}>
        {reason.label}
      </Badge>
      {version.runId && (
        <Anchor component={Link} to={`/runs/${version.runId}`} size="xs" title="The run that kept it">
          run
        </Anchor>
      )}
    </Group>
  );
}

function VersionActions({
  pairId,
  version,
  isBusy,
  isConfirmingDelete,
  onRestore,
  onDelete,
}: VersionItemProps) {
  return (
    <Group gap={4} wrap="nowrap">
      <Button size="compact-sm" variant="light" disabled={isBusy} onClick={onRestore}>
        Restore
      </Button>
      <Button
        size="compact-sm"
        variant="subtle"
        component="a"
        href={versionContentUrl(pairId, version.id)}
        download
      >
        Download
      </Button>
      <Button size="compact-sm" variant="subtle" color="red" disabled={isBusy} onClick={onDelete}>
        {isConfirmingDelete ? 'Delete for good?' : 'Delete'}
      </Button>
    </Group>
  );
}

function KeptAt({ version }: { version: Version }) {
  return (
    <Text size="sm" span title={formatTime(version.keptAt)}>
      {formatRelative(version.keptAt)}
    </Text>
  );
}

function VersionRow(props: VersionItemProps) {
  const { version } = props;
  return (
    <Table.Tr data-testid="version-row">
      <Table.Td style={{ wordBreak: 'break-all' }}>{version.path}</Table.Td>
      <Table.Td>{SIDE_LABEL[version.side]}</Table.Td>
      <Table.Td>
        <KeptAt version={version} />
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatBytes(version.size)}</Table.Td>
      <Table.Td>
        <ReasonBadge version={version} />
      </Table.Td>
      <Table.Td>
        <VersionActions {...props} />
      </Table.Td>
    </Table.Tr>
  );
}

/** A version on a phone: a card rather than a table row too wide for the screen. */
function VersionCard(props: VersionItemProps) {
  const { version } = props;
  return (
    <Card withBorder padding="sm" role="listitem" data-testid="version-row">
      <Stack gap={6}>
        <Text fw={600} style={{ wordBreak: 'break-all' }}>
          {version.path}
        </Text>
        <Text size="sm" c="dimmed">
          {SIDE_LABEL[version.side]} · <KeptAt version={version} /> · {formatBytes(version.size)}
        </Text>
        <ReasonBadge version={version} />
        <VersionActions {...props} />
      </Stack>
    </Card>
  );
}
