import type { Entry } from '../model.js';
import { isSameOrBelow, parentPath } from '../paths.js';
import type { StatePart } from '../state-store.js';

/**
 * The index beside a tree file of the file state store: where each folder's direct items lie
 * in the tree file (byte ranges of their lines), where each folder's own record lies, and how
 * many entries and files the tree holds. It names the tree file it describes (its size and
 * modification time): an index that does not match its tree is not used.
 */
export interface TreeIndex {
  /** Size of the tree file in bytes. */
  treeBytes: number;
  /** Modification time of the tree file, in nanoseconds (decimal). */
  treeMtimeNs: string;
  entries: number;
  files: number;
  /** Folder → its direct items' lines, as [start, end, start, end, …] byte offsets (`end` exclusive, before the comma). */
  items: Map<string, number[]>;
  /** Folder record → the [start, end] of its line. */
  dirs: Map<string, [number, number]>;
}

export const TREE_INDEX_VERSION = 1;

/** On disk (JSON): the fields of `TreeIndex`, maps as objects. */
interface TreeIndexRecord {
  version: number;
  tree_bytes: number;
  tree_mtime_ns: string;
  entries: number;
  files: number;
  items: Record<string, number[]>;
  dirs: Record<string, [number, number]>;
}

/** Collects the lines of a tree file as `serializeTree` writes them. */
export class TreeIndexBuilder {
  private readonly items = new Map<string, number[]>();
  private readonly dirs = new Map<string, [number, number]>();
  private entries = 0;
  private files = 0;

  /** A record line of `path` between the byte offsets `start` and `end`. */
  add(path: string, isDir: boolean, start: number, end: number): void {
    this.entries++;
    if (isDir) this.dirs.set(path, [start, end]);
    else this.files++;
    const folder = parentPath(path);
    const ranges = this.items.get(folder);
    if (!ranges) this.items.set(folder, [start, end]);
    // The next line of the same folder (after `,\n`): one range grows.
    else if (ranges[ranges.length - 1]! + 2 === start) ranges[ranges.length - 1] = end;
    else ranges.push(start, end);
  }

  /** The index text for the tree file as written (its size and modification time). */
  text(treeBytes: number, treeMtimeNs: bigint): string {
    const record: TreeIndexRecord = {
      version: TREE_INDEX_VERSION,
      tree_bytes: treeBytes,
      tree_mtime_ns: treeMtimeNs.toString(),
      entries: this.entries,
      files: this.files,
      // Own properties whatever the names (a folder may be called `__proto__`).
      items: Object.fromEntries(this.items),
      dirs: Object.fromEntries(this.dirs),
    };
    return `${JSON.stringify(record)}\n`;
  }
}

const isRange = (value: unknown): boolean =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.length % 2 === 0 &&
  value.every((offset) => Number.isSafeInteger(offset) && offset >= 0);

/** The index in `text`, or null when it is not one (damaged, or of another version). */
export function parseTreeIndex(text: string): TreeIndex | null {
  let record: TreeIndexRecord;
  try {
    record = JSON.parse(text) as TreeIndexRecord;
  } catch {
    return null;
  }
  if (
    typeof record !== 'object' ||
    record === null ||
    record.version !== TREE_INDEX_VERSION ||
    !Number.isSafeInteger(record.tree_bytes) ||
    typeof record.tree_mtime_ns !== 'string' ||
    !Number.isSafeInteger(record.entries) ||
    !Number.isSafeInteger(record.files) ||
    typeof record.items !== 'object' ||
    record.items === null ||
    typeof record.dirs !== 'object' ||
    record.dirs === null
  ) {
    return null;
  }
  const items = new Map(Object.entries(record.items));
  const dirs = new Map(Object.entries(record.dirs));
  for (const ranges of items.values()) if (!isRange(ranges)) return null;
  for (const range of dirs.values()) if (!isRange(range) || range.length !== 2) return null;
  return {
    treeBytes: record.tree_bytes,
    treeMtimeNs: record.tree_mtime_ns,
    entries: record.entries,
    files: record.files,
    items,
    dirs,
  };
}

/** Lines of a tree file to read: each a direct item of `folder`; `only`, where one line alone is meant. */
export interface LineRange {
  start: number;
  end: number;
  folder: string;
  only?: string;
}

/**
 * The ranges of a tree file that hold every record of `part`, and the record of each of
 * `extra` (where it has one). A file's record is found among its folder's items.
 */
export function rangesFor(index: TreeIndex, part: StatePart, extra: Iterable<string>): LineRange[] {
  const out: LineRange[] = [];
  const itemsOf = (folder: string) => {
    const ranges = index.items.get(folder);
    if (!ranges) return;
    for (let at = 0; at < ranges.length; at += 2)
      out.push({ start: ranges[at]!, end: ranges[at + 1]!, folder });
  };
  const own = (path: string) => {
    if (path === '') return;
    const folder = parentPath(path);
    const line = index.dirs.get(path);
    if (line) {
      out.push({ start: line[0], end: line[1], folder, only: path });
      return;
    }
    const ranges = index.items.get(folder);
    if (!ranges) return;
    for (let at = 0; at < ranges.length; at += 2)
      out.push({ start: ranges[at]!, end: ranges[at + 1]!, folder, only: path });
  };
  for (const folder of part.folders) {
    own(folder);
    itemsOf(folder);
  }
  for (const root of part.subtrees) {
    own(root);
    for (const folder of index.items.keys()) if (isSameOrBelow(folder, root)) itemsOf(folder);
  }
  for (const path of part.paths) own(path);
  for (const path of extra) own(path);
  return out;
}

/** True for a path within `part` (see `StatePart`). */
export function partMatcher(part: StatePart): (path: string) => boolean {
  const folders = new Set(part.folders);
  const subtrees = new Set(part.subtrees);
  const paths = new Set(part.paths);
  return (path) => {
    if (paths.has(path) || folders.has(path) || folders.has(parentPath(path))) return true;
    if (subtrees.size === 0) return false;
    for (let at = path; ; at = parentPath(at)) {
      if (subtrees.has(at)) return true;
      if (at === '') return false;
    }
  };
}

/** One side's counts of a tree: its entries, and of those the files. */
export interface TreeCounts {
  entries: number;
  files: number;
}

/** Counts moved by one path's record going from `before` to `after`. */
export function adjustCounts(counts: TreeCounts, before: Entry | undefined, after: Entry | undefined): void {
  counts.entries += (after ? 1 : 0) - (before ? 1 : 0);
  counts.files += (after && !after.isDir ? 1 : 0) - (before && !before.isDir ? 1 : 0);
}
