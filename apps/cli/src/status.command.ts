import { FileStateStore } from '@syncengine/engine';
import { EXIT, type ExitCode } from './exit-codes.js';
import { formatCount, formatTime } from './format.js';
import { type CliIo, resolvePair, type SyncCommandOptions } from './sync.command.js';

/**
 * `syncengine status <source> <destination>`: what the pair's state says about the last
 * run, without scanning either side. Exit code 3 when conflicts are pending.
 */
export async function statusCommand(
  sourceText: string,
  destinationText: string,
  options: Pick<SyncCommandOptions, 'stateDir' | 'json'>,
  io: CliIo,
): Promise<ExitCode> {
  const pair = await resolvePair(sourceText, destinationText, options, io.env);
  const store = new FileStateStore(pair.stateDir, { pairId: pair.pairId });
  const metadata = await store.loadMetadata();
  const state = metadata ? await store.load() : null;
  const tracked = state ? [...state.source.values()].filter((entry) => !entry.isDir).length : 0;
  const pending = metadata?.pendingConflicts ?? [];
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          source: pair.source.identity,
          destination: pair.destination.identity,
          stateDir: pair.stateDir,
          hasSynced: metadata !== null,
          lastRunAt: metadata?.lastRunAt ?? null,
          lastRunStatus: metadata?.lastRunStatus ?? null,
          trackedFiles: tracked,
          pendingConflicts: pending.map((conflict) => ({
            path: conflict.path,
            detectedAt: conflict.detectedAt,
          })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const lines = [
      `source:       ${pair.source.identity}`,
      `destination:  ${pair.destination.identity}`,
      `state:        ${pair.stateDir}`,
    ];
    if (!metadata) {
      lines.push('last run:     never (the next sync merges both sides)');
    } else {
      lines.push(
        `last run:     ${metadata.lastRunAt ? formatTime(metadata.lastRunAt) : 'unknown'} (${metadata.lastRunStatus ?? 'unknown'})`,
        `tracked:      ${formatCount(tracked)} files`,
        `conflicts:    ${pending.length === 0 ? 'none pending' : `${pending.length} pending`}`,
        ...pending.map((conflict) => `  ${conflict.path} (since ${formatTime(conflict.detectedAt)})`),
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return pending.length > 0 ? EXIT.conflictsRemain : EXIT.ok;
}
