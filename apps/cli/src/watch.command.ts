import {
  FileStateStore,
  type StateChange,
  type SyncConfig,
  SyncController,
  type SyncResult,
  sync,
} from '@syncengine/engine';
import { PairWatcher, recordingStateStore, type WatchEvent, type WatchRunRequest } from '@syncengine/watch';
import { EXIT, type ExitCode, usageError } from './exit-codes.js';
import { plural } from './format.js';
import { createFolder, openStorage } from './locations.js';
import {
  type CliIo,
  configFromOptions,
  resolvePair,
  type SyncCommandOptions,
  summaryLine,
} from './sync.command.js';

/** Options of `syncengine watch`: those of `sync` (without a dry run) and the watch settings. */
export interface WatchCommandOptions
  extends Omit<SyncCommandOptions, 'dryRun' | 'progress' | 'statsInterval'> {
  /** `--debounce`, ms. */
  debounce: number;
  /** `--rescan`, minutes. */
  rescan: number;
  /** `--poll`, seconds. */
  poll: number;
}

const clock = (at: number) => new Date(at).toISOString().slice(11, 19);

function describeRequest(request: WatchRunRequest): string {
  if (request.kind === 'incremental') return `${plural(request.changes, 'change')}`;
  return { start: 'first run', rescan: 'rescan', fallback: 'full run after a fallback' }[request.reason];
}

/**
 * `syncengine watch <source> <destination>`: a first full run, then a run for each burst
 * of changes on either side (local folders through the operating system's notifications,
 * remote ones polled), a full run every `--rescan` minutes, until SIGINT or SIGTERM. Prints
 * one line per run (with --json, one JSON document per line). On a signal the run under
 * way finishes its current action and records its state; the exit code is then 0.
 */
export async function watchCommand(
  sourceText: string,
  destinationText: string,
  options: WatchCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const pair = await resolvePair(sourceText, destinationText, options, io.env);
  const store = new FileStateStore(pair.stateDir, { pairId: pair.pairId });
  if (!pair.destination.exists) {
    if ((await store.loadMetadata().catch(() => null)) !== null) {
      throw usageError(
        `destination folder ${pair.destination.identity} does not exist, but this pair has been synced before (state in ${pair.stateDir}); is a drive unmounted? Create the folder to watch it again`,
      );
    }
    await createFolder(pair.destination);
  }
  const source = await openStorage(pair.source, { env: io.env });
  const destination = await openStorage(pair.destination, { env: io.env }).catch(async (error: unknown) => {
    await source.close?.();
    throw error;
  });
  const config: Partial<SyncConfig> = { ...configFromOptions({ ...options, dryRun: false }) };
  const out = (line: string) => {
    if (!options.quiet || options.json) io.stdout.write(`${line}\n`);
  };
  const json = (document: Record<string, unknown>) => io.stdout.write(`${JSON.stringify(document)}\n`);
  let failedRuns = 0;

  const run = async (request: WatchRunRequest, signal: AbortSignal) => {
    const controller = new SyncController();
    const cancel = () => controller.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    const recorded: StateChange[] = [];
    const started = Date.now();
    let result: SyncResult;
    try {
      result = await sync({
        source,
        destination,
        state: recordingStateStore(store, (changes) => recorded.push(...changes)),
        config,
        controller,
        ...(request.kind === 'incremental' ? { changedPaths: request.paths } : {}),
      });
    } catch (error) {
      failedRuns++;
      const message = error instanceof Error ? error.message : String(error);
      if (options.json)
        json({ type: 'run', at: started, kind: request.kind, status: 'error', error: message });
      else io.stderr.write(`[${clock(started)}] run could not start: ${message}\n`);
      return { recorded };
    } finally {
      signal.removeEventListener('abort', cancel);
    }
    if (result.status === 'failed' || result.status === 'max-delete') failedRuns++;
    if (options.json) {
      json({
        type: 'run',
        at: started,
        kind: request.kind,
        ...(request.kind === 'incremental' ? { paths: request.paths.length, changes: request.changes } : {}),
        ...(request.kind === 'full' ? { reason: request.reason } : {}),
        status: result.status,
        actions: result.plan.actions.filter((action) => action.type !== 'NO_ACTION').length,
        stats: result.stats,
        errors: result.errors,
        deferred: result.deferred.map(({ path, message }) => ({ path, message })),
        pendingConflicts: result.pendingConflicts.map(({ path }) => path),
      });
    } else {
      out(`[${clock(started)}] ${describeRequest(request)}: ${summaryLine(result, false)}`);
      for (const error of result.errors) io.stderr.write(`  error: ${error.message}\n`);
      for (const deferred of result.deferred) out(`  deferred to the next run: ${deferred.message}`);
      if (result.pendingConflicts.length > 0) {
        out(
          `  ${plural(result.pendingConflicts.length, 'conflict')} left unresolved (see: syncengine status)`,
        );
      }
    }
    return { recorded };
  };

  const onEvent = (event: WatchEvent) => {
    if (event.type === 'fallback') {
      if (options.json) json({ type: 'fallback', at: event.at, side: event.side, reason: event.reason });
      else io.stderr.write(`[${clock(event.at)}] ${event.reason}\n`);
    } else if (event.type === 'poll_error') {
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      io.stderr.write(`[${clock(event.at)}] could not list the ${event.side} side: ${message}\n`);
    } else if (event.type === 'run_end' && event.error !== undefined) {
      const message = event.error instanceof Error ? event.error.message : String(event.error);
      io.stderr.write(`[${clock(event.at)}] run failed: ${message}\n`);
    }
  };

  const watcher = new PairWatcher({
    source,
    destination,
    settings: { debounceMs: options.debounce, rescanMinutes: options.rescan, pollSeconds: options.poll },
    ...(config.ignorePatterns ? { ignorePatterns: config.ignorePatterns } : {}),
    run,
    onEvent,
  });
  let isStopping = false;
  let stopped!: () => void;
  const whenStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    if (!options.json) io.stderr.write(`${signal}: stopping after the current action…\n`);
    void watcher.stop().then(stopped);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await watcher.start();
    const { modes } = watcher.status;
    if (options.json) json({ type: 'watching', at: Date.now(), modes });
    else
      out(
        `Watching ${pair.source.identity} (${modes.source}) and ${pair.destination.identity} (${modes.destination}); Ctrl-C to stop.`,
      );
    await whenStopped;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await watcher.stop();
    await Promise.allSettled([source.close?.(), destination.close?.()]);
  }
  if (options.json) json({ type: 'stopped', at: Date.now(), failedRuns });
  else out('Stopped; the state is saved.');
  return EXIT.ok;
}
