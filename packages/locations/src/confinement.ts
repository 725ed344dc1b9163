import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, relative, sep } from 'node:path';
import type { Location } from '@syncengine/contracts';

/** Why a path was refused; the message names the path and is safe to show. */
export class PathNotAllowedError extends Error {
  override readonly name = 'PathNotAllowedError';
  constructor(
    message: string,
    /** The location field at fault (`path`, `privateKeyPath`), when known. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** True when `child` is `parent` or below it (both absolute and normalised). */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** True when one of the two folders is the other or lies inside it. */
export const isOverlapping = (a: string, b: string): boolean => isWithin(a, b) || isWithin(b, a);

/** What a failing `realpath` says about a path, for people. */
function describeFailure(path: string, code: string | undefined): string {
  switch (code) {
    case 'ENOTDIR':
      return `"${path}" goes through a file as if it were a folder`;
    case 'ELOOP':
      return `"${path}" goes through a loop of symbolic links`;
    case 'ENAMETOOLONG':
      return `"${path}" is too long`;
    case 'EACCES':
    case 'EPERM':
      return `"${path}" cannot be read by the server`;
    default:
      return `"${path}" cannot be resolved (${code ?? 'unknown error'})`;
  }
}

/**
 * Resolves symlinks of the longest existing prefix, so a folder that does not exist yet
 * is judged by where it would be created.
 */
async function realpathOfExisting(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length === 0 ? real : `${real}${sep}${missing.reverse().join(sep)}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new PathNotAllowedError(describeFailure(path, code));
      // A symlink whose target is missing: where it leads cannot be judged yet.
      if (
        await lstat(current).then(
          () => true,
          () => false,
        )
      ) {
        throw new PathNotAllowedError(
          `"${path}" goes through a symbolic link to a missing target (${current})`,
        );
      }
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(current.slice(parent.length).replace(/^[\\/]+/, ''));
      current = parent;
    }
  }
}

/** The longest path and folder name the common file systems take (Linux `PATH_MAX`, `NAME_MAX`). */
const MAX_PATH_BYTES = 4_096;
const MAX_NAME_BYTES = 255;

/** In a `u` regular expression a surrogate pair is one code point, so this finds only unpaired ones. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Checks the text of a path before anything touches the file system. */
function checkPathText(path: string): void {
  if (path.includes('\0')) throw new PathNotAllowedError('the path contains a NUL character');
  if (LONE_SURROGATE.test(path))
    throw new PathNotAllowedError('the path contains an unpaired surrogate (not valid Unicode)');
  if (!isAbsolute(path)) throw new PathNotAllowedError(`"${path}" is not an absolute path`);
  const segments = path.split(/[\\/]/);
  if (segments.includes('..')) throw new PathNotAllowedError(`"${path}" must not contain ".." segments`);
  if (
    Buffer.byteLength(path) > MAX_PATH_BYTES ||
    segments.some((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES)
  ) {
    throw new PathNotAllowedError(
      `"${path.slice(0, 80)}…" is too long (at most ${MAX_PATH_BYTES} bytes, ${MAX_NAME_BYTES} per name)`,
    );
  }
}

/** A folder a location must neither lie in nor contain, with a name for messages. */
export interface ProtectedFolder {
  path: string;
  /** For messages: `SyncEngine's data directory`. */
  name: string;
}

/**
 * Confines local paths to the allowed roots: a path must be absolute, contain no `..`
 * segment, and (after resolving symlinks, also of the roots) lie under one of the roots.
 * It must also stay clear of the protected folders (the server's own data): neither inside
 * one nor containing one. The one check of local paths for the server, the workers and the
 * CLI; call it each time a path is used, since a folder can be swapped for a symlink later.
 */
export function createPathGuard(
  allowedRoots: string[],
  options: { protectedFolders?: ProtectedFolder[] } = {},
) {
  let resolved: Promise<{ roots: string[]; protectedFolders: ProtectedFolder[] }> | null = null;
  const resolve = () => {
    resolved ??= (async () => ({
      roots: await Promise.all(allowedRoots.map((root) => realpathOfExisting(normalize(root)))),
      protectedFolders: await Promise.all(
        (options.protectedFolders ?? []).map(async (folder) => ({
          name: folder.name,
          path: await realpathOfExisting(normalize(folder.path)),
        })),
      ),
    }))();
    return resolved;
  };
  return {
    allowedRoots,
    /**
     * The symlink-free path to use in place of `path`, or a `PathNotAllowedError` saying
     * why it is refused.
     */
    async check(path: string): Promise<string> {
      checkPathText(path);
      const real = await realpathOfExisting(normalize(path));
      const { roots, protectedFolders } = await resolve();
      if (!roots.some((root) => isWithin(root, real))) {
        throw new PathNotAllowedError(
          `"${path}" is outside the allowed roots (${allowedRoots.join(', ')}); set SYNCENGINE_ALLOWED_ROOTS to allow it`,
        );
      }
      const overlap = protectedFolders.find((folder) => isOverlapping(folder.path, real));
      if (overlap) {
        const relation =
          real === overlap.path ? 'is' : isWithin(real, overlap.path) ? 'contains' : 'is inside';
        throw new PathNotAllowedError(
          `"${path}" ${relation} ${overlap.name} (${overlap.path}), which is never synced`,
        );
      }
      return real;
    },
  };
}
export type PathGuard = ReturnType<typeof createPathGuard>;

/**
 * The location with every path on this machine it names (a local root, an SFTP key file)
 * checked by `guard` and replaced by its real path, so the storage opens what was checked. Throws a `PathNotAllowedError`
 * naming the field at fault.
 */
export async function confineLocation(location: Location, guard: PathGuard): Promise<Location> {
  const checked = async (field: string, path: string) => {
    try {
      return await guard.check(path);
    } catch (error) {
      if (error instanceof PathNotAllowedError) throw new PathNotAllowedError(error.message, field);
      throw error;
    }
  };
  switch (location.type) {
    case 'local':
      return { ...location, path: await checked('path', location.path) };
    case 'sftp':
      // A key file is read by the server: only from where its users' files may be (or
      // upload the key itself as `privateKey`, stored encrypted).
      return location.privateKeyPath === undefined
        ? location
        : { ...location, privateKeyPath: await checked('privateKeyPath', location.privateKeyPath) };
    default:
      return location;
  }
}

/**
 * `open` with every location confined by `guard` first ({@link confineLocation}). Paths are
 * checked at each opening, not only when a pair is saved: a folder allowed then may since
 * have been replaced by a symlink leading elsewhere.
 */
export function confineOpening<T>(
  guard: PathGuard,
  open: (location: Location) => Promise<T>,
): (location: Location) => Promise<T> {
  return async (location) => open(await confineLocation(location, guard));
}
