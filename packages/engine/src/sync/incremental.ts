import { isSyncError, SyncError } from '../errors.js';
import type { Entry, LastKnownState, Side, Tree } from '../model.js';
import {
  baseName,
  IGNORE_FILE_NAME,
  isEngineInternalPath,
  isSameOrBelow,
  joinPath,
  normalizeRelativePath,
  parentPath,
} from '../paths.js';
import type { PartialState, StatePart, StateStore } from '../state-store.js';
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
  part?: LoadedPart,
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
    for (const entry of part ? await part.recordsOfSize(side, sizes, scope) : records.values()) {
      const { path } = entry;
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
  // Their records, on both sides, where only part of the state was loaded.
  if (
    part &&
    added.length > 0 &&
    !(await part.add({ folders: [], subtrees: added, paths: foldersAbove(added) }))
  ) {
    throw new SyncError('STATE_CORRUPT', 'the saved sync state went missing while the run read it');
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

/** The folders above `paths` (the root left out). */
function foldersAbove(paths: Iterable<string>): string[] {
  const above = new Set<string>();
  for (const path of paths) {
    for (let parent = parentPath(path); parent !== '' && !above.has(parent); parent = parentPath(parent))
      above.add(parent);
  }
  return [...above];
}

/** The part of the saved state within `scope`, as `StateStore.loadPart` takes it. */
export function partOf(scope: IncrementalScope): StatePart {
  return { folders: [...scope.folders], subtrees: [...scope.roots], paths: [...scope.above] };
}

/**
 * What a scoped run loaded of the saved state (SPEC §12), where its store loads part of it
 * (`StateStore.loadPart`): the records within its scope, and the whole state's sizes.
 */
export class LoadedPart {
  readonly scope: IncrementalScope;
  /** The records within the scope (and a rename's origins, once added). */
  readonly state: LastKnownState;
  /** The whole saved state's size per side. */
  readonly counts: PartialState['counts'];
  readonly #store: StateStore & Required<Pick<StateStore, 'loadPart' | 'recordsOfSize'>>;

  private constructor(
    store: StateStore & Required<Pick<StateStore, 'loadPart' | 'recordsOfSize'>>,
    scope: IncrementalScope,
    loaded: PartialState,
  ) {
    this.#store = store;
    this.scope = scope;
    this.state = loaded.state;
    this.counts = loaded.counts;
  }

  /**
   * The records of the scope of a run over `changedPaths` (a watcher's) or, without them, over
   * the folders that differ from the last run's digests (`changes`); null where the run needs
   * the whole state: a store that cannot load part of it, no state saved (a first sync), a
   * full run (`incrementalScope`, `folderScope`), or a state that reads as damaged (the whole
   * read reports it).
   */
  static async load(
    store: StateStore,
    storages: Record<Side, Storage>,
    changedPaths: readonly string[] | undefined,
    changes: readonly FolderChanges[] | null,
  ): Promise<LoadedPart | null> {
    const { loadPart, recordsOfSize } = store;
    if (!loadPart || !recordsOfSize) return null;
    const partial = store as StateStore & Required<Pick<StateStore, 'loadPart' | 'recordsOfSize'>>;
    const read = async (part: StatePart): Promise<PartialState | null> => {
      try {
        return await partial.loadPart(part);
      } catch (error) {
        if (isSyncError(error, 'STATE_CORRUPT')) return null;
        throw error;
      }
    };
    if (changedPaths) {
      // The scope does not depend on the records, only on there being some.
      const scope = incrementalScope(changedPaths, { source: new Map(), destination: new Map() });
      if (!scope) return null;
      const loaded = await read(partOf(scope));
      return loaded ? new LoadedPart(partial, scope, loaded) : null;
    }
    if (!changes) return null;
    // The changed folders' items and the replaced subtrees first: what `folderScope` looks at.
    const folders = new Set(changes.flatMap(({ changed }) => changed));
    const replaced = new Set(changes.flatMap(({ replaced: paths }) => paths));
    const loaded = await read({
      folders: [...folders],
      subtrees: [...replaced],
      paths: foldersAbove([...folders, ...replaced]),
    });
    if (!loaded) return null;
    const scope = await folderScope(changes, loaded.state, storages);
    if (!scope) return null;
    const part = new LoadedPart(partial, scope, loaded);
    // Recorded folders among the changed folders' items that are not folders now: whole.
    const below = [...scope.roots].filter((root) => ![...replaced].some((path) => isSameOrBelow(root, path)));
    if (below.length > 0 && !(await part.add({ folders: [], subtrees: below, paths: [] }))) return null;
    return part;
  }

  /** Loads the records of `part` too; false where they could not be read. */
  async add(part: StatePart): Promise<boolean> {
    const more = await this.#store.loadPart(part);
    if (!more) return false;
    for (const side of SIDES) for (const [path, entry] of more.state[side]) this.state[side].set(path, entry);
    return true;
  }

  /**
   * Records of `side` with one of `sizes` outside the scope, at least as many of each as a
   * look through the whole state would take (`MAX_CANDIDATES_PER_SIZE`), in the same order.
   */
  async recordsOfSize(side: Side, sizes: ReadonlySet<number>, scope: IncrementalScope): Promise<Entry[]> {
    // The store's first records of a size may lie within the scope: as many more are asked for.
    const within = new Map<number, number>();
    for (const [path, entry] of this.state[side]) {
      if (!entry.isDir && sizes.has(entry.size) && scope.includes(path))
        within.set(entry.size, (within.get(entry.size) ?? 0) + 1);
    }
    const perSize = MAX_CANDIDATES_PER_SIZE + Math.max(0, ...within.values());
    return this.#store.recordsOfSize(side, [...sizes], perSize);
  }
}

/** Files of a side by its records: the size a max-delete guard measures an incremental run against. */
export function recordedFileCount(lastKnown: LastKnownState, side: Side): number {
  let files = 0;
  for (const entry of lastKnown[side].values()) if (!entry.isDir) files++;
  return files;
}
