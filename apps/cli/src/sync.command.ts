import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  FileStateStore,
  type PlannedAction,
  type SyncConfig,
  SyncController,
  type SyncResult,
  sync,
} from '@syncengine/engine';
import { isWithin } from '@syncengine/locations/local';
import { terminalConflictHandler } from './conflict-prompt.js';
import { EXIT, type ExitCode, usageError } from './exit-codes.js';
import { formatBytes, formatCount, formatDuration, plural } from './format.js';
import {
  checkRootsApart,
  createFolder,
  type LocationSpec,
  localPath,
  openStorage,
  resolveLocation,
} from './locations.js';
import { type OutputMode, outputMode, ProgressReporter } from './progress.js';
import { jsonReport } from './report.js';
import { defaultStateDir, pairIdFor } from './state-dir.js';

/** Options of `syncengine sync` (and `plan`), as commander parses them. */
export interface SyncCommandOptions {
  mode: SyncConfig['mode'];
  compare: SyncConfig['comparisonMode'];
  conflict: SyncConfig['conflictResolution'];
  stateDir?: string;
  ignore?: string[];
  transfers: number;
  operations: number;
  maxDelete: number;
  /** Bytes per second (`--bwlimit`); none for no limit. */
  bwlimit?: number;
  keepVersions: number;
  force?: boolean;
  strict?: boolean;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  /** `--progress` (true) or `--no-progress` (false); undefined: the display on a terminal only. */
  progress?: boolean;
  /** `--stats-interval`, in ms. */
  statsInterval?: number;
  sftpKey?: string;
  sftpHostKey?: string;
  s3Endpoint?: string;
  s3Region?: string;
}

/** The process's streams, so the command can be driven from tests or another program. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

/** A pair's roots and where its state lives. */
export interface PairLocations {
  source: LocationSpec;
  destination: LocationSpec;
  pairId: string;
  stateDir: string;
}

/** Resolves both roots, refuses overlapping ones and finds the pair's state folder. */
export async function resolvePair(
  sourceText: string,
  destinationText: string,
  options: Pick<SyncCommandOptions, 'stateDir' | 'sftpKey' | 'sftpHostKey' | 's3Endpoint' | 's3Region'>,
  env: NodeJS.ProcessEnv,
): Promise<PairLocations> {
  const parseOptions = {
    env,
    ...(options.sftpKey ? { sftpKeyPath: options.sftpKey } : {}),
    ...(options.sftpHostKey ? { sftpHostKey: options.sftpHostKey } : {}),
    ...(options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {}),
    ...(options.s3Region ? { s3Region: options.s3Region } : {}),
  };
  const source = await resolveLocation(sourceText, 'source', parseOptions);
  const destination = await resolveLocation(destinationText, 'destination', parseOptions);
  if (!source.exists) throw usageError(`source folder ${source.identity} does not exist`);
  checkRootsApart(source, destination);
  const pairId = pairIdFor(source.identity, destination.identity);
  const stateDir = options.stateDir ? resolve(options.stateDir) : defaultStateDir(pairId, env);
  for (const root of [source, destination]) {
    const rootPath = localPath(root);
    if (rootPath === undefined) continue;
    // The engine always ignores its own `.sync_state` and `.syncengine` folders; anywhere
    // else inside a root, the state would be synced along with the files.
    if (
      isWithin(rootPath, stateDir) &&
      !/^(\.sync_state|\.syncengine)(\/|$)/.test(relative(rootPath, stateDir))
    ) {
      throw usageError(
        `state folder ${stateDir} is inside the ${root.role} ${rootPath}; put it outside, or at ${join(
          rootPath,
          '.sync_state',
        )}`,
      );
    }
  }
  const stateInfo = await stat(stateDir).catch(() => null);
  if (stateInfo && !stateInfo.isDirectory()) throw usageError(`state folder ${stateDir} is not a folder`);
  return { source, destination, pairId, stateDir };
}

/** The exit code of a finished run. */
export function exitCodeForResult(result: SyncResult): ExitCode {
  if (result.status === 'max-delete') return EXIT.maxDelete;
  // A folder that could not be read fails the run only under --strict (the status says so).
  const hasErrors = result.errors.some((error) => error.code !== 'UNREADABLE');
  if (result.status === 'failed' || result.status === 'cancelled' || hasErrors) {
    return EXIT.runtimeError;
  }
  if (result.pendingConflicts.length > 0) return EXIT.conflictsRemain;
  return EXIT.ok;
}

/** `3 files and 2 folders`, `1 file`, `2 folders`. */
function filesAndFolders(files: number, folders: number): string {
  return [files && plural(files, 'file'), folders && plural(folders, 'folder')].filter(Boolean).join(' and ');
}

/**
 * The closing summary of a run (what it did) or of a dry run (what it would do), for
 * people. A run counts the plan's actions that it carried out without error (from the
 * reporter's `outcome`), files and folders apart as the live display counts them.
 */
export function summaryLine(
  result: SyncResult,
  dryRun: boolean,
  outcome?: { attempted: ReadonlySet<PlannedAction>; failures: ReadonlyMap<PlannedAction, string> },
): string {
  const counts = {
    upload: { files: 0, folders: 0 },
    download: { files: 0, folders: 0 },
    delete: 0,
    rename: 0,
  };
  const add = (type: string, isDir: boolean, count: number) => {
    const kind = isDir ? 'folders' : 'files';
    if (type.startsWith('UPLOAD')) counts.upload[kind] += count;
    else if (type.startsWith('DOWNLOAD')) counts.download[kind] += count;
    else if (type.startsWith('DELETE')) counts.delete += count;
    else if (type.startsWith('RENAME')) counts.rename += count;
  };
  let conflicts = 0;
  if (dryRun || outcome) {
    for (const action of result.plan.actions) {
      if (outcome && (!outcome.attempted.has(action) || outcome.failures.has(action))) continue;
      add(action.type, action.isDir ?? false, 1);
      if (action.type === 'CONFLICT') conflicts += 1;
    }
  } else {
    for (const [type, count] of Object.entries(result.stats.actions)) add(type, false, count ?? 0);
  }
  if (!dryRun) conflicts = result.stats.conflicts;
  const parts = [
    (counts.upload.files || counts.upload.folders) &&
      `${filesAndFolders(counts.upload.files, counts.upload.folders)} to destination`,
    (counts.download.files || counts.download.folders) &&
      `${filesAndFolders(counts.download.files, counts.download.folders)} to source`,
    counts.delete && `${formatCount(counts.delete)} deleted`,
    counts.rename && `${formatCount(counts.rename)} renamed`,
    conflicts && plural(conflicts, 'conflict'),
  ].filter(Boolean);
  const took = formatDuration(result.stats.durationMs);
  if (dryRun) {
    return parts.length === 0
      ? `Already in sync (${took}).`
      : `Dry run, nothing changed. Would do: ${parts.join(', ')}.`;
  }
  const bytes = `${formatBytes(result.stats.bytesUploaded)} up, ${formatBytes(result.stats.bytesDownloaded)} down`;
  const done = parts.length === 0 ? 'nothing changed' : `${parts.join(', ')}; ${bytes}`;
  switch (result.status) {
    case 'completed':
      return parts.length === 0 && result.pendingConflicts.length === 0
        ? `Already in sync (${took}).`
        : `Done: ${done} in ${took}.`;
    case 'cancelled':
      return `Cancelled after ${took}: ${done}.`;
    case 'failed':
      return `Finished with ${plural(result.stats.errors, 'error')} in ${took}: ${done}.`;
    case 'max-delete':
      return 'Stopped by the max-delete guard: nothing changed.';
  }
}

/** The SyncConfig the options ask for. */
export function configFromOptions(options: SyncCommandOptions): Partial<SyncConfig> {
  return {
    mode: options.mode,
    comparisonMode: options.compare,
    conflictResolution: options.conflict,
    ignorePatterns: options.ignore ?? [],
    transfers: options.transfers,
    operations: options.operations,
    maxDeletePercent: options.maxDelete,
    bandwidthLimit: options.bwlimit ?? null,
    force: options.force ?? false,
    strict: options.strict ?? false,
    dryRun: options.dryRun ?? false,
    versions: { retentionDays: options.keepVersions },
  };
}

export interface RunSyncOutcome {
  result: SyncResult;
  exitCode: ExitCode;
  reporter: ProgressReporter;
}

/**
 * Runs one sync of a pair, reporting as the options say, and returns the result with the
 * exit code. Throws CliError for bad input.
 */
export async function runSync(
  pair: PairLocations,
  options: SyncCommandOptions,
  io: CliIo,
  output: { mode: OutputMode },
): Promise<RunSyncOutcome> {
  const { destination } = pair;
  const state = new FileStateStore(pair.stateDir, { pairId: pair.pairId });
  const reporter = new ProgressReporter(
    output.mode,
    { stdout: io.stdout, stderr: io.stderr },
    { maxTransfers: options.transfers, statsIntervalMs: options.statsInterval ?? 0 },
  );

  // A missing destination is created on a first sync only: after that, a missing root
  // more likely means an unmounted drive, and syncing against it would delete everything.
  let standIn: string | undefined;
  if (!destination.exists) {
    if ((await state.loadMetadata().catch(() => null)) !== null) {
      throw usageError(
        `destination folder ${destination.identity} does not exist, but this pair has been synced before (state in ${pair.stateDir}); is a drive unmounted? Create the folder to sync into it again`,
      );
    }
    if (options.dryRun) {
      // Plan against an empty stand-in, leaving the disk as it is.
      standIn = await mkdtemp(join(tmpdir(), 'syncengine-plan-'));
    } else {
      await createFolder(destination);
    }
  }

  try {
    return await runWithStorages(pair, options, io, reporter, state, standIn);
  } finally {
    if (standIn) await rm(standIn, { recursive: true, force: true });
  }
}

async function runWithStorages(
  pair: PairLocations,
  options: SyncCommandOptions,
  io: CliIo,
  reporter: ProgressReporter,
  state: FileStateStore,
  standIn: string | undefined,
): Promise<RunSyncOutcome> {
  const { source, destination } = pair;
  // Skipped entries (symlinks, special files) reach the user as the engine's warnings.
  const sourceStorage = await openStorage(source, { env: io.env });
  const destinationStorage = await openStorage(
    standIn ? { ...destination, location: { type: 'local', path: standIn } } : destination,
    { env: io.env },
  ).catch(async (error: unknown) => {
    await sourceStorage.close?.();
    throw error;
  });

  const controller = new SyncController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      reporter.clear();
      io.stderr.write('Cancelling: letting running transfers finish (Ctrl-C again to stop at once)…\n');
      controller.cancel();
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSigint);

  const isManual = options.conflict === 'MANUAL';
  const canAsk = isManual && !options.dryRun && Boolean(io.stdin.isTTY) && Boolean(io.stderr.isTTY);
  const prompt = canAsk
    ? terminalConflictHandler({
        input: io.stdin,
        output: io.stderr,
        beforePrompt: () => reporter.hold(),
        afterPrompt: () => reporter.release(),
      })
    : undefined;

  reporter.start();
  try {
    const result = await sync({
      source: sourceStorage,
      destination: destinationStorage,
      state,
      config: configFromOptions(options),
      onEvent: reporter.onEvent,
      controller,
      ...(prompt ? { onConflict: prompt } : {}),
    });
    return { result, exitCode: exitCodeForResult(result), reporter };
  } finally {
    reporter.finish();
    prompt?.close();
    process.off('SIGINT', onSigint);
    await Promise.allSettled([sourceStorage.close?.(), destinationStorage.close?.()]);
  }
}

/** `syncengine sync <source> <destination>`. */
export async function syncCommand(
  sourceText: string,
  destinationText: string,
  options: SyncCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const pair = await resolvePair(sourceText, destinationText, options, io.env);
  const mode = outputMode(options, io);
  const { result, exitCode, reporter } = await runSync(pair, options, io, { mode });

  if (result.status !== 'max-delete') {
    for (const error of result.errors) {
      // Shown as a warning already, unless it fails the run.
      if (error.code === 'UNREADABLE' && !options.strict) continue;
      reporter.error(error.message, error.path);
    }
  }
  if (options.json) {
    const document = jsonReport(result, {
      dryRun: options.dryRun ?? false,
      attempted: reporter.attempted,
      failures: reporter.failures,
      resolutions: reporter.resolutions,
    });
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else if (!options.quiet) {
    io.stdout.write(`${summaryLine(result, options.dryRun ?? false, reporter)}\n`);
  }
  reportOutcome(result, exitCode, options, io);
  return exitCode;
}

/** Explains, on stderr, why the command did not end in sync. */
export function reportOutcome(
  result: SyncResult,
  exitCode: ExitCode,
  options: SyncCommandOptions,
  io: CliIo,
) {
  if (exitCode === EXIT.maxDelete) {
    const why =
      result.errors.find((error) => error.code === 'MAX_DELETE')?.message ??
      `the run would delete more than ${options.maxDelete} % of a side's files`;
    io.stderr.write(
      `syncengine: ${why.replace(/; use force to run anyway$/, '')}.\nNothing was changed. Check that both folders are the right ones, then run again with --force (or a higher --max-delete).\n`,
    );
  } else if (exitCode === EXIT.conflictsRemain && !options.quiet) {
    const paths = result.pendingConflicts.map((c) => `  ${c.path}`).join('\n');
    const how =
      options.conflict === 'MANUAL'
        ? 'run again on a terminal to decide each one, or with --conflict newest-wins / source-wins / destination-wins'
        : 'decide them with --conflict manual on a terminal';
    io.stderr.write(
      `${plural(result.pendingConflicts.length, 'conflict')} left unresolved:\n${paths}\nTo settle them, ${how}.\n`,
    );
  } else if (result.status === 'cancelled') {
    io.stderr.write('Cancelled. What was done is recorded; the next run continues from there.\n');
  }
}
