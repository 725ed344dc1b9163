import { isSyncError, SyncError } from '../errors.js';
import type { Entry } from '../model.js';
import { normalizeRelativePath, VERSIONS_DIR } from '../paths.js';
import type { Storage } from '../storage.js';

const DAY_MS = 86_400_000;
const STAMP_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?$/;

/** `20261126T042800Z`: the UTC second a run started, naming its versions folder. */
export function versionStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The time a versions folder name stands for, or null for a name the engine did not make. */
export function parseVersionStamp(name: string): number | null {
  const match = STAMP_PATTERN.exec(name);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
}

/**
 * Moves the file (or directory) at `path` into the versions area of the same side,
 * `.syncengine/versions/<stamp>/<path>`, and returns where it went. A second version of the
 * same path within one run goes to `<stamp>-1/`, `<stamp>-2/`, … so nothing is overwritten.
 */
export async function moveToVersions(storage: Storage, path: string, stamp: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const folder = attempt === 0 ? stamp : `${stamp}-${attempt}`;
    const target = `${VERSIONS_DIR}/${folder}/${path}`;
    try {
      await storage.rename(path, target);
      return target;
    } catch (error) {
      if (!isSyncError(error, 'CONFLICT') || attempt >= 100) throw error;
    }
  }
}

/** Puts a file moved by `moveToVersions` back where it was (after a failed overwrite). */
export async function restoreFromVersions(
  storage: Storage,
  versionPath: string,
  path: string,
): Promise<void> {
  await storage.rename(versionPath, path);
}

const isVersionsAncestor = (path: string) => VERSIONS_DIR === path || VERSIONS_DIR.startsWith(`${path}/`);
const VERSIONS_PREFIX = `${VERSIONS_DIR}/`;

/** One kept version of a file. */
export interface StoredVersion {
  /** The path the file had, relative to the root. */
  path: string;
  /** Where the version is kept, relative to the root. */
  versionPath: string;
  /** The versions folder name, e.g. `20261126T042800Z`. */
  stamp: string;
  /** When the run (or restore) that kept it started (ms since the epoch). */
  keptAt: number;
  size: number;
  mtime: number;
}

/**
 * What a versions-area path stands for: its folder stamp and the original path, or null
 * for a path that is not a file version the engine keeps (wrong place, foreign folder name).
 */
export function parseVersionPath(
  versionPath: string,
): { stamp: string; keptAt: number; path: string } | null {
  if (!versionPath.startsWith(VERSIONS_PREFIX)) return null;
  const rest = versionPath.slice(VERSIONS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const stamp = rest.slice(0, slash);
  const keptAt = parseVersionStamp(stamp);
  if (keptAt === null) return null;
  return { stamp, keptAt, path: rest.slice(slash + 1) };
}

/**
 * Every file in a side's versions area, newest first; only those of `filter` (a file, or a
 * folder and everything below it) when given.
 */
export async function listVersions(
  storage: Storage,
  filter?: string,
  signal?: AbortSignal,
): Promise<StoredVersion[]> {
  const wanted = filter?.replace(/^\/+|\/+$/g, '');
  const versions: StoredVersion[] = [];
  for await (const entry of storage.list({
    signal,
    include: (path) => isVersionsAncestor(path) || path.startsWith(VERSIONS_PREFIX),
  })) {
    if (entry.isDir) continue;
    const parsed = parseVersionPath(entry.path);
    if (!parsed) continue;
    const { path, stamp, keptAt } = parsed;
    if (wanted && path !== wanted && !path.startsWith(`${wanted}/`)) continue;
    versions.push({ path, versionPath: entry.path, stamp, keptAt, size: entry.size, mtime: entry.mtime });
  }
  return versions.sort(
    (a, b) => b.keptAt - a.keptAt || b.stamp.localeCompare(a.stamp) || a.path.localeCompare(b.path),
  );
}

/** What `restoreVersion` did. */
export interface RestoredVersion {
  /** The path restored, relative to the root. */
  path: string;
  /** Where the file that was at `path` went (kept as a version), or null when there was none. */
  keptAs: string | null;
  /** The file as written. */
  written: Entry;
}

/**
 * Copies the kept version at `versionPath` back to `target` (default: the path it was kept
 * from). Whatever is at the target now is itself kept as a version first (stamped `now`),
 * so a restore never loses data; the kept version stays where it is. Throws
 * `SyncError('NOT_FOUND')` for a version that is not there, and `CONFLICT` when the target
 * is a folder.
 */
export async function restoreVersion(
  storage: Storage,
  versionPath: string,
  options: { target?: string; now: number },
): Promise<RestoredVersion> {
  const parsed = parseVersionPath(normalizeRelativePath(versionPath));
  if (!parsed)
    throw new SyncError('INVALID_PATH', `${versionPath} is not a kept version`, { path: versionPath });
  const target = normalizeRelativePath(options.target ?? parsed.path);
  if (target === VERSIONS_DIR || target.startsWith(VERSIONS_PREFIX)) {
    throw new SyncError('INVALID_PATH', `cannot restore into the versions area: ${target}`, { path: target });
  }
  const version = await storage.stat(versionPath);
  if (!version || version.isDir) {
    throw new SyncError('NOT_FOUND', `no kept version at ${versionPath}`, { path: versionPath });
  }
  const current = await storage.stat(target);
  if (current?.isDir) throw new SyncError('CONFLICT', `${target} is a folder`, { path: target });
  // The same rule as a sync's: a versions folder already used this second gets a suffix.
  const keptAs = current ? await moveToVersions(storage, target, versionStamp(options.now)) : null;
  try {
    const written = await storage.write(target, await storage.read(versionPath), {
      mtime: version.mtime,
      size: version.size,
    });
    return { path: target, keptAs, written };
  } catch (error) {
    if (keptAs) await restoreFromVersions(storage, keptAs, target).catch(() => undefined);
    throw error;
  }
}

/** Deletes one kept version (a file in the versions area). */
export async function deleteVersion(storage: Storage, versionPath: string): Promise<void> {
  if (!parseVersionPath(normalizeRelativePath(versionPath))) {
    throw new SyncError('INVALID_PATH', `${versionPath} is not a kept version`, { path: versionPath });
  }
  const entry = await storage.stat(versionPath);
  if (!entry || entry.isDir)
    throw new SyncError('NOT_FOUND', `no kept version at ${versionPath}`, { path: versionPath });
  await storage.delete(versionPath);
}

/**
 * Deletes the versions folders of one side that are older than `retentionDays`.
 *
 * `retentionDays: 0` keeps versions forever rather than deleting them at once: a setting
 * read as "no retention limit" must never be the one that silently throws away the only
 * copy of an overwritten file. Returns the folders removed.
 */
export async function pruneVersions(
  storage: Storage,
  retentionDays: number,
  now: number,
  signal?: AbortSignal,
): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = now - retentionDays * DAY_MS;
  const expired: string[] = [];
  const prefix = `${VERSIONS_DIR}/`;
  for await (const entry of storage.list({
    signal,
    include: (path, isDir) =>
      isDir && (isVersionsAncestor(path) || (path.startsWith(prefix) && !path.includes('/', prefix.length))),
  })) {
    if (!entry.isDir || !entry.path.startsWith(prefix)) continue;
    const stamp = parseVersionStamp(entry.path.slice(prefix.length));
    if (stamp !== null && stamp < cutoff) expired.push(entry.path);
  }
  for (const folder of expired) await removeTree(storage, folder, signal);
  return expired;
}

/** Deletes a folder and everything below it, deepest first. */
async function removeTree(storage: Storage, folder: string, signal?: AbortSignal): Promise<void> {
  const paths: string[] = [];
  for await (const entry of storage.list({
    signal,
    include: (path) => isVersionsAncestor(path) || path === folder || path.startsWith(`${folder}/`),
  })) {
    if (entry.path.startsWith(`${folder}/`)) paths.push(entry.path);
  }
  paths.sort((a, b) => depth(b) - depth(a));
  for (const path of paths) await storage.delete(path);
  await storage.delete(folder);
}

export const depth = (path: string): number => path.split('/').length;
