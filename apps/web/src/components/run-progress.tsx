import { Group, Progress, Stack, Text } from '@mantine/core';
import type { RunProgress } from '@syncengine/contracts';
import { formatBytes, formatRate, percent } from '../lib/format.js';

const PHASE_LABEL: Record<RunProgress['phase'], string> = {
  scanning: 'Scanning both sides',
  planning: 'Planning',
  transferring: 'Transferring',
  finishing: 'Finishing',
};

/** Files and bytes progress bars of a run, with its rate and current file. */
export function RunProgressBars({
  progress,
  compact = false,
}: {
  progress: RunProgress | null;
  compact?: boolean;
}) {
  if (!progress) {
    return (
      <Text size="sm" c="dimmed">
        Waiting for the first progress report…
      </Text>
    );
  }
  const filesPercent = percent(progress.filesDone, progress.filesTotal);
  const bytesPercent = percent(progress.bytesDone, progress.bytesTotal);
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
      <div>
        <Group justify="space-between" gap="xs">
          <Text size="xs" id="files-progress-label">
            Files
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
      {/* Always rendered, so the buttons below do not jump between files. */}
      <Text size="xs" c="dimmed" truncate="start" title={progress.currentFile ?? undefined}>
        Current: {progress.currentFile ?? '—'}
      </Text>
    </Stack>
  );
}
