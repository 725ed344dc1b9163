import { promises as fsp } from 'node:fs';
import nodePath from 'node:path';
import { isSyncError, SyncError } from '../errors.js';
import type { Entry, HashAlgorithm, LastKnownState, Tree } from '../model.js';
import { tempNameFor } from '../paths.js';
import {
  isTreeFingerprint,
  type PendingConflictRecord,
  STATE_FORMAT_VERSION,
  type StateChange,
  type StateStore,
  type SyncMetadata,
  type TreeFingerprint,
} from '../state-store.js';
import { applyStateChanges } from './apply.js';

export const SOURCE_TREE_FILE = 'source_tree.json';
export const DESTINATION_TREE_FILE = 'destination_tree.json';
export const METADATA_FILE = 'sync_metadata.json';
export const JOURNAL_FILE = 'journal.jsonl';

export interface FileStateStoreOptions {
  /**
   * Identity of the pair. When given, a folder holding another pair's state is refused
   * with `INVALID_CONFIG` instead of being used (or overwritten).
   */
  pairId?: string;
  /** fsync every write (default true). Turning it off trades crash safety for speed. */
  fsync?: boolean;
}

/** One tree entry as stored on disk (SPEC §11); the path is the key. */
interface EntryRecord {
  hash?: string;
  hash_algorithm?: string;
  size: number;
  mtime: number;
  is_dir: boolean;
  id?: string;
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

interface JournalLine {
  p: string;
  s: EntryRecord | null;
  d: EntryRecord | null;
}

function toRecord(entry: Entry): EntryRecord {
  const record: EntryRecord = { size: entry.size, mtime: entry.mtime, is_dir: entry.isDir };
  if (entry.hash !== undefined) {
    record.hash = entry.hash;
    if (entry.hashAlgorithm !== undefined) record.hash_algorithm = entry.hashAlgorithm;
  }
  if (entry.id !== undefined) record.id = entry.id;
  return record;
}

/** Text JSON.stringify writes as it is: no quote, backslash, control character or lone surrogate. */
const VERBATIM_JSON_TEXT = /^[ !#-\x5b\x5d-\ud7ff\ue000-\uffff]*$/;

/**
 * `JSON.stringify(toRecord(entry))`, built directly where every string is written verbatim
 * (paths, hashes and ids nearly always are): no record object per entry.
 */
function recordText(entry: Entry): string {
  const { size, mtime, isDir, hash, hashAlgorithm, id } = entry;
  const isPlain =
    Number.isFinite(size) &&
    Number.isFinite(mtime) &&
    (hash === undefined || VERBATIM_JSON_TEXT.test(hash)) &&
    (hashAlgorithm === undefined || VERBATIM_JSON_TEXT.test(hashAlgorithm)) &&
    (id === undefined || VERBATIM_JSON_TEXT.test(id));
  if (!isPlain) return JSON.stringify(toRecord(entry));
  let text = `{"size":${size},"mtime":${mtime},"is_dir":${isDir}`;
  if (hash !== undefined) {
    text += `,"hash":"${hash}"`;
    if (hashAlgorithm !== undefined) text += `,"hash_algorithm":"${hashAlgorithm}"`;
  }
  if (id !== undefined) text += `,"id":"${id}"`;
  return `${text}}`;
}

/** A path as a JSON string. */
const pathText = (path: string) => (VERBATIM_JSON_TEXT.test(path) ? `"${path}"` : JSON.stringify(path));

function corrupt(file: string, why: string, cause?: unknown): SyncError {
  return new SyncError(
    'STATE_CORRUPT',
    `the sync state file ${file} is unreadable: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function fromRecord(path: string, value: unknown, file: string): Entry {
  if (typeof value !== 'object' || value === null)
    throw corrupt(file, `entry for ${JSON.stringify(path)} is not an object`);
  const record = value as Record<string, unknown>;
  if (
    typeof record.size !== 'number' ||
    typeof record.mtime !== 'number' ||
    typeof record.is_dir !== 'boolean'
  ) {
    throw corrupt(file, `entry for ${JSON.stringify(path)} lacks size, mtime or is_dir`);
  }
  const entry: Entry = { path, size: record.size, mtime: record.mtime, isDir: record.is_dir };
  if (typeof record.hash === 'string') entry.hash = record.hash;
  if (typeof record.hash_algorithm === 'string') entry.hashAlgorithm = record.hash_algorithm;
  if (typeof record.id === 'string') entry.id = record.id;
  return entry;
}

/**
 * Serialises a tree as a JSON object, one entry per line (readable, and cheap to build), in
 * chunks of about a megabyte, so a large tree is never held as one string.
 */
function* serializeTree(tree: Tree): Generator<string> {
  if (tree.size === 0) {
    yield '{}\n';
    return;
  }
  let chunk = '{\n';
  let isFirst = true;
  for (const [path, entry] of tree) {
    chunk += `${isFirst ? '' : ',\n'}${pathText(path)}:${recordText(entry)}`;
    isFirst = false;
    if (chunk.length >= SERIALIZE_CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n}\n`;
}

const SERIALIZE_CHUNK = 1 << 20;

/** Text a JSON string holds as it is: no quote, backslash or control character. */
const PLAIN_JSON_TEXT = /^[ !#-\x5b\x5d-\uffff]*$/;
/**
 * The entry of a record written by `toRecord` and `JSON.stringify` with plain strings (no
 * escapes) and integers of at most 15 digits, read from `text` between `start` and `stop`
 * without slicing it up first; null for anything else (the full JSON parse then decides).
 */
function plainRecord(path: string, text: string, start: number, stop: number): Entry | null {
  if (!text.startsWith('{"size":', start)) return null;
  const size = readInteger(text, start + 8, false);
  if (!text.startsWith(',"mtime":', cursor)) return null;
  const mtime = readInteger(text, cursor + 9, true);
  if (Number.isNaN(size) || Number.isNaN(mtime) || !text.startsWith(',"is_dir":', cursor)) return null;
  let at = cursor + 10;
  let isDir: boolean;
  if (text.startsWith('true', at)) {
    isDir = true;
    at += 4;
  } else if (text.startsWith('false', at)) {
    isDir = false;
    at += 5;
  } else return null;
  let hash: string | null = null;
  let algorithm: string | null = null;
  let id: string | null = null;
  if (text.startsWith(',"hash":', at)) {
    hash = readPlainString(text, at + 8, stop);
    if (hash === null) return null;
    at = cursor;
    if (text.startsWith(',"hash_algorithm":', at)) {
      algorithm = readPlainString(text, at + 18, stop);
      if (algorithm === null) return null;
      at = cursor;
    }
  }
  if (text.startsWith(',"id":', at)) {
    id = readPlainString(text, at + 6, stop);
    if (id === null) return null;
    at = cursor;
  }
  if (at !== stop - 1 || text.charCodeAt(at) !== 0x7d) return null;
  // The usual record has every field: one literal keeps them all inside the object.
  if (hash !== null && algorithm !== null && id !== null) {
    return { path, size, mtime, isDir, hash, hashAlgorithm: algorithm as HashAlgorithm, id };
  }
  const entry: Entry = { path, size, mtime, isDir };
  if (hash !== null) entry.hash = hash;
  if (algorithm !== null) entry.hashAlgorithm = algorithm as HashAlgorithm;
  if (id !== null) entry.id = id;
  return entry;
}

/** Where the last `readInteger` or `readPlainString` stopped. */
let cursor = 0;

/** A JSON integer (no leading zero) of at most 15 digits at `at`; NaN otherwise. */
function readInteger(text: string, at: number, allowMinus: boolean): number {
  const isNegative = allowMinus && text.charCodeAt(at) === 0x2d;
  const first = isNegative ? at + 1 : at;
  let index = first;
  let value = 0;
  for (; ; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) break;
    value = value * 10 + (code - 0x30);
  }
  const digits = index - first;
  if (digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 0x30)) return Number.NaN;
  cursor = index;
  return isNegative ? -value : value;
}

/** A JSON string at `at` holding no escape and no control character, before `stop`; null otherwise. */
function readPlainString(text: string, at: number, stop: number): string | null {
  if (text.charCodeAt(at) !== 0x22) return null;
  const close = text.indexOf('"', at + 1);
  if (close === -1 || close >= stop) return null;
  for (let index = at + 1; index < close; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x5c) return null;
  }
  cursor = close + 1;
  return text.slice(at + 1, close);
}

/**
 * Reads a tree in the layout `serializeTree` writes (one `"path":{…}` per line) entry by
 * entry, without building the whole object first; null when the text is laid out any other
 * way or anything in it is off, so the full parse (and its error reporting) decides.
 */
function parseTreeLines(text: string, file: string): Tree | null {
  if (!text.startsWith('{\n') || !text.endsWith('\n}\n')) return null;
  const tree: Tree = new Map();
  const end = text.length - 3;
  let start = 2;
  while (start < end) {
    let lineEnd = text.indexOf('\n', start);
    if (lineEnd === -1 || lineEnd > end) lineEnd = end;
    const isLast = lineEnd === end;
    // Every line but the last ends with the comma that separates it from the next.
    if (!isLast && text.charCodeAt(lineEnd - 1) !== 0x2c) return null;
    const stop = isLast ? lineEnd : lineEnd - 1;
    // The first `":{` closes the key: a quote inside the key is escaped, and a key cut at
    // one is not a JSON string, so it fails to parse below.
    const colon = text.indexOf('":{', start + 1);
    if (
      colon === -1 ||
      colon >= stop ||
      text.charCodeAt(start) !== 0x22 ||
      text.charCodeAt(stop - 1) !== 0x7d
    ) {
      return null;
    }
    try {
      const key = text.slice(start + 1, colon);
      const path: unknown = PLAIN_JSON_TEXT.test(key) ? key : JSON.parse(text.slice(start, colon + 1));
      if (typeof path !== 'string') return null;
      const entry =
        plainRecord(path, text, colon + 2, stop) ??
        fromRecord(path, JSON.parse(text.slice(colon + 2, stop)), file);
      tree.set(path, entry);
    } catch {
      return null;
    }
    start = lineEnd + 1;
  }
  return tree;
}

function parseTree(text: string, file: string): Tree {
  const fast = parseTreeLines(text, file);
  if (fast) return fast;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `${(error as Error).message} (truncated or damaged JSON)`, error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw corrupt(file, 'expected a JSON object of path → entry');
  }
  const tree: Tree = new Map();
  const records = parsed as Record<string, unknown>;
  // for…in over the parsed object: no array of [key, value] pairs for a large tree.
  for (const path in records) tree.set(path, fromRecord(path, records[path], file));
  return tree;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The last-known state in files (SPEC §11), for the library and the CLI:
 *
 * ```
 * <dir>/source_tree.json        path → {hash, hash_algorithm, size, mtime, is_dir, id}
 * <dir>/destination_tree.json   same, for the destination
 * <dir>/sync_metadata.json      pair identity, format version, last run, pending conflicts
 * <dir>/journal.jsonl           per-action changes since the last save (one JSON line each)
 * ```
 *
 * Every file is replaced atomically (temporary name, fsync, rename). `update()` appends to
 * the journal and fsyncs once per batch; `load()` replays it over the trees; `save()`
 * rewrites the trees and drops the journal. A torn last journal line (a crash in the
 * middle of an append) is ignored; any other damage is `STATE_CORRUPT`.
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  private readonly options: FileStateStoreOptions;
  /** Whether the journal's tail has been checked for a torn line since this store opened it. */
  private journalChecked = false;

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
    const [sourceText, destinationText, journalText] = await Promise.all(
      [SOURCE_TREE_FILE, DESTINATION_TREE_FILE, JOURNAL_FILE].map((name) => readOptional(this.file(name))),
    );
    if (sourceText === undefined && destinationText === undefined && journalText === undefined) return null;
    if ((sourceText === undefined) !== (destinationText === undefined)) {
      const missing = sourceText === undefined ? SOURCE_TREE_FILE : DESTINATION_TREE_FILE;
      throw corrupt(this.file(missing), 'the file is missing while its counterpart exists');
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
        throw corrupt(file, `line ${i + 1} is not valid JSON`, error);
      }
      if (typeof parsed?.p !== 'string') throw corrupt(file, `line ${i + 1} has no path`);
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
    await this.writeAtomic(SOURCE_TREE_FILE, serializeTree(state.source));
    await this.writeAtomic(DESTINATION_TREE_FILE, serializeTree(state.destination));
    await fsp.rm(this.file(JOURNAL_FILE), { force: true });
    this.journalChecked = true;
    await this.syncDir();
  }

  /**
   * The journal stays while it is at most a tenth the size of the tree files: a run that
   * changed a few files then costs an append, not a rewrite of two large files, and the
   * next loads replay a short journal (a tenth costs them about a tenth more time). A
   * larger journal is compacted by the next save.
   */
  async keepsUpdates(): Promise<boolean> {
    const sizeOf = (name: string) => fsp.stat(this.file(name)).then((stats) => stats.size);
    try {
      const [source, destination, journal] = await Promise.all(
        [SOURCE_TREE_FILE, DESTINATION_TREE_FILE, JOURNAL_FILE].map(sizeOf),
      );
      return journal! <= Math.min(source!, destination!) / 10;
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
      throw corrupt(file, `${(error as Error).message} (truncated or damaged JSON)`, error);
    }
    if (typeof record !== 'object' || record === null || typeof record.pair_id !== 'string') {
      throw corrupt(file, 'pair_id is missing');
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
