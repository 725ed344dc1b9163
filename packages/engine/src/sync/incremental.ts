import type { Entry, LastKnownState, Side, Tree } from '../model.js';
import {
  baseName,
  IGNORE_FILE_NAME,
  isEngineInternalPath,
  joinPath,
  normalizeRelativePath,
  parentPath,
} from '../paths.js';
import type { FolderChanges, Storage } from '../storage.js';

const SIDES = ['source', 'destination'] as const;

/** New files whose size is looked up among the records for a rename's origin, at most. */
const MAX_RENAME_LOOKUPS = 1000;
/** Records of one size that are looked at as a new file's possible origin, at most. */
const MAX_CANDIDATES_PER_SIZE = 16;

/**
 * What an incremental run lists and plans (SPEC §12): the changed paths, each with
 * everything below it, the direct items of changed folders, and the folders above them
 * (listed as entries only). The rest of both trees, and of the last-known state, is left
 * out as if it did not exist: the planner and its decision tables are the same as for a
 * full run, over a smaller input.
 */
export class IncrementalScope {
  /** Changed paths, none below another. */
  readonly roots = new Set<string>();
  /** Folders whose direct items are in the scope (not what lies below those). */
  readonly folders = new Set<string>();
  /** Folders above a root or a folder of `folders` (and those folders themselves). */
  readonly above = new Set<string>();

  constructor(paths: Iterable<string>) {
    for (const path of paths) this.add(path);
  }

  /** Adds a path (and everything below it) to the scope. */
  add(path: string): void {
    if (this.isInRoot(path)) return;
    for (const root of [...this.roots]) if (root.startsWith(`${path}/`)) this.roots.delete(root);
    this.roots.add(path);
    this.above.delete(path);
    this.addAbove(path);
  }

  /** Adds a folder's direct items (and the folder itself) to the scope. */
  addFolder(path: string): void {
    if (this.isInRoot(path)) return;
    this.folders.add(path);
    if (path !== '') this.above.add(path);
    this.addAbove(path);
  }

  /** True for a root, a path below one, a direct item of a scoped folder, or a folder above either. */
  includes(path: string): boolean {
    if (this.above.has(path)) return true;
    if (path !== '' && this.folders.has(parentPath(path))) return true;
    return this.isInRoot(path);
  }

  /** The part of `tree` within the scope (a new tree; `tree` is left as it is). */
  restrict(tree: ReadonlyMap<string, Entry>): Tree {
    const out: Tree = new Map();
    for (const [path, entry] of tree) if (this.includes(path)) out.set(path, entry);
    return out;
  }

  private isInRoot(path: string): boolean {
    for (let at = path; at !== ''; at = parentPath(at)) if (this.roots.has(at)) return true;
    return false;
  }

  private addAbove(path: string): void {
    if (path === '') return;
    for (let parent = parentPath(path); parent !== ''; parent = parentPath(parent)) this.above.add(parent);
  }
}

/**
 * The scope of an incremental run over `changedPaths`, or null when the run must be a full
 * one: no last-known state yet (a first sync), the root itself changed, or an ignore file
 * changed (its rules shape the whole listing). Paths that are not valid relative paths,
 * and the engine's own, are dropped.
 */
export function incrementalScope(
  changedPaths: readonly string[],
  lastKnown: LastKnownState | null,
): IncrementalScope | null {
  if (!lastKnown) return null;
  const paths: string[] = [];
  for (const changed of changedPaths) {
    let path: string;
    try {
      path = normalizeRelativePath(changed, { allowRoot: true });
    } catch {
      continue;
    }
    if (path === '' || baseName(path) === IGNORE_FILE_NAME) return null;
    if (!isEngineInternalPath(path)) paths.push(path);
  }
  return new IncrementalScope(paths);
}

/**
 * The scope of a run over the folders that differ from the last run's folder digests on
 * either side (`FolderChanges`): each changed folder's direct items, each replaced folder
 * with everything below it, and so each recorded folder among those items that is not a
 * folder on both sides now. Null when the run must be a full one: no last-known state, or
 * a changed folder holds an ignore file, now on either side or as recorded (its rules shape
 * what lies below it, which the scope leaves out).
 */
export async function folderScope(
  changes: readonly FolderChanges[],
  lastKnown: LastKnownState | null,
  storages: Record<Side, Storage>,
): Promise<IncrementalScope | null> {
  if (!lastKnown) return null;
  const scope = new IncrementalScope([]);
  for (const { replaced } of changes) for (const path of replaced) scope.add(path);
  const folders = new Set(changes.flatMap(({ changed }) => changed));
  for (const folder of folders) {
    const ignoreFile = joinPath(folder, IGNORE_FILE_NAME);
    for (const side of SIDES) {
      if (lastKnown[side].has(ignoreFile)) return null;
      // Not looked at (the folder is a file on this side, say): a full run tells.
      const found = await storages[side].stat(ignoreFile).catch(() => undefined);
      if (found !== null) return null;
    }
    scope.addFolder(folder);
  }
  // A recorded folder among the items of a changed folder that is not a folder on both sides
  // now: what lies below it is planned too (it is replaced by a file, or copied whole).
  const recordedFolders = new Set<string>();
  for (const side of SIDES) {
    for (const [path, entry] of lastKnown[side]) {
      if (entry.isDir && scope.folders.has(parentPath(path)) && !scope.roots.has(path))
        recordedFolders.add(path);
    }
  }
  for (const path of recordedFolders) {
    for (const side of SIDES) {
      if ((await storages[side].stat(path).catch(() => null))?.isDir !== true) {
        scope.add(path);
        break;
      }
    }
  }
  return scope;
}

/**
 * Where a new file of the scope was renamed or moved from a path outside it (its old path's
 * change was not told): records of that side with the file's size whose path is gone from
 * that side are added to the scope, with their entries on both sides, so the rename is found
 * as a full run would find it. Returns the paths added.
 */
export async function addRenameOrigins(
  scope: IncrementalScope,
  trees: Record<Side, Tree>,
  lastKnown: LastKnownState,
  storages: Record<Side, Storage>,
  include: (path: string, isDir: boolean) => boolean,
): Promise<string[]> {
  const added: string[] = [];
  for (const side of SIDES) {
    const records = lastKnown[side];
    const sizes = new Set<number>();
    for (const [path, entry] of trees[side]) {
      if (!entry.isDir && !records.has(path)) sizes.add(entry.size);
      if (sizes.size >= MAX_RENAME_LOOKUPS) break;
    }
    if (sizes.size === 0) continue;
    const candidates = new Map<number, string[]>();
    for (const [path, entry] of records) {
      if (entry.isDir || !sizes.has(entry.size) || scope.includes(path)) continue;
      const list = candidates.get(entry.size) ?? [];
      if (list.length < MAX_CANDIDATES_PER_SIZE) list.push(path);
      candidates.set(entry.size, list);
    }
    for (const path of [...candidates.values()].flat()) {
      if ((await storages[side].stat(path)) !== null) continue;
      scope.add(path);
      added.push(path);
    }
  }
  // Their entries (and those of the folders above them), as a listing of the scope would give.
  for (const path of added) {
    for (let at = path; at !== ''; at = parentPath(at)) {
      for (const side of SIDES) {
        if (trees[side].has(at)) continue;
        const entry = await storages[side].stat(at);
        if (entry && include(at, entry.isDir))
          trees[side].set(at, entry.path === at ? entry : { ...entry, path: at });
      }
    }
  }
  return added;
}

/** Files of a side by its records: the size a max-delete guard measures an incremental run against. */
export function recordedFileCount(lastKnown: LastKnownState, side: Side): number {
  let files = 0;
  for (const entry of lastKnown[side].values()) if (!entry.isDir) files++;
  return files;
}
