import {
  type Entry,
  moveToVersions,
  parseVersionStamp,
  type Storage,
  VERSIONS_DIR,
  versionStamp,
} from '@syncengine/engine';
import { EXIT, type ExitCode, usageError } from './exit-codes.js';
import { formatBytes, formatTime, table } from './format.js';
import { openStorage, resolveLocation } from './locations.js';
import type { CliIo } from './sync.command.js';

/** One kept version of a file. */
export interface StoredVersion {
  /** The path the file had, relative to the root. */
  path: string;
  /** Where the version is kept, relative to the root. */
  versionPath: string;
  /** The versions folder name, e.g. `20261126T042800Z`. */
  stamp: string;
  /** When the run that kept it started (ms since the epoch). */
  keptAt: number;
  size: number;
  mtime: number;
}

const PREFIX = `${VERSIONS_DIR}/`;
const isAncestorOfVersions = (path: string) => VERSIONS_DIR === path || VERSIONS_DIR.startsWith(`${path}/`);

/** Every file in a location's versions area, newest first; only those of `filter` (a file or folder) when given. */
export async function listVersions(storage: Storage, filter?: string): Promise<StoredVersion[]> {
  const wanted = filter?.replace(/^\/+|\/+$/g, '');
  const versions: StoredVersion[] = [];
  const entries: AsyncIterable<Entry> = storage.list({
    include: (path) => isAncestorOfVersions(path) || path.startsWith(PREFIX),
  });
  for await (const entry of entries) {
    if (entry.isDir || !entry.path.startsWith(PREFIX)) continue;
    const rest = entry.path.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const stamp = rest.slice(0, slash);
    const keptAt = parseVersionStamp(stamp);
    if (keptAt === null) continue;
    const path = rest.slice(slash + 1);
    if (wanted && path !== wanted && !path.startsWith(`${wanted}/`)) continue;
    versions.push({ path, versionPath: entry.path, stamp, keptAt, size: entry.size, mtime: entry.mtime });
  }
  return versions.sort(
    (a, b) => b.keptAt - a.keptAt || b.stamp.localeCompare(a.stamp) || a.path.localeCompare(b.path),
  );
}

/** `syncengine versions list <folder> [path]`. */
export async function versionsListCommand(
  folder: string,
  path: string | undefined,
  options: { json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const location = await resolveLocation(folder, 'source', { env: io.env });
  if (!location.exists) throw usageError(`folder ${location.identity} does not exist`);
  const storage = await openStorage(location, { env: io.env });
  try {
    const versions = await listVersions(storage, path);
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ versions }, null, 2)}\n`);
    } else if (versions.length === 0) {
      io.stdout.write(`No kept versions${path ? ` of ${path}` : ''} in ${location.identity}.\n`);
    } else {
      const rows = versions.map((v) => [v.stamp, formatTime(v.keptAt), formatBytes(v.size), v.path]);
      io.stdout.write(`${table([['VERSION', 'KEPT AT', 'SIZE', 'PATH'], ...rows])}\n`);
    }
    return EXIT.ok;
  } finally {
    await storage.close?.();
  }
}

/**
 * `syncengine versions restore <folder> <path>`: copies a kept version back into place.
 * Whatever is at the target now is itself kept as a version first, so a restore never
 * loses data; the kept version stays where it is.
 */
export async function versionsRestoreCommand(
  folder: string,
  path: string,
  options: { from?: string; to?: string },
  io: CliIo,
): Promise<ExitCode> {
  const location = await resolveLocation(folder, 'source', { env: io.env });
  if (!location.exists) throw usageError(`folder ${location.identity} does not exist`);
  const storage = await openStorage(location, { env: io.env });
  try {
    const wanted = path.replace(/^\/+|\/+$/g, '');
    const candidates = (await listVersions(storage, wanted)).filter(
      (v) => v.path === wanted && (options.from === undefined || v.stamp === options.from),
    );
    const chosen = candidates[0];
    if (!chosen) {
      throw usageError(
        `no kept version of ${wanted}${options.from ? ` from ${options.from}` : ''} in ${location.identity} (see: syncengine versions list ${folder})`,
      );
    }
    const target = (options.to ?? wanted).replace(/^\/+|\/+$/g, '');
    const current = await storage.stat(target);
    if (current?.isDir) throw usageError(`${target} is a folder; choose another target with --to`);
    if (current) {
      // The same rule as a sync's: a versions folder already used this second gets a suffix.
      const keptAs = await moveToVersions(storage, target, versionStamp(Date.now()));
      io.stderr.write(`kept the current ${target} as ${keptAs}\n`);
    }
    const data = await storage.read(chosen.versionPath);
    await storage.write(target, data, { mtime: chosen.mtime, size: chosen.size });
    io.stdout.write(`restored ${target} from version ${chosen.stamp}\n`);
    return EXIT.ok;
  } finally {
    await storage.close?.();
  }
}
