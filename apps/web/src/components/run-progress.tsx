import { Group, Progress, Stack, Text } from '@mantine/core';
import type { RunProgress } from '@syncengine/contracts';
import { formatBytes, formatDuration, formatRate, percent } from '../lib/format.js';
import { useNow } from './relative-time.js';

const PHASE_LABEL: Record<RunProgress['phase'], string> = {
  scanning: 'Scanning both sides',
  planning: 'Planning',
  transferring: 'Transferring',
  finishing: 'Finishing',
};

const COUNT_LABEL: Record<keyof NonNullable<RunProgress['counts']>, [string, string]> = {
  file: ['file', 'files'],
  folder: ['folder', 'folders'],
  delete: ['delete', 'deletes'],
  rename: ['rename', 'renames'],
  conflict: ['conflict', 'conflicts'],
  check: ['check', 'checks'],
};

/** "3/10 files · 1/2 folders": each kind of action apart, only those the run has. */
export function describeCounts(counts: NonNullable<RunProgress['counts']>): string {
  return (Object.keys(COUNT_LABEL) as (keyof typeof COUNT_LABEL)[])
    .filter((kind) => (counts[kind]?.total ?? 0) > 0)
    .map((kind) => {
      const { done, total } = counts[kind]!;
      return `${done}/${total} ${COUNT_LABEL[kind][total === 1 ? 0 : 1]}`;
    })
    .join(' · ');
}

/** Seconds left at the current rate, or null while it cannot be told. */
export function etaMs(progress: RunProgress): number | null {
  const left = progress.bytesTotal - progress.bytesDone;
  if (progress.phase !== 'transferring' || progress.rateBytesPerSecond <= 0 || left <= 0) return null;
  return (left / progress.rateBytesPerSecond) * 1_000;
}

/**
 * A run's progress: elapsed time and ETA, actions and bytes done against the plan (files and
 * folders counted apart), the rate, and every transfer in flight.
 */
export function RunProgressBars({
  progress,
  compact = false,
  startedAt = null,
}: {
  progress: RunProgress | null;
  compact?: boolean;
  /** When the run started, for the elapsed time. */
  startedAt?: string | null;
}) {
  const now = useNow(1_000);
  if (!progress) {
    return (
      <Text size="sm" c="dimmed">
        Waiting for the first progress report…
      </Text>
    );
  }
  const filesPercent = percent(progress.filesDone, progress.filesTotal);
  const bytesPercent = percent(progress.bytesDone, progress.bytesTotal);
  const eta = etaMs(progress);
  const elapsed = startedAt ? Math.max(0, now - Date.parse(startedAt)) : null;
  const transfers = progress.transfers ?? [];
  return (
    <Stack gap={compact ? 4 : 'xs'}>
      <Group justify="space-between" gap="xs">
        <Text size="sm" fw={500}>
          {PHASE_LABEL[progress.phase]}
        </Text>
        <Text size="sm" c="dimmed" data-testid="run-rate">
          {formatRate(progress.rateBytesPerSecond)}
        </Text>
      </Group>
      {!compact && (
        <Text size="xs" c="dimmed" data-testid="run-times">
          {elapsed !== null ? `Elapsed ${formatDuration(elapsed)}` : ''}
          {eta !== null ? ` · about ${formatDuration(eta)} left` : ''}
        </Text>
      )}
      <div>
        <Group justify="space-between" gap="xs">
          <Text size="xs" id="files-progress-label">
            Actions
          </Text>
          <Text size="xs" c="dimmed" data-testid="files-progress">
            {progress.filesDone} / {progress.filesTotal}
          </Text>
        </Group>
        <Progress value={filesPercent} aria-labelledby="files-progress-label" size={compact ? 'sm' : 'md'} />
      </div>
      <div>
        <Group justify="space-between" gap="xs">
          <Text size="xs" id="bytes-progress-label">
            Data
          </Text>
          <Text size="xs" c="dimmed">
            {formatBytes(progress.bytesDone)} / {formatBytes(progress.bytesTotal)}
          </Text>
        </Group>
        <Progress
          value={bytesPercent}
          color="teal"
          aria-labelledby="bytes-progress-label"
          size={compact ? 'sm' : 'md'}
        />
      </div>
      {progress.counts && (
        <Text size="xs" c="dimmed" data-testid="run-counts">
          {describeCounts(progress.counts)}
        </Text>
      )}
      {!compact && (
        <div data-testid="transfers-in-flight">
          <Text size="xs" fw={500}>
            In flight ({transfers.length})
          </Text>
          {transfers.length === 0 ? (
            <Text size="xs" c="dimmed">
              {progress.transfers ? 'No transfer right now.' : (progress.currentFile ?? '—')}
            </Text>
          ) : (
            // At most `transfers` (or a group's files) at once: a short box that scrolls.
            <Stack
              gap={2}
              component="ul"
              p={0}
              m={0}
              mah={160}
              style={{ listStyle: 'none', overflowY: 'auto' }}
              aria-label="Transfers in flight"
            >
              {transfers.map((transfer) => (
                <Group key={transfer.path} component="li" gap="xs" wrap="nowrap" justify="space-between">
                  <Text size="xs" truncate="start" title={transfer.path} style={{ minWidth: 0 }}>
                    {transfer.path}
                  </Text>
                  <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
                    {formatBytes(transfer.bytesDone)} / {formatBytes(transfer.size)}
                  </Text>
                </Group>
              ))}
            </Stack>
          )}
        </div>
      )}
    </Stack>
  );
}
