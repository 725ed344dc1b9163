import {
  type Conflict,
  type ConflictResolution,
  type CreatePairInput,
  describeLocation,
  type Location,
  type Pair,
  type RunStatus,
} from '@syncengine/contracts';
import type { ComparisonMode, ConflictStrategy, SyncMode } from '@syncengine/engine/model';
import { EXIT, type ExitCode, usageError } from '../exit-codes.js';
import { formatBytes, formatRate, plural, table } from '../format.js';
import type { CliIo } from '../sync.command.js';
import { type ApiClient, createApiClient } from './api-client.js';
import { loadCredentials, normaliseServerUrl, removeCredentials, saveCredentials } from './credentials.js';
import { readSecret } from './read-secret.js';

const kebab = (value: string) => value.toLowerCase().replaceAll('_', '-');
const json = (io: CliIo, value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

async function client(io: CliIo): Promise<ApiClient> {
  return createApiClient(await loadCredentials(io.env));
}

/**
 * `syncengine login [url]`: checks a token against the server and stores both in the
 * user's config folder (0600). The token comes from `--token`, `SYNCENGINE_TOKEN`, or
 * is asked for (without echo on a terminal, else read from stdin).
 */
export async function loginCommand(
  urlText: string | undefined,
  options: { token?: string; json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const given = urlText ?? io.env.SYNCENGINE_URL;
  if (!given) throw usageError('which server? syncengine login <url> (or set SYNCENGINE_URL)');
  const url = normaliseServerUrl(given);
  const token =
    options.token ||
    io.env.SYNCENGINE_TOKEN ||
    (await readSecret(`API token for ${url} (from the dashboard's Tokens page): `, io));
  if (!token.trim()) throw usageError('no token given');
  const api = createApiClient({ url, token: token.trim() });
  const user = await api.me();
  const file = await saveCredentials(io.env, { url, token: token.trim() });
  if (options.json) json(io, { url, username: user.username, credentialsFile: file });
  else io.stdout.write(`Signed in to ${url} as ${user.username}; the token is stored in ${file}.\n`);
  return EXIT.ok;
}

/** `syncengine logout`: forgets the stored token. */
export async function logoutCommand(io: CliIo): Promise<ExitCode> {
  const existed = await removeCredentials(io.env);
  io.stdout.write(existed ? 'Signed out: the stored token is removed.\n' : 'Not signed in.\n');
  return EXIT.ok;
}

/** A pair named by id or by its (unique) name. */
export async function findPair(api: ApiClient, nameOrId: string): Promise<Pair> {
  const pairs = await api.listPairs();
  const byId = pairs.find((pair) => pair.id === nameOrId);
  if (byId) return byId;
  const named = pairs.filter((pair) => pair.name === nameOrId);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw usageError(
      `${named.length} pairs are named "${nameOrId}"; name one by its id: ${named.map((pair) => pair.id).join(', ')}`,
    );
  }
  throw usageError(`no pair named "${nameOrId}" on ${api.url} (see: syncengine pairs list)`);
}

const where = (location: Location | Pair['source']) => describeLocation(location as Location);

function lastRun(pair: Pair): string {
  return pair.lastRun
    ? `${pair.lastRun.status} ${time(pair.lastRun.finishedAt ?? pair.lastRun.queuedAt)}`
    : 'never';
}

export async function pairsListCommand(options: { json?: boolean }, io: CliIo): Promise<ExitCode> {
  const pairs = await (await client(io)).listPairs();
  if (options.json) {
    json(io, { items: pairs });
  } else if (pairs.length === 0) {
    io.stdout.write(
      'No pairs yet (create one: syncengine pairs create <source> <destination> --name <name>).\n',
    );
  } else {
    const rows = pairs.map((pair) => [
      pair.name,
      pair.id,
      kebab(pair.mode),
      `${where(pair.source)} → ${where(pair.destination)}`,
      lastRun(pair),
    ]);
    io.stdout.write(`${table([['NAME', 'ID', 'MODE', 'SOURCE → DESTINATION', 'LAST RUN'], ...rows])}\n`);
  }
  return EXIT.ok;
}

export async function pairsShowCommand(
  nameOrId: string,
  options: { json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const api = await client(io);
  const pair = await findPair(api, nameOrId);
  if (options.json) {
    json(io, pair);
    return EXIT.ok;
  }
  const pending = await api.listConflicts({ pairId: pair.id, status: 'pending' });
  const lines = [
    `name:         ${pair.name}`,
    `id:           ${pair.id}`,
    `source:       ${where(pair.source)}`,
    `destination:  ${where(pair.destination)}`,
    `mode:         ${kebab(pair.mode)}`,
    `compare:      ${kebab(pair.comparisonMode)}`,
    `conflicts:    ${kebab(pair.conflictResolution)}${pending.length ? ` (${plural(pending.length, 'conflict')} pending)` : ''}`,
    `transfers:    ${pair.concurrency.transfers}, operations ${pair.concurrency.operations}`,
    `max delete:   ${pair.maxDeletePercent} %`,
    `bandwidth:    ${pair.bandwidthLimit === null ? 'no limit' : formatRate(pair.bandwidthLimit)}`,
    `ignore:       ${pair.ignorePatterns.length ? pair.ignorePatterns.join(', ') : '—'}`,
    `schedule:     ${pair.schedule ?? '—'}${pair.nextRunAt ? ` (next ${time(pair.nextRunAt)})` : ''}`,
    `enabled:      ${pair.enabled ? 'yes' : 'no'}`,
    `last run:     ${lastRun(pair)}${pair.lastRun ? ` (${pair.lastRun.id})` : ''}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** Options of `pairs create`: the pair's own settings among those of `sync`. */
export interface CreatePairOptions {
  name?: string;
  mode: SyncMode;
  compare: ComparisonMode;
  conflict: ConflictStrategy;
  ignore?: string[];
  transfers: number;
  operations: number;
  maxDelete: number;
  /** Bytes per second (`--bwlimit`); none for no limit. */
  bwlimit?: number;
  schedule?: string;
  sftpKey?: string;
  sftpHostKey?: string;
  s3Endpoint?: string;
  s3Region?: string;
  json?: boolean;
}

export async function pairsCreateCommand(
  sourceText: string,
  destinationText: string,
  options: CreatePairOptions,
  io: CliIo,
): Promise<ExitCode> {
  // Locations are parsed as `sync` parses them; local paths are made absolute here, as the
  // server cannot know this shell's current folder.
  const { parseLocationUrl } = await import('@syncengine/locations');
  const parseOptions = {
    env: io.env,
    ...(options.sftpKey ? { sftpKeyPath: options.sftpKey } : {}),
    ...(options.sftpHostKey ? { sftpHostKey: options.sftpHostKey } : {}),
    ...(options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {}),
    ...(options.s3Region ? { s3Region: options.s3Region } : {}),
  };
  const parse = (text: string, role: string): Location => {
    try {
      return parseLocationUrl(text, parseOptions) as Location;
    } catch (error) {
      throw usageError(`${role}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const source = parse(sourceText, 'source');
  const destination = parse(destinationText, 'destination');
  const body: CreatePairInput = {
    name: options.name ?? `${where(source)} → ${where(destination)}`.slice(0, 200),
    source,
    destination,
    mode: options.mode,
    comparisonMode: options.compare,
    conflictResolution: options.conflict,
    ignorePatterns: options.ignore ?? [],
    concurrency: { transfers: options.transfers, operations: options.operations },
    maxDeletePercent: options.maxDelete,
    bandwidthLimit: options.bwlimit ?? null,
    ...(options.schedule ? { schedule: options.schedule } : {}),
  };
  const pair = await (await client(io)).createPair(body);
  if (options.json) json(io, pair);
  else
    io.stdout.write(
      `Created pair ${pair.name} (${pair.id}). Run it: syncengine pairs run ${pair.id} --wait\n`,
    );
  return EXIT.ok;
}

const ACTIVE: readonly RunStatus[] = ['queued', 'running', 'paused'];

/** `pairs pause|resume|cancel <pair>`: acts on the pair's active run. */
export async function pairsControlCommand(
  action: 'pause' | 'resume' | 'cancel',
  nameOrId: string,
  options: { json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const api = await client(io);
  const pair = await findPair(api, nameOrId);
  const active = (await api.listRuns(pair.id)).find((run) => ACTIVE.includes(run.status));
  if (!active) throw usageError(`pair ${pair.name} has no queued, running or paused run to ${action}`);
  const run = await api.controlRun(active.id, action);
  if (options.json) json(io, run);
  else {
    const done = { pause: 'Pausing', resume: 'Resuming', cancel: 'Cancelling' }[action];
    io.stdout.write(`${done} run ${run.id} of ${pair.name} (now ${run.status}).\n`);
  }
  return EXIT.ok;
}

export async function conflictsListCommand(
  options: { pair?: string; all?: boolean; json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const api = await client(io);
  const pairs = await api.listPairs();
  const pair = options.pair ? await findPair(api, options.pair) : undefined;
  const conflicts = await api.listConflicts({
    ...(pair ? { pairId: pair.id } : {}),
    ...(options.all ? {} : { status: 'pending' as const }),
  });
  if (options.json) {
    json(io, { items: conflicts });
    return EXIT.ok;
  }
  if (conflicts.length === 0) {
    io.stdout.write(`No ${options.all ? '' : 'pending '}conflicts${pair ? ` in ${pair.name}` : ''}.\n`);
    return EXIT.ok;
  }
  const names = new Map(pairs.map((p) => [p.id, p.name]));
  const side = (entry: Conflict['source']) =>
    entry === null
      ? 'deleted'
      : entry.isDir
        ? 'folder'
        : `${formatBytes(entry.size)}, ${time(new Date(entry.mtime).toISOString())}`;
  const rows = conflicts.map((conflict) => [
    conflict.id,
    names.get(conflict.pairId) ?? conflict.pairId,
    conflict.path,
    side(conflict.source),
    side(conflict.destination),
    conflict.status === 'pending' ? 'pending' : (conflict.resolution ?? 'resolved'),
  ]);
  io.stdout.write(`${table([['ID', 'PAIR', 'PATH', 'SOURCE', 'DESTINATION', 'STATUS'], ...rows])}\n`);
  io.stdout.write(
    `${plural(conflicts.length, 'conflict')}. Decide one: syncengine conflicts resolve <id> source|destination|keep-both|skip\n`,
  );
  return EXIT.ok;
}

export async function conflictsResolveCommand(
  id: string,
  resolution: ConflictResolution,
  options: { json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const conflict = await (await client(io)).resolveConflict(id, resolution);
  if (options.json) json(io, conflict);
  else if (resolution === 'skip')
    io.stdout.write(`Skipped ${conflict.path}: it stays pending, and both sides as they are.\n`);
  else io.stdout.write(`Resolved ${conflict.path} as ${resolution}; the server applies it to both sides.\n`);
  return EXIT.ok;
}
