import { mkdir, realpath, stat } from 'node:fs/promises';
import { isSyncError, type Storage } from '@syncengine/engine';
import {
  describeLocation,
  isWithin,
  type Location,
  openStorage as openLocationStorage,
  type ParseLocationOptions,
  parseLocalLocation,
} from '@syncengine/locations/local';
import { usageError } from './exit-codes.js';

/** A location named on the command line, parsed and checked but not yet opened. */
export interface LocationSpec {
  /** `source` or `destination`, for messages. */
  role: 'source' | 'destination';
  /** What the user typed. */
  text: string;
  location: Location;
  /**
   * Stable text naming the root, without secrets: the absolute, symlink-resolved folder
   * for local locations, the URL otherwise. Pair ids derive from it.
   */
  identity: string;
  /** False when a local folder does not exist yet. Remote roots are taken to exist. */
  exists: boolean;
}

/** Resolves a location argument: a folder path, a `file://` URL or a remote URL. */
export async function resolveLocation(
  text: string,
  role: LocationSpec['role'],
  options: ParseLocationOptions = {},
): Promise<LocationSpec> {
  let location: Location;
  try {
    // A local folder needs no schemas; remote URLs (and what the full parser rejects) load
    // the parser with the location schemas.
    location =
      parseLocalLocation(text, options) ??
      (await import('@syncengine/locations')).parseLocationUrl(text, options);
  } catch (error) {
    throw usageError(`${role}: ${isSyncError(error) ? error.message : String(error)}`);
  }
  if (location.type !== 'local') {
    return { role, text, location, identity: describeLocation(location), exists: true };
  }
  const absolute = location.path;
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw usageError(`${role} folder ${absolute} cannot be read: ${error.message}`);
  });
  if (info && !info.isDirectory()) throw usageError(`${role} ${absolute} is not a folder`);
  const path = info ? await realpath(absolute) : absolute;
  return { role, text, location: { ...location, path }, identity: path, exists: info !== null };
}

/** The local folder of a location, or undefined for a remote one. */
export const localPath = (spec: LocationSpec): string | undefined =>
  spec.location.type === 'local' ? spec.location.path : undefined;

/**
 * Refuses roots that would sync a tree into itself: the same folder twice, or one folder
 * inside the other (every run would copy the copy again).
 */
export function checkRootsApart(source: LocationSpec, destination: LocationSpec): void {
  if (source.identity === destination.identity) {
    throw usageError(`source and destination are the same location: ${source.identity}`);
  }
  const sourcePath = localPath(source);
  const destinationPath = localPath(destination);
  if (sourcePath === undefined || destinationPath === undefined) return;
  if (isWithin(destinationPath, sourcePath)) {
    throw usageError(`source ${sourcePath} is inside the destination ${destinationPath}`);
  }
  if (isWithin(sourcePath, destinationPath)) {
    throw usageError(`destination ${destinationPath} is inside the source ${sourcePath}`);
  }
}

/** Creates a missing local destination folder (only ever on a first sync of the pair). */
export async function createFolder(spec: LocationSpec): Promise<void> {
  const path = localPath(spec);
  if (path !== undefined) await mkdir(path, { recursive: true });
}

/** Opens the backend for a resolved location (remote clients are loaded only when needed). */
export function openStorage(spec: LocationSpec, options: { env: NodeJS.ProcessEnv }): Promise<Storage> {
  return openLocationStorage(spec.location, options);
}
