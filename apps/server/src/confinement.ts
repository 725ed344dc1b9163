import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, relative, sep } from 'node:path';

/** Why a path was refused; the message is safe to show. */
export class PathNotAllowedError extends Error {
  override readonly name = 'PathNotAllowedError';
}

/** True when `child` is `parent` or below it (both absolute, normalised). */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Resolves symlinks of the longest existing prefix, so a folder that does not exist yet can be checked. */
async function realpathOfExisting(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length === 0 ? real : `${real}${sep}${missing.reverse().join(sep)}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(current.slice(parent.length).replace(/^[\\/]+/, ''));
      current = parent;
    }
  }
}

/**
 * Confines local paths to the allowed roots: a path must be absolute, contain no `..`
 * segment, and (after resolving symlinks) lie under one of the roots (also resolved).
 */
export function createPathGuard(allowedRoots: string[]) {
  let resolvedRoots: Promise<string[]> | null = null;
  const roots = () => {
    resolvedRoots ??= Promise.all(allowedRoots.map((root) => realpathOfExisting(normalize(root))));
    return resolvedRoots;
  };
  return {
    allowedRoots,
    /** Returns the real path to use, or throws PathNotAllowedError. */
    async check(path: string): Promise<string> {
      if (!isAbsolute(path)) throw new PathNotAllowedError(`"${path}" is not an absolute path`);
      if (path.split(/[\\/]/).includes('..')) {
        throw new PathNotAllowedError(`"${path}" must not contain ".." segments`);
      }
      const real = await realpathOfExisting(normalize(path));
      if (!(await roots()).some((root) => isWithin(root, real))) {
        throw new PathNotAllowedError(
          `"${path}" is outside the allowed roots (${allowedRoots.join(', ')}); set SYNCENGINE_ALLOWED_ROOTS to allow it`,
        );
      }
      return real;
    },
  };
}
export type PathGuard = ReturnType<typeof createPathGuard>;
