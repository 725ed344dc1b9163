import { promises as fsp } from 'node:fs';
import nodePath from 'node:path';
import { isSyncError, SyncError } from '../errors.js';
import type { Entry, LastKnownState, Side, Tree } from '../model.js';
import { parentPath, tempNameFor } from '../paths.js';
import {
  isTreeFingerprint,
  type PartialState,
  type PendingConflictRecord,
  STATE_FORMAT_VERSION,
  type StateChange,
  type StatePart,
  type StateStore,
  type SyncMetadata,
  type TreeFingerprint,
} from '../state-store.js';
import { applyStateChanges } from './apply.js';
import {
  type EntryRecord,
  fromRecord,
  parseTree,
  pathText,
  recordText,
  serializeTree,
  stateCorrupt,
  toRecord,
} from './tree-file.js';
import {
  adjustCounts,
  type LineRange,
  parseTreeIndex,
  partMatcher,
  rangesFor,
  type TreeCounts,
  type TreeIndex,
  TreeIndexBuilder,
} from './tree-index.js';

export const SOURCE_TREE_FILE = 'source_tree.json';
export const DESTINATION_TREE_FILE = 'destination_tree.json';
export const METADATA_FILE = 'sync_metadata.json';
export const JOURNAL_FILE = 'journal.jsonl';
/** The counts of the whole state at a point of the journal (`checkpointCounts`). */
export const COUNTS_FILE = 'journal.counts.json';
export const SOURCE_INDEX_FILE = 'source_tree.index.json';
export const DESTINATION_INDEX_FILE = 'destination_tree.index.json';

const SIDES = ['source', 'destination'] as const;
const TREE_FILES: Record<Side, string> = { source: SOURCE_TREE_FILE, destination: DESTINATION_TREE_FILE };
const INDEX_FILES: Record<Side, string> = { source: SOURCE_INDEX_FILE, destination: DESTINATION_INDEX_FILE };

/** Ranges of a tree file this close together are read at once. */
const READ_GAP = 64 * 1024;

export interface FileStateStoreOptions {
  /**
   * Identity of the pair. When given, a folder holding another pair's state is refused
   * with `INVALID_CONFIG` instead of being used (or overwritten).
   */
  pairId?: string;
  /** fsync every write (default true). Turning it off trades crash safety for speed. */
  fsync?: boolean;
}

interface MetadataRecord {
  pair_id: string;
  source_description?: string;
  destination_description?: string;
  format_version: number;
  last_run_at?: number;
  last_run_status?: string;
  pending_conflicts: {
    path: string;
    source: EntryRecord | null;
    destination: EntryRecord | null;
    detected_at: number;
  }[];
  /** `SyncMetadata.treeFingerprint`, as it is (camelCase fields). */
  tree_fingerprint?: TreeFingerprint;
}

/** `journal.counts.json`. */
interface CountsRecord {
  version: 1;
  /** The tree files counted on: each one's size and modification time (ns, decimal). */
  trees: Record<Side, { bytes: number; mtime_ns: string }>;
  /** How many of the journal's changes the counts include. */
  changes: number;
  counts: Record<Side, TreeCounts>;
}

interface JournalLine {
  p: string;
  s: EntryRecord | null;
  d: EntryRecord | null;
}

async function readOptional(file: string): Promise<string | undefined> {
  const bytes = await readOptionalBytes(file);
  return bytes?.toString('utf8');
}

/** A file's bytes (a tree file is read from them, so no string holds the whole file). */
async function readOptionalBytes(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The last-known state in files (SPEC §11), for the library and the CLI:
 *
 * ```
 * <dir>/source_tree.json        path → {hash, hash_algorithm, size, mtime, is_dir, id, ctime}
 * <dir>/destination_tree.json   same, for the destination
 * <dir>/sync_metadata.json      pair identity, format version, last run, pending conflicts
 * <dir>/journal.jsonl           per-action changes since the last save (one JSON line each)
 * <dir>/source_tree.index.json  where each folder's records lie in source_tree.json (byte ranges)
 * <dir>/destination_tree.index.json
 * <dir>/journal.counts.json     both sides' counts as of a point of the journal (`checkpointCounts`)
 * ```
 *
 * Every file is replaced atomically (temporary name, fsync, rename). `update()` appends to
 * the journal and fsyncs once per batch; `load()` replays it over the trees; `save()`
 * rewrites the trees and drops the journal. A torn last journal line (a crash in the
 * middle of an append) is ignored; any other damage is `STATE_CORRUPT`.
 *
 * `loadPart()` reads only the lines of the records it is asked for, where the index says they
 * are. `save()` removes the indexes before it replaces the trees and writes them after, and
 * each index names the size and modification time of its tree: an index that is missing or
 * does not match its tree (or a line that is not where it says) costs a read of the whole
 * trees, never a wrong record.
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly options: FileStateStoreOptions;
  /** Whether the journal's tail has been checked for a torn line since this store opened it. */
  private journalChecked = false;
  /** The journal as last parsed, by its file's identity, size and time. */
  private journalCache: { key: string; changes: StateChange[] } | undefined;

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    this.dir = nodePath.resolve(dir);
    this.options = options;
  }

  /** The pair this store belongs to, where `options.pairId` binds it. */
  get pairId(): string | undefined {
    return this.options.pairId;
  }

  private file(name: string): string {
    return nodePath.join(this.dir, name);
  }

  async load(): Promise<LastKnownState | null> {
    await this.metadataOrNullIfCorrupt();
    const [sourceText, destinationText, journalText] = await Promise.all([
      readOptionalBytes(this.file(SOURCE_TREE_FILE)),
      readOptionalBytes(this.file(DESTINATION_TREE_FILE)),
      readOptional(this.file(JOURNAL_FILE)),
    ]);
    if (sourceText === undefined && destinationText === undefined && journalText === undefined) return null;
    if ((sourceText === undefined) !== (destinationText === undefined)) {
      const missing = sourceText === undefined ? SOURCE_TREE_FILE : DESTINATION_TREE_FILE;
      throw stateCorrupt(this.file(missing), 'the file is missing while its counterpart exists');
    }
    const state: LastKnownState = {
      source: sourceText === undefined ? new Map() : parseTree(sourceText, this.file(SOURCE_TREE_FILE)),
      destination:
        destinationText === undefined
          ? new Map()
          : parseTree(destinationText, this.file(DESTINATION_TREE_FILE)),
    };
    if (journalText !== undefined) applyStateChanges(state, this.parseJournal(journalText));
    return state;
  }

  private parseJournal(text: string): StateChange[] {
    const file = this.file(JOURNAL_FILE);
    const lines = text.split('\n');
    // Complete lines end with '\n', so the last element is '' unless the final append was torn.
    // A crash during an append leaves a partial last line: that action is simply not recorded.
    lines.pop();
    const changes: StateChange[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      let parsed: JournalLine;
      try {
        parsed = JSON.parse(line) as JournalLine;
      } catch (error) {
        throw stateCorrupt(file, `line ${i + 1} is not valid JSON`, error);
      }
      if (typeof parsed?.p !== 'string') throw stateCorrupt(file, `line ${i + 1} has no path`);
      changes.push({
        path: parsed.p,
        source: parsed.s === null ? null : fromRecord(parsed.p, parsed.s, file),
        destination: parsed.d === null ? null : fromRecord(parsed.p, parsed.d, file),
      });
    }
    return changes;
  }

  async save(state: LastKnownState): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    if (this.options.pairId !== undefined && (await this.metadataOrNullIfCorrupt()) === null) {
      await this.saveMetadata({
        pairId: this.options.pairId,
        formatVersion: STATE_FORMAT_VERSION,
        pendingConflicts: [],
      });
    }
    // No index outlives the tree it describes: each is removed (durably) before its tree is
    // replaced, and written once the tree is in place.
    let removed = await this.removeIfPresent(COUNTS_FILE);
    for (const side of SIDES) removed = (await this.removeIfPresent(INDEX_FILES[side])) || removed;
    if (removed) await this.syncDir();
    const indexes: Record<Side, TreeIndexBuilder> = {
      source: new TreeIndexBuilder(),
      destination: new TreeIndexBuilder(),
    };
    for (const side of SIDES) {
      await this.writeAtomic(TREE_FILES[side], serializeTree(state[side], indexes[side]));
    }
    await fsp.rm(this.file(JOURNAL_FILE), { force: true });
    this.journalChecked = true;
    this.journalCache = undefined;
    for (const side of SIDES) {
      const stats = await fsp.stat(this.file(TREE_FILES[side]), { bigint: true });
      await this.writeAtomic(INDEX_FILES[side], indexes[side].text(Number(stats.size), stats.mtimeNs));
    }
    await this.syncDir();
  }

  /** Removes a file of the store; true when it was there. */
  private async removeIfPresent(name: string): Promise<boolean> {
    try {
      await fsp.unlink(this.file(name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * The records within `part` (the journal's changes included) and both sides' counts, read
   * through the indexes; where an index cannot be trusted, from the whole trees.
   */
  async loadPart(part: StatePart): Promise<PartialState | null> {
    await this.metadataOrNullIfCorrupt();
    const journal = await this.journalChanges();
    const changes = journal ?? [];
    // The counts: a checkpoint's (the trees and the journal up to it), or the trees' own; then
    // each record the journal changed after that point, from what it replaced. What it
    // replaced is in the journal before that point, or else in the trees: only those paths'
    // lines are read beyond the part.
    const checkpoint = journal
      ? await this.readCheckpoint(changes.length, await this.treeIdentities())
      : null;
    const counted = checkpoint?.changes ?? 0;
    const earlier = new Map<string, StateChange>();
    for (let at = 0; at < counted; at++) earlier.set(changes[at]!.path, changes[at]!);
    const later = new Map<string, StateChange>();
    for (let at = counted; at < changes.length; at++) later.set(changes[at]!.path, changes[at]!);
    const fromTrees = [...later.keys()].filter((path) => !earlier.has(path));
    const [source, destination] = await Promise.all(
      SIDES.map((side) => this.readTreePart(side, part, fromTrees)),
    );
    const read = { source: source!, destination: destination! };
    const isMissing = SIDES.map((side) => read[side] === 'missing');
    if (isMissing[0] && isMissing[1] && journal === undefined) return null;
    if (isMissing[0] !== isMissing[1]) {
      throw stateCorrupt(
        this.file(isMissing[0] ? SOURCE_TREE_FILE : DESTINATION_TREE_FILE),
        'the file is missing while its counterpart exists',
      );
    }
    if (SIDES.some((side) => read[side] === 'stale')) return this.partOfWhole(part);
    const inPart = partMatcher(part);
    const state: LastKnownState = { source: new Map(), destination: new Map() };
    const counts = {} as Record<Side, TreeCounts>;
    for (const side of SIDES) {
      const found = read[side];
      const records = typeof found === 'object' ? found.records : new Map<string, Entry>();
      counts[side] = checkpoint
        ? { ...checkpoint.counts[side] }
        : typeof found === 'object'
          ? { ...found.counts }
          : { entries: 0, files: 0 };
      const tree = state[side];
      for (const [path, entry] of records) if (inPart(path)) tree.set(path, entry);
      for (const change of changes) {
        if (!inPart(change.path)) continue;
        const entry = change[side];
        if (entry) tree.set(change.path, { ...entry, path: change.path });
        else tree.delete(change.path);
      }
      for (const [path, change] of later) {
        const before = earlier.has(path) ? earlier.get(path)![side] : records.get(path);
        adjustCounts(counts[side], before ?? undefined, change[side] ?? undefined);
      }
    }
    return { state, counts };
  }

  /** `loadPart` through `load()`: where an index is missing or does not match its tree. */
  private async partOfWhole(part: StatePart): Promise<PartialState | null> {
    const whole = await this.load();
    if (!whole) return null;
    const inPart = partMatcher(part);
    const state: LastKnownState = { source: new Map(), destination: new Map() };
    const counts = {} as Record<Side, TreeCounts>;
    for (const side of SIDES) {
      counts[side] = { entries: whole[side].size, files: 0 };
      for (const [path, entry] of whole[side]) {
        if (!entry.isDir) counts[side].files++;
        if (inPart(path)) state[side].set(path, entry);
      }
    }
    return { state, counts };
  }

  /**
   * One side's tree records within `part` and of `extra` paths (with others of their folders),
   * and the tree's counts, read where its index says they are; `missing` without a tree file,
   * `stale` where the index cannot be trusted.
   */
  private async readTreePart(
    side: Side,
    part: StatePart,
    extra: Iterable<string>,
  ): Promise<{ records: Map<string, Entry>; counts: TreeCounts } | 'missing' | 'stale'> {
    const treeFile = this.file(TREE_FILES[side]);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(treeFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw error;
    }
    try {
      const index = await this.readIndex(side);
      if (!index) return 'stale';
      // The tree as opened is the one the index describes, whatever is renamed over it since.
      const stats = await handle.stat({ bigint: true });
      if (Number(stats.size) !== index.treeBytes || stats.mtimeNs.toString() !== index.treeMtimeNs)
        return 'stale';
      const records = await readLines(handle, rangesFor(index, part, extra), index.treeBytes, treeFile);
      if (!records) return 'stale';
      return { records, counts: { entries: index.entries, files: index.files } };
    } finally {
      await handle.close();
    }
  }

  private async readIndex(side: Side): Promise<TreeIndex | null> {
    const text = await readOptional(this.file(INDEX_FILES[side]));
    return text === undefined ? null : parseTreeIndex(text);
  }

  /** True when both indexes describe the trees as they are. */
  private async hasCurrentIndexes(trees: CountsRecord['trees'] | null): Promise<boolean> {
    if (!trees) return false;
    for (const side of SIDES) {
      const index = await this.readIndex(side);
      if (index?.treeBytes !== trees[side].bytes || index.treeMtimeNs !== trees[side].mtime_ns) return false;
    }
    return true;
  }

  /**
   * Files of one side recorded with one of `sizes`, at most `perSize` of each: the first in the
   * order `load()` gives the records (the tree's, then what the journal added). Reads the tree
   * file line by line, parsing only the lines of those sizes.
   */
  async recordsOfSize(side: Side, sizes: readonly number[], perSize: number): Promise<Entry[]> {
    const wanted = new Set(sizes);
    if (wanted.size === 0 || perSize <= 0) return [];
    const treeFile = this.file(TREE_FILES[side]);
    const [text, journal] = await Promise.all([readOptional(treeFile), this.journalChanges()]);
    const changes = journal ?? [];
    const journalPaths = new Set(changes.map((change) => change.path));
    // The tree's records in order: an entry, or the path of one the journal changes (its
    // place, where the journal never removed it).
    const order: (Entry | string)[] = [];
    const seeded = new Set<string>();
    if (text !== undefined) {
      forEachTreeLine(text, treeFile, (path, size, entryOf) => {
        if (journalPaths.has(path)) {
          order.push(path);
          seeded.add(path);
        } else if (size === undefined || wanted.has(size)) {
          const entry = entryOf();
          if (!entry.isDir && wanted.has(entry.size)) order.push(entry);
        }
      });
    }
    // The journal replayed as `load()` replays it: a path set again keeps its place, one
    // removed and set again (or new) goes last.
    const replayed = new Map<string, Entry | null>();
    for (const path of seeded) replayed.set(path, null);
    const removed = new Set<string>();
    for (const change of changes) {
      const entry = change[side];
      if (entry) replayed.set(change.path, entry);
      else {
        replayed.delete(change.path);
        removed.add(change.path);
      }
    }
    const found: Entry[] = [];
    const taken = new Map<number, number>();
    const consider = (entry: Entry | null | undefined, path: string) => {
      if (!entry || entry.isDir || !wanted.has(entry.size)) return;
      const count = taken.get(entry.size) ?? 0;
      if (count >= perSize) return;
      taken.set(entry.size, count + 1);
      found.push({ ...entry, path });
    };
    for (const item of order) {
      if (typeof item !== 'string') consider(item, item.path);
      else if (!removed.has(item)) consider(replayed.get(item), item);
    }
    for (const [path, entry] of replayed) if (removed.has(path) || !seeded.has(path)) consider(entry, path);
    return found;
  }

  /** Folds the journal into the trees (and their indexes). */
  async compact(): Promise<void> {
    const state = await this.load();
    if (state) await this.save(state);
  }

  /**
   * Writes `journal.counts.json`: the counts of the whole state, as of the journal's changes
   * so far, and the tree files they count on. Nothing without a journal (the indexes count
   * the trees) or without trees.
   */
  async checkpointCounts(counts: Record<Side, TreeCounts>): Promise<void> {
    const changes = await this.journalChanges();
    const trees = await this.treeIdentities();
    if (!changes || !trees) return;
    const record: CountsRecord = { version: 1, trees, changes: changes.length, counts };
    await this.writeAtomic(COUNTS_FILE, `${JSON.stringify(record)}\n`);
  }

  /**
   * The counts checkpoint, where it counts on the tree files as they are (`trees`, from
   * `treeIdentities()`) and on at most the `journalChanges` changes the journal holds; null
   * otherwise (missing, damaged, or of trees saved since).
   */
  private async readCheckpoint(
    journalChanges: number,
    trees: CountsRecord['trees'] | null,
  ): Promise<CountsRecord | null> {
    const text = await readOptional(this.file(COUNTS_FILE));
    if (text === undefined) return null;
    let record: CountsRecord;
    try {
      record = JSON.parse(text) as CountsRecord;
    } catch {
      return null;
    }
    const isCounts = (value: unknown): value is TreeCounts =>
      typeof value === 'object' &&
      value !== null &&
      Number.isSafeInteger((value as TreeCounts).entries) &&
      Number.isSafeInteger((value as TreeCounts).files);
    if (
      record?.version !== 1 ||
      !Number.isSafeInteger(record.changes) ||
      record.changes < 0 ||
      record.changes > journalChanges ||
      !SIDES.every((side) => isCounts(record.counts?.[side]))
    ) {
      return null;
    }
    const isSame = SIDES.every(
      (side) =>
        trees?.[side].bytes === record.trees?.[side]?.bytes &&
        trees?.[side].mtime_ns === record.trees?.[side]?.mtime_ns,
    );
    return isSame ? record : null;
  }

  /** Size and modification time of each tree file, as indexes and checkpoints name them; null where one is missing. */
  private async treeIdentities(): Promise<CountsRecord['trees'] | null> {
    const identities = {} as CountsRecord['trees'];
    for (const side of SIDES) {
      try {
        const stats = await fsp.stat(this.file(TREE_FILES[side]), { bigint: true });
        identities[side] = { bytes: Number(stats.size), mtime_ns: stats.mtimeNs.toString() };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    }
    return identities;
  }

  /** The journal's changes (cached while the file stays as it is); undefined without a journal. */
  private async journalChanges(): Promise<StateChange[] | undefined> {
    const file = this.file(JOURNAL_FILE);
    let stats: import('node:fs').BigIntStats;
    try {
      stats = await fsp.stat(file, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const key = `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
    if (this.journalCache?.key === key) return this.journalCache.changes;
    const text = await readOptional(file);
    if (text === undefined) return undefined;
    const changes = this.parseJournal(text);
    this.journalCache = { key, changes };
    return changes;
  }

  /**
   * The journal stays while it is at most a tenth the size of the tree files: a run that
   * changed a few files then costs an append, not a rewrite of two large files, and the
   * next loads replay a short journal (a tenth costs them about a tenth more time). A
   * larger journal is compacted by the next save. So is one that changed records in more
   * than `MAX_JOURNAL_FOLDERS` folders since its last counts checkpoint: `loadPart()` reads
   * every folder those changes touch (the trees' counts need the records they replaced), so
   * after a run that changed a file in every folder, without a checkpoint, each load of a few
   * folders would read nearly all of them. So are trees without a current index (saved by an
   * earlier version), which `loadPart()` would read whole.
   */
  async keepsUpdates(): Promise<boolean> {
    const sizeOf = (name: string) => fsp.stat(this.file(name)).then((stats) => stats.size);
    try {
      const [source, destination, journal] = await Promise.all(
        [SOURCE_TREE_FILE, DESTINATION_TREE_FILE, JOURNAL_FILE].map(sizeOf),
      );
      if (journal! > Math.min(source!, destination!) / 10) return false;
      const changes = (await this.journalChanges()) ?? [];
      const trees = await this.treeIdentities();
      const checkpoint = await this.readCheckpoint(changes.length, trees);
      const folders = new Set<string>();
      for (let at = checkpoint?.changes ?? 0; at < changes.length; at++) {
        folders.add(parentPath(changes[at]!.path));
      }
      return folders.size <= MAX_JOURNAL_FOLDERS && (await this.hasCurrentIndexes(trees));
    } catch {
      // No trees (or no journal) yet: the save writes them.
      return false;
    }
  }

  async update(changes: StateChange[]): Promise<void> {
    if (changes.length === 0) return;
    const journal = this.file(JOURNAL_FILE);
    if (!this.journalChecked) {
      // Once per store: a run records its changes in hundreds of batches.
      await fsp.mkdir(this.dir, { recursive: true });
      await this.dropTornTail(journal);
      this.journalChecked = true;
    }
    let text = '';
    // One `JournalLine` each, as JSON.stringify writes it.
    for (const change of changes) {
      const source = change.source ? recordText(change.source) : 'null';
      const destination = change.destination ? recordText(change.destination) : 'null';
      text += `{"p":${pathText(change.path)},"s":${source},"d":${destination}}\n`;
    }
    // Private like the trees: it names every synced path.
    const handle = await fsp.open(journal, 'a', 0o600);
    try {
      await handle.write(text);
      if (this.options.fsync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Cuts a partial last line left by a crash, so the next append starts on a fresh line. */
  private async dropTornTail(journal: string): Promise<void> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(journal, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return;
      const window = Math.min(size, 1 << 20);
      const buffer = Buffer.alloc(window);
      await handle.read(buffer, 0, window, size - window);
      if (buffer[window - 1] === 0x0a) return;
      const lastNewline = buffer.lastIndexOf(0x0a);
      const keep =
        lastNewline === -1 ? (window === size ? 0 : size - window) : size - window + lastNewline + 1;
      await handle.truncate(keep);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Metadata, checked against the pair; damaged metadata reads as none here, so it does not
   * cost intact trees (`loadMetadata()` still reports it).
   */
  private async metadataOrNullIfCorrupt(): Promise<SyncMetadata | null> {
    try {
      return await this.loadMetadata();
    } catch (error) {
      if (isSyncError(error, 'STATE_CORRUPT')) return null;
      throw error;
    }
  }

  async loadMetadata(): Promise<SyncMetadata | null> {
    const file = this.file(METADATA_FILE);
    const text = await readOptional(file);
    if (text === undefined) return null;
    let record: MetadataRecord;
    try {
      record = JSON.parse(text) as MetadataRecord;
    } catch (error) {
      throw stateCorrupt(file, `${(error as Error).message} (truncated or damaged JSON)`, error);
    }
    if (typeof record !== 'object' || record === null || typeof record.pair_id !== 'string') {
      throw stateCorrupt(file, 'pair_id is missing');
    }
    this.checkPair(record.pair_id);
    const metadata: SyncMetadata = {
      pairId: record.pair_id,
      formatVersion: typeof record.format_version === 'number' ? record.format_version : STATE_FORMAT_VERSION,
      pendingConflicts: (Array.isArray(record.pending_conflicts) ? record.pending_conflicts : []).map(
        (conflict): PendingConflictRecord => ({
          path: conflict.path,
          source: conflict.source ? fromRecord(conflict.path, conflict.source, file) : null,
          destination: conflict.destination ? fromRecord(conflict.path, conflict.destination, file) : null,
          detectedAt: conflict.detected_at,
        }),
      ),
    };
    if (record.source_description !== undefined) metadata.sourceDescription = record.source_description;
    if (record.destination_description !== undefined)
      metadata.destinationDescription = record.destination_description;
    if (record.last_run_at !== undefined) metadata.lastRunAt = record.last_run_at;
    if (record.last_run_status !== undefined) metadata.lastRunStatus = record.last_run_status;
    // A fingerprint that is not whole is no fingerprint: the next run lists both trees.
    if (isTreeFingerprint(record.tree_fingerprint)) metadata.treeFingerprint = record.tree_fingerprint;
    return metadata;
  }

  async saveMetadata(metadata: SyncMetadata): Promise<void> {
    this.checkPair(metadata.pairId);
    const record: MetadataRecord = {
      pair_id: metadata.pairId,
      source_description: metadata.sourceDescription,
      destination_description: metadata.destinationDescription,
      format_version: metadata.formatVersion,
      last_run_at: metadata.lastRunAt,
      last_run_status: metadata.lastRunStatus,
      pending_conflicts: metadata.pendingConflicts.map((conflict) => ({
        path: conflict.path,
        source: conflict.source ? toRecord(conflict.source) : null,
        destination: conflict.destination ? toRecord(conflict.destination) : null,
        detected_at: conflict.detectedAt,
      })),
      tree_fingerprint: metadata.treeFingerprint,
    };
    await fsp.mkdir(this.dir, { recursive: true });
    await this.writeAtomic(METADATA_FILE, `${JSON.stringify(record, null, 2)}\n`);
    await this.syncDir();
  }

  private checkPair(pairId: string): void {
    if (this.options.pairId !== undefined && pairId !== this.options.pairId) {
      throw new SyncError(
        'INVALID_CONFIG',
        `the sync state in ${this.dir} belongs to pair "${pairId}", not "${this.options.pairId}"; use another state folder`,
      );
    }
  }

  private async writeAtomic(name: string, text: string | Iterable<string>): Promise<void> {
    const target = this.file(name);
    const temp = this.file(tempNameFor(name));
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(temp, 'wx', 0o600);
      // writeFile writes all of each chunk (a plain write may stop short), from the current position.
      if (typeof text === 'string') await handle.writeFile(text);
      else for (const chunk of text) await handle.writeFile(chunk);
      if (this.options.fsync !== false) await handle.sync();
      await handle.close();
      handle = undefined;
      await fsp.rename(temp, target);
    } catch (error) {
      await handle?.close().catch(() => {});
      await fsp.rm(temp, { force: true }).catch(() => {});
      throw error;
    }
  }

  /** Makes the renames durable; some file systems cannot fsync a folder, which is fine. */
  private async syncDir(): Promise<void> {
    if (this.options.fsync === false) return;
    try {
      const handle = await fsp.open(this.dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Best effort.
    }
  }
}

/**
 * The records on the lines of `ranges` (each line a direct item of its range's folder), and
 * others of their blocks; null when a line is not where the index says (not between line
 * breaks, not a record, not in that folder): the index is stale.
 */
async function readLines(
  handle: fsp.FileHandle,
  ranges: LineRange[],
  treeBytes: number,
  file: string,
): Promise<Map<string, Entry> | null> {
  const out = new Map<string, Entry>();
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  let first = 0;
  while (first < ranges.length) {
    // One read for ranges close together; a byte more each side, to see the line breaks.
    let last = first + 1;
    let end = ranges[first]!.end;
    while (last < ranges.length && ranges[last]!.start <= end + READ_GAP) {
      end = Math.max(end, ranges[last]!.end);
      last++;
    }
    const blockStart = ranges[first]!.start - 1;
    const blockEnd = end + 1;
    if (blockStart < 0 || blockEnd > treeBytes) return null;
    const buffer = Buffer.allocUnsafe(blockEnd - blockStart);
    for (let done = 0; done < buffer.length; ) {
      const { bytesRead } = await handle.read(buffer, done, buffer.length - done, blockStart + done);
      if (bytesRead === 0) return null;
      done += bytesRead;
    }
    let previous: LineRange | undefined;
    for (let at = first; at < last; at++) {
      const range = ranges[at]!;
      if (previous && previous.start === range.start && previous.end === range.end) {
        if (previous.folder !== range.folder) return null;
        continue;
      }
      previous = range;
      const from = range.start - blockStart;
      const to = range.end - blockStart;
      const after = buffer[to];
      if (to <= from || buffer[from - 1] !== 0x0a || (after !== 0x2c && after !== 0x0a)) return null;
      let lines: Tree;
      try {
        lines = parseTree(Buffer.concat([LINES_OPEN, buffer.subarray(from, to), LINES_CLOSE]), file);
      } catch {
        return null;
      }
      for (const [path, entry] of lines) {
        if (parentPath(path) !== range.folder) return null;
        out.set(path, entry);
      }
    }
    first = last;
  }
  return out;
}

/** Folders a journal may change records in before the next save compacts it (`keepsUpdates`). */
const MAX_JOURNAL_FOLDERS = 64;

/** What `serializeTree` writes before its first line and after its last. */
const LINES_OPEN = Buffer.from('{\n');
const LINES_CLOSE = Buffer.from('\n}\n');

/**
 * Calls `visit` for each record of a tree file in order, with its path, its size where the
 * line tells it without parsing, and a parse of its line. A file laid out other than as
 * `serializeTree` writes it is parsed whole.
 */
function forEachTreeLine(
  text: string,
  file: string,
  visit: (path: string, size: number | undefined, entryOf: () => Entry) => void,
): void {
  if (!text.startsWith('{\n') || !text.endsWith('\n}\n')) {
    for (const [path, entry] of parseTree(text, file)) visit(path, entry.size, () => entry);
    return;
  }
  const end = text.length - 3;
  for (let start = 2; start < end; ) {
    let lineEnd = text.indexOf('\n', start);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const stop = lineEnd < end && text.charCodeAt(lineEnd - 1) === 0x2c ? lineEnd - 1 : lineEnd;
    const line = text.slice(start, stop);
    const parse = (): [string, Entry] => {
      const [only] = parseTree(`{\n${line}\n}\n`, file);
      if (!only) throw stateCorrupt(file, 'a line holds no record');
      return only;
    };
    const colon = line.indexOf('":{');
    const key = colon > 0 ? line.slice(1, colon) : '';
    if (colon <= 0 || key.includes('\\') || line.charCodeAt(0) !== 0x22) {
      const [path, entry] = parse();
      visit(path, entry.size, () => entry);
    } else {
      let size: number | undefined;
      if (line.startsWith('{"size":', colon + 2)) {
        let value = 0;
        let at = colon + 10;
        for (; at < line.length; at++) {
          const code = line.charCodeAt(at);
          if (code < 0x30 || code > 0x39) break;
          value = value * 10 + (code - 0x30);
        }
        if (at > colon + 10 && at - colon - 10 <= 15 && line.charCodeAt(at) === 0x2c) size = value;
      }
      visit(key, size, () => parse()[1]);
    }
    start = lineEnd + 1;
  }
}
