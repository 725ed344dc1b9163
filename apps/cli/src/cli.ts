import {
  DEFAULT_CONFIG,
  parseComparisonMode,
  parseConflictStrategy,
  parseSyncMode,
} from '@syncengine/engine/config';
import { isSyncError } from '@syncengine/engine/errors';
import {
  BANDWIDTH_LIMIT_BOUNDS,
  COMPARISON_MODES,
  CONFLICT_RESOLUTIONS,
  CONFLICT_STRATEGIES,
  type ConflictResolution,
  SYNC_MODES,
} from '@syncengine/engine/model';
import { scrubbedMessage, scrubSecrets } from '@syncengine/engine/scrub';
import { DEFAULT_WATCH_SETTINGS, WATCH_SETTING_LIMITS } from '@syncengine/watch/settings';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT, type ExitCode, exitCodeForError, usageError } from './exit-codes.js';
import type { CliIo, SyncCommandOptions } from './sync.command.js';
import { VERSION } from './version.js';
import type { WatchCommandOptions } from './watch.command.js';

const kebab = (value: string) => value.toLowerCase().replaceAll('_', '-');

const OPTION_VALUES = new RegExp(
  `\\b(${[...SYNC_MODES, ...COMPARISON_MODES, ...CONFLICT_STRATEGIES].join('|')})\\b`,
  'g',
);

/** Spells the engine's option values in a message as `--help` does: `two-way`, not `TWO_WAY`. */
export const asTyped = (message: string) => message.replace(OPTION_VALUES, (value) => kebab(value));

/** Wraps an engine parser so a bad value is a usage error naming the option. */
function enumParser<T>(parse: (input: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(asTyped(isSyncError(error) ? error.message : String(error)));
    }
  };
}

/** `30s`, `1m`, `500ms`, `1h` or a number of seconds → ms. */
function durationParser(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a duration such as 10s, 1m or 500ms, got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * unit;
  if (ms < 100) throw new InvalidArgumentError(`the interval must be at least 100ms, got "${value}"`);
  return ms;
}

const RATE_UNITS = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/**
 * `512K`, `10M`, `1.5MiB`, `1G`, `2048B`, or a plain number of KiB (as rsync and rclone
 * read `--bwlimit`) → bytes per second.
 */
export function bandwidthParser(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|(b))?(?:\/s)?$/i.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError(
      `expected a rate such as 512K, 10M or 1G per second (a plain number is KiB/s), got "${value}"`,
    );
  }
  const unit = (match[3] ?? match[2] ?? 'k').toLowerCase() as keyof typeof RATE_UNITS;
  const bytes = Math.round(Number(match[1]) * RATE_UNITS[unit]);
  if (bytes < BANDWIDTH_LIMIT_BOUNDS.min || bytes > BANDWIDTH_LIMIT_BOUNDS.max) {
    throw new InvalidArgumentError(`the bandwidth limit must be from 1K to 2G per second, got "${value}"`);
  }
  return bytes;
}

function integerParser(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    }
    return number;
  };
}

const EXIT_CODES_HELP = `
Exit codes:
  0  both sides are in sync
  1  a runtime error (some actions failed, or the run was cancelled; with
     --strict, also a folder that could not be read)
  2  bad usage or bad input (unknown option value, missing source folder,
     overlapping folders)
  3  finished, but conflicts remain unresolved
  4  stopped by the max-delete guard; nothing was deleted`;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * The options `sync` and `plan` share; `pairs create` takes those that a server pair
 * stores (not the local state folder, the versions' retention or --force, which belong to
 * a run).
 */
function addPairOptions(
  command: Command,
  { isPlan, isServerPair = false }: { isPlan: boolean; isServerPair?: boolean },
): Command {
  command
    .addOption(
      new Option(
        '-m, --mode <mode>',
        `sync mode: ${SYNC_MODES.map(kebab).join(', ')} (or tw, std, sb, dts, db)`,
      )
        .default(DEFAULT_CONFIG.mode, kebab(DEFAULT_CONFIG.mode))
        .argParser(enumParser(parseSyncMode)),
    )
    .addOption(
      new Option('-c, --compare <mode>', `how files are compared: ${COMPARISON_MODES.map(kebab).join(', ')}`)
        .default(DEFAULT_CONFIG.comparisonMode, kebab(DEFAULT_CONFIG.comparisonMode))
        .argParser(enumParser(parseComparisonMode)),
    )
    .addOption(
      new Option(
        '--conflict <strategy>',
        `how conflicts are settled: ${CONFLICT_STRATEGIES.map(kebab).join(', ')}${
          isPlan
            ? ''
            : isServerPair
              ? ' (manual: decided on the dashboard or with syncengine conflicts resolve)'
              : ' (manual asks on a terminal; elsewhere conflicts are skipped and reported)'
        }`,
      )
        .default(DEFAULT_CONFIG.conflictResolution, kebab(DEFAULT_CONFIG.conflictResolution))
        .argParser(enumParser(parseConflictStrategy)),
    );
  if (!isServerPair) {
    command.option(
      '--state-dir <dir>',
      "folder for the pair's last-known state (default: $XDG_STATE_HOME/syncengine/pairs/<pair id>, $XDG_STATE_HOME defaulting to ~/.local/state)",
    );
  }
  command
    .option(
      '-i, --ignore <pattern>',
      'gitignore-style pattern to leave alone on both sides; repeat for more (.syncignore files in the source apply too)',
      collect,
    )
    .addOption(
      new Option(
        '--transfers <n>',
        'uploads and downloads at once (a group of small new files counts as one)',
      )
        .default(DEFAULT_CONFIG.transfers)
        .argParser(integerParser(1, 1000)),
    )
    .addOption(
      new Option('--operations <n>', 'deletes, renames and folder creations at once')
        .default(DEFAULT_CONFIG.operations)
        .argParser(integerParser(1, 1000)),
    )
    .addOption(
      new Option(
        '--max-delete <percent>',
        "stop before deleting anything when a run would delete more than this share of a side's files",
      )
        .default(DEFAULT_CONFIG.maxDeletePercent)
        .argParser(integerParser(0, 100)),
    );
  if (!isPlan) {
    command.addOption(
      new Option(
        '--bwlimit <rate>',
        'bytes per second for all transfers of a run together: 512K, 10M, 1G (a plain number is KiB/s); default: no limit',
      ).argParser(bandwidthParser),
    );
  }
  if (!isServerPair) {
    command
      .addOption(
        new Option(
          '--keep-versions <days>',
          "days to keep overwritten and deleted files in each side's .syncengine/versions folder",
        )
          .default(DEFAULT_CONFIG.versions.retentionDays)
          .argParser(integerParser(0, 36_500)),
      )
      .option('--force', 'run even when the max-delete guard would stop it')
      .option(
        '--strict',
        'fail (exit 1) when a folder cannot be read; without it, such a folder is reported, left alone on both sides, and the rest syncs',
      );
  }
  command
    .option('--sftp-key <file>', 'private key for sftp:// locations (default: the SSH agent)')
    .option('--sftp-host-key <key>', 'pinned host key for sftp:// locations, instead of ~/.ssh/known_hosts')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for s3:// locations (default: AWS)')
    .option('--s3-region <region>', 'region for s3:// locations (default: $AWS_REGION or us-east-1)');
  return command;
}

/**
 * Builds the `syncengine` program. Action handlers store their exit code in `result`
 * instead of exiting, so the caller decides how the process ends.
 */
export function createProgram(io: CliIo, result: { exitCode: ExitCode }): Command {
  const program = new Command('syncengine')
    .description(
      'Keep two folders in sync: two-way or one-way, with rename detection, conflict handling, versions of everything overwritten or deleted, and a guard against mass deletes.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  addPairOptions(
    program
      .command('sync')
      .summary('sync two folders')
      .description(
        `Sync <source> and <destination>. The first run merges both folders (it never deletes); later runs compare each side with the state recorded at the end of the last run, and copy, delete or rename what changed. Every file overwritten or deleted is kept in the .syncengine/versions folder of its side.`,
      )
      .addHelpText('after', EXIT_CODES_HELP)
      .argument('<source>', 'source folder, or a file://, sftp://, s3://, webdav:// or webdavs:// URL')
      .argument('<destination>', 'destination folder (created on a first sync if missing), or a URL'),
    { isPlan: false },
  )
    .option('-n, --dry-run', 'show what would be done, change nothing')
    .option('--json', 'print only a JSON document (actions and stats) on stdout')
    .option('-q, --quiet', 'print only errors')
    .option(
      '-P, --progress',
      'show the live progress display (default on a terminal): bytes, rate, ETA, files, checks and each transfer in flight',
    )
    .option('--no-progress', 'no live display: one line per action instead, as without a terminal')
    .addOption(
      new Option(
        '--stats-interval <duration>',
        'without the live display, also print a line of figures this often (e.g. 10s, 1m)',
      ).argParser(durationParser),
    )
    .action(async (source: string, destination: string, options: SyncCommandOptions) => {
      const { syncCommand } = await import('./sync.command.js');
      result.exitCode = await syncCommand(source, destination, options, io);
    });

  addPairOptions(
    program
      .command('watch')
      .summary('sync two folders, then keep syncing each change as it happens')
      .description(
        `Sync <source> and <destination>, then watch both: local folders through the operating system's change notifications, remote locations by listing them every --poll seconds (nothing is downloaded to compare). Changes are collected until --debounce ms pass without a new one (at most ten times that), then one run syncs only the changed paths; a full run every --rescan minutes catches what notifications miss. Prints one line per run (with --json, one JSON document per line). Ctrl-C or SIGTERM stops it: the run under way finishes its current action and records its state, and the exit code is 0. A file that changes while it is copied is left for the next run (a warning).`,
      )
      .argument('<source>', 'source folder, or a file://, sftp://, s3://, webdav:// or webdavs:// URL')
      .argument('<destination>', 'destination folder (created on a first sync if missing), or a URL'),
    { isPlan: false },
  )
    .addOption(
      new Option('--debounce <ms>', 'quiet time after the last change before a run starts')
        .default(DEFAULT_WATCH_SETTINGS.debounceMs)
        .argParser(integerParser(WATCH_SETTING_LIMITS.debounceMs.min, WATCH_SETTING_LIMITS.debounceMs.max)),
    )
    .addOption(
      new Option('--rescan <minutes>', 'a full run this often, for what notifications miss')
        .default(DEFAULT_WATCH_SETTINGS.rescanMinutes)
        .argParser(
          integerParser(WATCH_SETTING_LIMITS.rescanMinutes.min, WATCH_SETTING_LIMITS.rescanMinutes.max),
        ),
    )
    .addOption(
      new Option(
        '--poll <seconds>',
        'list remote locations (and folders whose notifications failed) this often',
      )
        .default(DEFAULT_WATCH_SETTINGS.pollSeconds)
        .argParser(integerParser(WATCH_SETTING_LIMITS.pollSeconds.min, WATCH_SETTING_LIMITS.pollSeconds.max)),
    )
    .option('--json', 'print one JSON document per line: watching, each run, each fallback, stopped')
    .option('-q, --quiet', 'print only errors')
    .action(async (source: string, destination: string, options: WatchCommandOptions) => {
      const { watchCommand } = await import('./watch.command.js');
      result.exitCode = await watchCommand(source, destination, options, io);
    });

  addPairOptions(
    program
      .command('plan')
      .summary('show what a sync would do, as a table')
      .description(
        'Plan a sync of <source> and <destination> without changing anything, and print every action with its reason.',
      )
      .addHelpText('after', EXIT_CODES_HELP.replace('both sides are in sync', 'the plan was made'))
      .argument('<source>', 'source folder or URL')
      .argument('<destination>', 'destination folder or URL'),
    { isPlan: true },
  )
    .option('--json', 'print the plan as the same JSON document as sync --dry-run --json')
    .action(async (source: string, destination: string, options: SyncCommandOptions) => {
      const { planCommand } = await import('./plan.command.js');
      result.exitCode = await planCommand(source, destination, options, io);
    });

  program
    .command('status')
    .summary("show a pair's last run and pending conflicts")
    .description(
      'Show what the state of the pair <source> → <destination> records: the last run, how many files are tracked, and conflicts still pending. Scans neither side. Exit code 3 when conflicts are pending.',
    )
    .argument('<source>', 'source folder or URL')
    .argument('<destination>', 'destination folder or URL')
    .option('--state-dir <dir>', 'the state folder, when sync was run with --state-dir')
    .option('--json', 'print a JSON document')
    .action(async (source: string, destination: string, options: { stateDir?: string; json?: boolean }) => {
      const { statusCommand } = await import('./status.command.js');
      result.exitCode = await statusCommand(source, destination, options, io);
    });

  const versions = program
    .command('versions')
    .summary('list and restore the versions kept of overwritten and deleted files')
    .description(
      "Every file a sync overwrites or deletes is first moved to the .syncengine/versions folder of its own side, in a folder named after the run's start (UTC). These commands list and restore them.",
    );
  const sideOption = () =>
    new Option('--side <side>', 'with --pair: only the versions kept on this side').choices([
      'source',
      'destination',
    ]);
  const serverVersions = () => import('./server/versions.commands.js');
  versions
    .command('list')
    .description(
      'List the kept versions in <folder>, newest first; with --pair, those of a pair on the server you signed in to (then the only argument is the path).',
    )
    .argument('[folder]', 'a synced folder (either side of a pair)')
    .argument('[path]', 'only versions of this file, or of the files below this folder')
    .option('--pair <pair>', 'a pair on the server (name or id) instead of a local folder')
    .addOption(sideOption())
    .option('--json', 'print a JSON document instead of a table')
    .action(
      async (
        folder: string | undefined,
        path: string | undefined,
        options: { pair?: string; side?: 'source' | 'destination'; json?: boolean },
      ) => {
        if (options.pair) {
          if (path !== undefined)
            throw usageError('with --pair, give only the path: versions list --pair <pair> [path]');
          result.exitCode = await (await serverVersions()).serverVersionsListCommand(
            options.pair,
            folder,
            options,
            io,
          );
          return;
        }
        if (folder === undefined) throw usageError("missing required argument 'folder' (or --pair <pair>)");
        const { versionsListCommand } = await import('./versions.command.js');
        result.exitCode = await versionsListCommand(folder, path, options, io);
      },
    );
  versions
    .command('restore')
    .description(
      'Put a kept version of <path> back into <folder> (the newest, unless --from says which); with --pair, into a pair on the server (then the only argument is the path). Whatever is at the target now is kept as a version first; the next sync carries the restored file to the other side.',
    )
    .argument('<folder>', 'the synced folder that holds the version (with --pair: the path)')
    .argument('[path]', 'the file to restore, relative to <folder>')
    .option('--pair <pair>', 'a pair on the server (name or id) instead of a local folder')
    .addOption(sideOption())
    .option(
      '--from <version>',
      'the version to restore: locally the versions folder as `versions list` shows it (e.g. 20261126T042800Z); with --pair its id or KEPT AT time',
    )
    .option('--to <path>', 'restore to this path instead, relative to <folder> (local folders only)')
    .option('--json', 'with --pair: print the answer as a JSON document')
    .action(
      async (
        folder: string,
        path: string | undefined,
        options: {
          pair?: string;
          side?: 'source' | 'destination';
          from?: string;
          to?: string;
          json?: boolean;
        },
      ) => {
        if (options.pair) {
          if (path !== undefined)
            throw usageError('with --pair, give only the path: versions restore --pair <pair> <path>');
          if (options.to !== undefined) throw usageError('--to works on local folders only');
          result.exitCode = await (await serverVersions()).serverVersionsRestoreCommand(
            options.pair,
            folder,
            options,
            io,
          );
          return;
        }
        if (path === undefined) throw usageError("missing required argument 'path'");
        const { versionsRestoreCommand } = await import('./versions.command.js');
        result.exitCode = await versionsRestoreCommand(folder, path, options, io);
      },
    );

  addServerCommands(program, io, result);
  return program;
}

const SERVER_HELP = `
The server and token come from syncengine login, or from SYNCENGINE_URL and
SYNCENGINE_TOKEN. A pair is named by its name or its id.`;

const RUN_EXIT_CODES_HELP = `
Exit codes with --wait:
  0  the run completed; both sides are in sync
  1  the run failed or was cancelled, or the server could not be reached
  2  bad usage: unknown pair, refused or revoked token
  3  the run completed, but conflicts remain undecided
  4  stopped by the max-delete guard; nothing was deleted`;

/** `login`, `logout`, `pairs …` and `conflicts …`: the command as a client of a SyncEngine server. */
function addServerCommands(program: Command, io: CliIo, result: { exitCode: ExitCode }): void {
  // Loaded when used, so local commands start without the client and its schemas.
  const server = () => import('./server/server.commands.js');
  const set = async (code: Promise<ExitCode>) => {
    result.exitCode = await code;
  };

  program
    .command('login')
    .summary('sign in to a SyncEngine server with an API token')
    .description(
      "Check an API token (created on the dashboard's Tokens page) against the server at <url> and store both in $XDG_CONFIG_HOME/syncengine/credentials.json (~/.config by default), readable by you only. Without --token or SYNCENGINE_TOKEN, the token is asked for (or read from stdin).",
    )
    .argument('[url]', 'the server, e.g. http://127.0.0.1:8080 (default: $SYNCENGINE_URL)')
    .option('--token <token>', 'the API token (default: $SYNCENGINE_TOKEN, else asked for)')
    .option('--json', 'print a JSON document')
    .action(async (url: string | undefined, options: { token?: string; json?: boolean }) =>
      set((await server()).loginCommand(url, options, io)),
    );
  program
    .command('logout')
    .summary('forget the stored server token')
    .action(async () => set((await server()).logoutCommand(io)));

  const pairs = program
    .command('pairs')
    .summary("list, create, run and steer a server's pairs")
    .description(`Work with the pairs of the server you signed in to.${SERVER_HELP}`);
  pairs
    .command('list')
    .description('List the pairs, with their last run.')
    .option('--json', 'print a JSON document')
    .action(async (options: { json?: boolean }) => set((await server()).pairsListCommand(options, io)));
  pairs
    .command('show')
    .description("Show a pair's settings, last run and pending conflicts.")
    .argument('<pair>', 'name or id')
    .option('--json', 'print a JSON document')
    .action(async (pair: string, options: { json?: boolean }) =>
      set((await server()).pairsShowCommand(pair, options, io)),
    );
  addPairOptions(
    pairs
      .command('create')
      .description(
        'Create a pair on the server, with the options of sync. Local folders are paths on the server machine (made absolute here), under its SYNCENGINE_ALLOWED_ROOTS.',
      )
      .argument('<source>', 'source folder or URL')
      .argument('<destination>', 'destination folder or URL'),
    { isPlan: false, isServerPair: true },
  )
    .option('--name <name>', 'the pair\'s name (default: "<source> → <destination>")')
    .option('--schedule <cron>', 'run on this cron schedule, e.g. "0 * * * *"')
    .option('--json', 'print a JSON document')
    .action(
      async (
        source: string,
        destination: string,
        options: import('./server/server.commands.js').CreatePairOptions,
      ) => set((await server()).pairsCreateCommand(source, destination, options, io)),
    );
  pairs
    .command('run')
    .description(
      'Start a run of the pair on the server. With --wait, follow it live (the same display as sync) and end with the exit code sync would give.',
    )
    .addHelpText('after', RUN_EXIT_CODES_HELP)
    .argument('<pair>', 'name or id')
    .option('-w, --wait', 'follow the run until it ends')
    .option('-n, --dry-run', 'plan only, change nothing')
    .option('--force', 'run even when the max-delete guard would stop it')
    .option('--json', 'print only the run as a JSON document (with --wait, once it has ended)')
    .option('-q, --quiet', 'print only errors')
    .option('-P, --progress', 'show the live display with --wait (default on a terminal)')
    .option('--no-progress', 'no live display: one line per action instead')
    .addOption(
      new Option(
        '--stats-interval <duration>',
        'without the live display, also print a line of figures this often',
      ).argParser(durationParser),
    )
    .action(async (pair: string, options: import('./server/run-watch.js').RunOptions) =>
      set((await import('./server/run-watch.js')).pairsRunCommand(pair, options, io)),
    );
  for (const [action, description] of [
    ['pause', "Pause the pair's active run: running operations finish, no new one starts."],
    ['resume', "Resume the pair's paused run."],
    ['cancel', "Cancel the pair's active run: what was done is kept; the next run continues from there."],
  ] as const) {
    pairs
      .command(action)
      .description(description)
      .argument('<pair>', 'name or id')
      .option('--json', 'print the run as a JSON document')
      .action(async (pair: string, options: { json?: boolean }) =>
        set((await server()).pairsControlCommand(action, pair, options, io)),
      );
  }

  const conflicts = program
    .command('conflicts')
    .summary("list and decide a server's conflicts")
    .description(`Conflicts of the server's manual pairs, waiting for a decision.${SERVER_HELP}`);
  conflicts
    .command('list')
    .description('List pending conflicts (all with --all), newest first.')
    .option('--pair <pair>', 'only those of this pair (name or id)')
    .option('--all', 'resolved ones too')
    .option('--json', 'print a JSON document')
    .action(async (options: { pair?: string; all?: boolean; json?: boolean }) =>
      set((await server()).conflictsListCommand(options, io)),
    );
  conflicts
    .command('resolve')
    .description(
      "Decide a conflict: keep the source's version, the destination's, both (the loser renamed name.conflict-<UTC time>-<side>.ext), or skip it (it stays pending). The server applies the decision to both sides; the version that loses is kept in the versions area.",
    )
    .argument('<id>', 'the conflict id (see: syncengine conflicts list)')
    .argument('<resolution>', 'source, destination, keep-both or skip')
    .option('--json', 'print the conflict as a JSON document')
    .action(async (id: string, resolution: string, options: { json?: boolean }) => {
      if (!(CONFLICT_RESOLUTIONS as readonly string[]).includes(resolution)) {
        throw new CliError(
          EXIT.usage,
          `unknown resolution "${resolution}": expected one of ${CONFLICT_RESOLUTIONS.join(', ')}`,
        );
      }
      await set((await server()).conflictsResolveCommand(id, resolution as ConflictResolution, options, io));
    });
}

/** Runs the command line and returns the exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const result: { exitCode: ExitCode } = { exitCode: EXIT.ok };
  const program = createProgram(io, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; everything else commander rejects is bad usage.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeForError(error);
    const message = asTyped(scrubbedMessage(error));
    io.stderr.write(`syncengine: ${message}\n`);
    if (code === EXIT.runtimeError && io.env.SYNCENGINE_DEBUG && error instanceof Error && error.stack) {
      io.stderr.write(`${scrubSecrets(error.stack)}\n`);
    }
    return code;
  }
}

export { CliError };
