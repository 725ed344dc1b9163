import { promises as fsp } from 'node:fs';
import nodePath from 'node:path';
import { isSyncError, SyncError } from '../errors.js';
import type { LastKnownState } from '../model.js';
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
 * <dir>/source_tree.json        path → {hash, hash_algorithm, size, mtime, is_dir, id, ctime}
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
