import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FolderListing } from '@syncengine/contracts';
import { isWithin, type PathGuard, PathNotAllowedError } from '@syncengine/locations';
import { AppError } from '../errors.js';

/** At most this many subfolders are listed; `isTruncated` says when there were more. */
const MAX_FOLDERS = 1_000;
/** The engine's own folders, never offered as a pair's folder. */
const ENGINE_FOLDERS = new Set(['.syncengine', '.sync_state']);

/**
 * Browses folders for the pair form's folder picker, confined to the allowed roots by the
 * one path guard: without a path it lists the roots; with one, the subfolders of that
 * folder that the guard accepts (never files, never the engine's own folders).
 */
export function createFolderService(deps: { paths: PathGuard }) {
  const roots = () => deps.paths.allowedRoots;

  async function confined(path: string): Promise<string> {
    try {
      return await deps.paths.check(path);
    } catch (error) {
      if (error instanceof PathNotAllowedError) {
        throw new AppError('BAD_REQUEST', error.message, { field: 'querystring.path' });
      }
      throw error;
    }
  }

  return {
    async list(path: string | undefined): Promise<FolderListing> {
      if (path === undefined) {
        return {
          path: null,
          parent: null,
          roots: [...roots()],
          folders: roots().map((root) => ({ name: root, path: root })),
          isTruncated: false,
        };
      }
      // A root is always browsable, even when it holds the server's own data directory
      // (which the guard refuses as a pair's folder, and which is left out of the listing).
      const real = roots().includes(path) ? path : await confined(path);
      const stats = await stat(real).catch(() => null);
      if (!stats) {
        throw new AppError('BAD_REQUEST', `the folder ${path} does not exist`, { field: 'querystring.path' });
      }
      if (!stats.isDirectory()) {
        throw new AppError('BAD_REQUEST', `${path} is not a folder`, { field: 'querystring.path' });
      }
      const entries = await readdir(real, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        throw new AppError('BAD_REQUEST', `the folder ${path} cannot be read (${error.code ?? 'error'})`, {
          field: 'querystring.path',
        });
      });
      const folders: { name: string; path: string }[] = [];
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (ENGINE_FOLDERS.has(entry.name)) continue;
        const child = join(path, entry.name);
        if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
        // Each subfolder passes the guard too: symlinks out of the roots and the server's
        // own folders are not offered.
        const target = await deps.paths.check(child).catch(() => null);
        if (!target || !(await stat(target).catch(() => null))?.isDirectory()) continue;
        folders.push({ name: entry.name, path: child });
        if (folders.length > MAX_FOLDERS) break;
      }
      const isRoot = roots().some((root) => root === path || root === real);
      const parent = dirname(path);
      const hasParent = !isRoot && roots().some((root) => isWithin(root, parent));
      return {
        path,
        parent: hasParent ? parent : null,
        roots: [...roots()],
        folders: folders.slice(0, MAX_FOLDERS),
        isTruncated: folders.length > MAX_FOLDERS,
      };
    },
  };
}
export type FolderService = ReturnType<typeof createFolderService>;
