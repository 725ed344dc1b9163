import type { Entry, LastKnownState, Side, Tree } from '../model.js';
import {
  baseName,
  IGNORE_FILE_NAME,
  isEngineInternalPath,
  normalizeRelativePath,
  parentPath,
} from '../paths.js';
import type { Storage } from '../storage.js';

const SIDES = ['source', 'destination'] as const;

/** New files whose size is looked up among the records for a rename's origin, at most. */
const MAX_RENAME_LOOKUPS = 1000;
/** Records of one size that are looked at as a new file's possible origin, at most. */
const MAX_CANDIDATES_PER_SIZE = 16;

/**
 * What an incremental run lists and plans (SPEC §12): the changed paths, each with
 * everything below it, and the folders above them (listed as entries only). The rest of
 * both trees, and of the last-known state, is left out as if it did not exist: the planner
 * and its decision tables are the same as for a full run, over a smaller input.
 */
export class IncrementalScope {
  /** Changed paths, none below another. */
  readonly roots = new Set<string>();
  /** Folders above a root. */
  readonly above = new Set<string>();

  constructor(paths: Iterable<string>) {
    for (const path of paths) this.add(path);
  }

  /** Adds a path (and everything below it) to the scope. */
  add(path: string): void {
    if (this.includes(path) && !this.above.has(path)) return;
    for (const root of [...this.roots]) if (root.startsWith(`${path}/`)) this.roots.delete(root);
    this.roots.add(path);
    this.above.delete(path);
    for (let parent = parentPath(path); parent !== ''; parent = parentPath(parent)) this.above.add(parent);
  }

  /** True for a root, a path below one, or a folder above one. */
  includes(path: string): boolean {
    if (this.above.has(path)) return true;
    for (let at = path; at !== ''; at = parentPath(at)) if (this.roots.has(at)) return true;
    return false;
  }

  /** The part of `tree` within the scope (a new tree; `tree` is left as it is). */
  restrict(tree: ReadonlyMap<string, Entry>): Tree {
    const out: Tree = new Map();
    for (const [path, entry] of tree) if (this.includes(path)) out.set(path, entry);
    return out;
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
