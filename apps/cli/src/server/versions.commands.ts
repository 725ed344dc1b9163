import type { Side, Version } from '@syncengine/contracts';
import { EXIT, type ExitCode, usageError } from '../exit-codes.js';
import { formatBytes, plural, table } from '../format.js';
import type { CliIo } from '../sync.command.js';
import { createApiClient } from './api-client.js';
import { loadCredentials } from './credentials.js';
import { findPair } from './server.commands.js';

const clean = (path: string | undefined) => path?.replace(/^\/+|\/+$/g, '') || undefined;
const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** `syncengine versions list --pair <pair> [path]`: the versions a server pair kept, newest first. */
export async function serverVersionsListCommand(
  nameOrId: string,
  path: string | undefined,
  options: { side?: Side; json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const api = createApiClient(await loadCredentials(io.env));
  const pair = await findPair(api, nameOrId);
  const wanted = clean(path);
  const list = await api.listVersions(pair.id, {
    ...(options.side ? { side: options.side } : {}),
    ...(wanted ? { path: wanted } : {}),
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else if (list.items.length === 0) {
    io.stdout.write(`No kept versions${wanted ? ` of ${wanted}` : ''} in ${pair.name}.\n`);
  } else {
    const rows = list.items.map((v) => [v.id, v.side, time(v.keptAt), formatBytes(v.size), v.reason, v.path]);
    io.stdout.write(`${table([['ID', 'SIDE', 'KEPT AT', 'SIZE', 'REASON', 'PATH'], ...rows])}\n`);
    if (list.truncated)
      io.stdout.write(`(only the newest ${plural(list.items.length, 'version')}; name a path)\n`);
  }
  return EXIT.ok;
}

/**
 * `syncengine versions restore --pair <pair> <path>`: puts the newest kept version of the
 * file (or the one `--from` names, by id or by the time it was kept) back in place on the
 * server; whatever is there now is kept as a version first.
 */
export async function serverVersionsRestoreCommand(
  nameOrId: string,
  path: string,
  options: { side?: Side; from?: string; json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const api = createApiClient(await loadCredentials(io.env));
  const pair = await findPair(api, nameOrId);
  const wanted = clean(path);
  if (!wanted) throw usageError('which file? syncengine versions restore --pair <pair> <path>');
  const list = await api.listVersions(pair.id, {
    path: wanted,
    ...(options.side ? { side: options.side } : {}),
  });
  const matches = (version: Version) =>
    version.path === wanted &&
    (options.from === undefined ||
      version.id === options.from ||
      version.keptAt === options.from ||
      time(version.keptAt) === options.from);
  const candidates = list.items.filter(matches);
  const sides = new Set(candidates.map((version) => version.side));
  if (candidates.length === 0) {
    throw usageError(
      `no kept version of ${wanted}${options.from ? ` from ${options.from}` : ''} in ${pair.name} (see: syncengine versions list --pair ${nameOrId} ${wanted})`,
    );
  }
  if (sides.size > 1 && !options.from) {
    throw usageError(
      `both sides keep versions of ${wanted}: choose one with --side source or --side destination`,
    );
  }
  const chosen = candidates[0]!;
  const result = await api.restoreVersion(pair.id, chosen.id);
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (result.status === 'queued') {
    io.stdout.write(
      `Restoring ${result.path} on the ${result.side} of ${pair.name} (job ${result.jobId}).\n`,
    );
  } else {
    if (result.keptAs)
      io.stderr.write(`kept the current ${result.path} as a version (${result.keptAs.id})\n`);
    io.stdout.write(
      `restored ${result.path} on the ${result.side} of ${pair.name} from the version kept ${time(chosen.keptAt)}\n`,
    );
  }
  return EXIT.ok;
}
