import { isSyncError } from '../errors.js';
import { VERSIONS_DIR } from '../paths.js';
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
