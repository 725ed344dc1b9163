import { isSyncError, listVersions, restoreVersion } from '@syncengine/engine';
import { EXIT, type ExitCode, usageError } from './exit-codes.js';
import { formatBytes, formatTime, table } from './format.js';
import { openStorage, resolveLocation } from './locations.js';
import type { CliIo } from './sync.command.js';

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
    let restored: Awaited<ReturnType<typeof restoreVersion>>;
    try {
      restored = await restoreVersion(storage, chosen.versionPath, { target, now: Date.now() });
    } catch (error) {
      if (isSyncError(error, 'CONFLICT'))
        throw usageError(`${target} is a folder; choose another target with --to`);
      throw error;
    }
    if (restored.keptAs) io.stderr.write(`kept the current ${target} as ${restored.keptAs}\n`);
    io.stdout.write(`restored ${target} from version ${chosen.stamp}\n`);
    return EXIT.ok;
  } finally {
    await storage.close?.();
  }
}
