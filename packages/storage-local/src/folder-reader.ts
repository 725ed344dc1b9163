import { promises as fsp, lstatSync, readdirSync, type Stats } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  addItemDigest as addItemDigestFunction,
  ENGINE_DIR,
  formatDigest as formatDigestFunction,
  STATE_DIR_NAME,
  TEMP_MARKER,
} from '@syncengine/engine';
import { decodeFileName, diskName } from './disk-names.js';

/** What a folder's child is, after `lstat`: `Gone` was removed between reading the folder and the stat; `Special` is a socket, FIFO or device. */
export const ChildType = { Gone: 0, File: 1, Folder: 2, Symlink: 3, Special: 4 } as const;

/**
 * One folder's children as read from disk, in the order the file system gave them: names
 * (as on disk; bytes that are not UTF-8 escaped as `decodeFileName` does), their types, and
 * for files and folders `[size, mtimeMs, ino]` at `3 * index` in `numbers`.
 */
export interface RawFolder {
  names: string[];
  types: Uint8Array;
  numbers: Float64Array;
  /** False when a name holds escaped bytes: paths below must go through `diskName`. */
  isPlain: boolean;
  /** The names are in code-unit order already, and each is in NFC (work a worker did). */
  isSortedNfc?: boolean;
  /**
   * The folder's part of the tree digest (`[count, low, high]`, see `tree-digest.ts`), where
   * the reader computed it: names all plain and in NFC, so paths are as entries carry them.
   */
  digest?: number[];
}

/** Reads folders for one listing. `read` rejects with the `fs` error (`code` set) of the folder or of a child. */
export interface FolderReader {
  read(abs: string): Promise<RawFolder>;
  /** A folder the walk will not enter (left out by `include`): nothing below it is read. */
  skip(abs: string): void;
  /** Ends the listing. */
  close(): void;
}

export type FolderReadMode = 'worker' | 'batched-sync' | 'async';

/**
 * A reader for the listing of the tree at `root`. `worker` reads and stats on a shared
 * worker thread that walks the tree ahead of the caller, so the calling thread only turns
 * listings into entries (and two listings, source and destination, run on two threads);
 * `batched-sync` uses synchronous calls on the calling thread, handing the event loop back
 * every `batch` stats; `async` uses promise-based calls only, `batch` at a time.
 */
export function createFolderReader(
  mode: FolderReadMode,
  root: string,
  batch: number,
  readAhead = READ_AHEAD_ENTRIES,
): FolderReader {
  if (mode === 'worker') {
    const worker = nextWorker();
    if (worker) return new WorkerFolderReader(worker, root, batch, readAhead);
  }
  return new InThreadFolderReader(mode === 'async', batch);
}

class InThreadFolderReader implements FolderReader {
  #statsSinceYield = 0;
  constructor(
    private readonly isAsync: boolean,
    private readonly batch: number,
  ) {}

  skip(): void {}

  close(): void {}

  async read(abs: string): Promise<RawFolder> {
    const path = diskName(abs);
    let names = this.isAsync ? await fsp.readdir(path) : readdirSync(path);
    let isPlain = typeof path === 'string';
    // Names are read as text; a folder holding a name that is not valid UTF-8 is read again
    // as bytes, so that name is kept byte-exact (see decodeFileName).
    if (names.some((name) => name.includes('\uFFFD'))) {
      const raw = this.isAsync
        ? await fsp.readdir(path, { encoding: 'buffer' })
        : readdirSync(path, { encoding: 'buffer' });
      names = raw.map(decodeFileName);
      isPlain = false;
    }
    const prefix = abs.endsWith('/') ? abs : `${abs}/`;
    const types = new Uint8Array(names.length);
    const numbers = new Float64Array(names.length * 3);
    const record = (index: number, stats: Stats | undefined) => {
      types[index] = typeOf(stats);
      if (stats) {
        numbers[index * 3] = stats.size;
        numbers[index * 3 + 1] = stats.mtimeMs;
        numbers[index * 3 + 2] = stats.ino;
      }
    };
    const childPath = (name: string) => (isPlain ? prefix + name : diskName(prefix + name));
    for (let start = 0; start < names.length; start += this.batch) {
      const end = Math.min(names.length, start + this.batch);
      if (this.isAsync) {
        const stats = await Promise.all(
          names.slice(start, end).map((name) => fsp.lstat(childPath(name)).catch(orMissing)),
        );
        for (let index = start; index < end; index++) record(index, stats[index - start]);
        continue;
      }
      for (let index = start; index < end; index++) {
        let stats: Stats | undefined;
        try {
          stats = lstatSync(childPath(names[index]!), { throwIfNoEntry: false });
        } catch (error) {
          stats = orMissing(error);
        }
        record(index, stats);
      }
      this.#statsSinceYield += end - start;
      if (this.#statsSinceYield >= this.batch) {
        this.#statsSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return { names, types, numbers, isPlain };
  }
}

function orMissing(error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
}

function typeOf(stats: Stats | undefined): number {
  if (!stats) return ChildType.Gone;
  if (stats.isFile()) return ChildType.File;
  if (stats.isDirectory()) return ChildType.Folder;
  if (stats.isSymbolicLink()) return ChildType.Symlink;
  return ChildType.Special;
}

/**
 * Entries the worker may have read ahead of the walk, per listing, before it waits for the
 * walk to take them: a few megabytes, some hundred milliseconds of reading.
 */
const READ_AHEAD_ENTRIES = 100_000;
/** The walk reports what it took in steps of this many entries, not per folder. */
const CONSUMED_STEP = 2_000;

/** Messages to the folder worker. */
type WorkerRequest =
  | { op: 'open'; listing: number; root: string; readAhead: number; internal: Internal }
  | {
      op: 'compare';
      listing: number;
      root: string;
      skipped: string[];
      expected: Record<string, string>;
      internal: Internal;
      /** Set to non-zero (an Int32 at 0) to stop the walk early. */
      stop: SharedArrayBuffer;
    }
  | { op: 'copy'; listing: number; batch: CopyBatch; tempMarker: string }
  | { op: 'flush'; listing: number }
  | { op: 'read'; listing: number; path: string; again: boolean }
  | { op: 'skip'; listing: number; path: string }
  | { op: 'consumed'; listing: number; entries: number }
  | { op: 'close'; listing: number };

/**
 * The engine's own names, which no listing returns: folders (also never read ahead) and the
 * marker of temporary names (left out of digests).
 */
interface Internal {
  folders: string[];
  tempMarker: string;
}

/**
 * One small file to copy on a worker: its source and target paths on disk below the roots of
 * the batch, and the size and mtime (ms) the plan saw at the source.
 */
export type WorkerCopy = [from: string, to: string, size: number, mtime: number];

/** A batch of copies for a worker: roots, the copies, and their planned sizes' sum. */
export interface CopyBatch {
  fromRoot: string;
  toRoot: string;
  copies: WorkerCopy[];
  bytes: number;
  /** Keep the written files' descriptors for `flush` (else closed at once: no fsync). */
  keepOpen: boolean;
  /** The XXH3 module to hash the copies with (`xxh3-64`); null leaves hashing to the caller. */
  xxh3Module: string | null;
}

/** How one copy ended on the worker (`CopiedFiles.status`). */
export const CopyStatus = { Copied: 0, Failed: 1, Changed: 2, Appeared: 3 } as const;

/**
 * What a worker did of a batch of copies: per copy its status, for those copied the
 * source's `[size, mtimeMs, ino]` as read and the target's as written (at `6 * index` in
 * `numbers`), their `xxh3-64` hashes where the batch asked for them, else the bytes (at
 * `offsets[index]` in `data`), and the `fs` errors of those that failed, by index.
 */
export interface CopiedFiles {
  status: Uint8Array;
  numbers: Float64Array;
  hashes: string[] | null;
  offsets: Float64Array;
  data: Uint8Array | null;
  errors: Record<number, { code?: string; message: string; syscall?: string; path?: string }>;
}

/** What the folder worker read of one folder. */
type WorkerReply = { listing: number; path: string } & (
  | { copied: CopiedFiles }
  | { flushed: true }
  | { names: string[]; types: Uint8Array; numbers: Float64Array; isSortedNfc: boolean; digest?: number[] }
  | { unchanged: boolean | null }
  | { notUtf8: true }
  | { error: { code?: string; message: string; syscall?: string; path?: string } }
);

/** Entries a reply stands for in the read-ahead count (at least one, as the worker counts). */
const sizeOf = (reply: WorkerReply) => ('names' in reply ? Math.max(1, reply.names.length) : 1);

class WorkerFolderReader implements FolderReader {
  readonly #listing: number;
  /** Folders read (ahead) and not yet taken. */
  readonly #read = new Map<string, WorkerReply>();
  readonly #waiting = new Map<string, (reply: WorkerReply) => void>();
  readonly #skipped = new Set<string>();
  readonly #dropped = new Set<string>();
  readonly #fallback: InThreadFolderReader;
  /** Taken entries are reported in steps: at most half the read-ahead, so the worker never stalls. */
  readonly #step: number;
  #consumed = 0;

  constructor(
    private readonly worker: FolderWorker,
    root: string,
    batch: number,
    readAhead: number,
  ) {
    this.#fallback = new InThreadFolderReader(false, batch);
    this.#step = Math.max(1, Math.min(CONSUMED_STEP, Math.floor(readAhead / 2)));
    this.#listing = worker.open(this, root, readAhead);
  }

  /** From the worker: a folder it read, asked for or ahead of the walk. */
  receive(reply: WorkerReply): void {
    const waiting = this.#waiting.get(reply.path);
    if (waiting) {
      this.#waiting.delete(reply.path);
      waiting(reply);
    } else if (this.#isSkipped(reply.path)) this.#drop(reply);
    else this.#read.set(reply.path, reply);
  }

  /** The worker stopped: every folder waited for fails. */
  fail(error: Error): void {
    const failed = { listing: this.#listing, error: { message: error.message } };
    for (const [path, waiting] of this.#waiting) waiting({ ...failed, path });
    this.#waiting.clear();
  }

  async read(abs: string): Promise<RawFolder> {
    // Names with bytes that are not UTF-8 are read on this thread, which keeps their bytes.
    if (typeof diskName(abs) !== 'string') return this.#fallback.read(abs);
    let reply = this.#read.get(abs);
    if (reply) this.#read.delete(abs);
    else {
      this.worker.hold();
      try {
        reply = await new Promise<WorkerReply>((resolve) => {
          this.#waiting.set(abs, resolve);
          this.worker.send({ op: 'read', listing: this.#listing, path: abs, again: this.#dropped.has(abs) });
        });
      } finally {
        this.worker.release();
      }
    }
    this.#take(sizeOf(reply));
    if ('names' in reply) {
      const { names, types, numbers, isSortedNfc, digest } = reply;
      return { names, types, numbers, isPlain: true, isSortedNfc, digest };
    }
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), reply.error);
    return this.#fallback.read(abs);
  }

  skip(abs: string): void {
    this.#skipped.add(abs);
    this.worker.send({ op: 'skip', listing: this.#listing, path: abs });
    // Anything already read below it will never be taken.
    for (const [path, reply] of this.#read) {
      if (!this.#isSkipped(path)) continue;
      this.#read.delete(path);
      this.#drop(reply);
    }
  }

  /** A reply below a skipped folder: counted as taken, and read again should it be asked for. */
  #drop(reply: WorkerReply): void {
    this.#dropped.add(reply.path);
    this.#take(sizeOf(reply));
  }

  #isSkipped(path: string): boolean {
    if (this.#skipped.size === 0) return false;
    for (let at = path.length; at > 0; at = path.lastIndexOf('/', at - 1)) {
      if (this.#skipped.has(path.slice(0, at))) return true;
    }
    return false;
  }

  close(): void {
    this.worker.close(this.#listing);
    this.#read.clear();
  }

  #take(entries: number): void {
    this.#consumed += entries;
    if (this.#consumed < this.#step) return;
    this.worker.send({ op: 'consumed', listing: this.#listing, entries: this.#consumed });
    this.#consumed = 0;
  }
}

/**
 * The body of the folder worker, run from its source text (`eval`), so it needs no module
 * file of its own in the sources, the build or a bundle: it must use nothing from outside
 * but `addItemDigest` and `formatDigest`, whose source texts go with it.
 *
 * For each listing it walks the tree depth first, in the order the walk on the other side
 * takes it (names sorted), reading each folder (names, and after `lstat` each child's type
 * and `[size, mtimeMs, ino]`, and the folder's part of the tree digest) while no more than
 * `readAhead` entries wait to be taken. Folders asked for go first; skipped folders, and
 * the engine's own folders, are not read ahead. A `compare` request walks a whole tree at
 * once against recorded folder digests and answers whether it is unchanged.
 */
function folderWorkerMain(
  addItemDigest: typeof addItemDigestFunction,
  formatDigest: typeof formatDigestFunction,
): void {
  // Built-ins through `process`: a bundler leaves that alone, where it would rewrite `require`.
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  const fs = process.getBuiltinModule('node:fs');
  interface Walk {
    root: string;
    /** Folders to read ahead, the next one last. */
    stack: string[];
    /** Read, asked for or skipped: never read (again) ahead. */
    done: Set<string>;
    skipped: Set<string>;
    waiting: number;
    readAhead: number;
    internal: Internal;
  }
  interface Folder {
    names: string[];
    types: Uint8Array<ArrayBuffer>;
    numbers: Float64Array<ArrayBuffer>;
    isSortedNfc: boolean;
    /** Subfolders to walk, in name order. */
    folders: string[];
  }
  const walks = new Map<number, Walk>();
  const asked: { listing: number; path: string }[] = [];
  let outbox: unknown[] = [];
  let moved: ArrayBuffer[] = [];
  let isScheduled = false;

  const describe = (error: unknown) => {
    const { code, message, syscall, path } = error as NodeJS.ErrnoException;
    return { code, message, syscall, path };
  };
  const isSkipped = (skipped: Set<string>, path: string) => {
    for (let at = path.length; at > 0; at = path.lastIndexOf('/', at - 1)) {
      if (skipped.has(path.slice(0, at))) return true;
    }
    return false;
  };
  /** Reads a folder and `lstat`s its children; null when a name is not UTF-8; throws the `fs` error. */
  const statFolder = (path: string, internal: Internal): Folder | null => {
    const names = fs.readdirSync(path);
    if (names.some((name) => name.includes('\uFFFD'))) return null;
    // In the order the walk takes them, checked for NFC: work the walk's thread is spared.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const isSortedNfc = names.every((name) => name === name.normalize('NFC'));
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const types = new Uint8Array(names.length);
    const numbers = new Float64Array(names.length * 3);
    const folders: string[] = [];
    for (let index = 0; index < names.length; index++) {
      let stats: import('node:fs').Stats | undefined;
      try {
        stats = fs.lstatSync(prefix + names[index], { throwIfNoEntry: false });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
      }
      if (!stats) continue; // 0: gone
      const isDir = stats.isDirectory();
      types[index] = stats.isFile() ? 1 : isDir ? 2 : stats.isSymbolicLink() ? 3 : 4;
      numbers[index * 3] = stats.size;
      numbers[index * 3 + 1] = stats.mtimeMs;
      numbers[index * 3 + 2] = stats.ino;
      if (isDir && !internal.folders.includes(names[index]!)) folders.push(prefix + names[index]);
    }
    return { names, types, numbers, isSortedNfc, folders };
  };
  /** `path` relative to `root` (`''` for the root itself). */
  const relativeTo = (root: string, path: string) =>
    path === root ? '' : path.slice(root.endsWith('/') ? root.length : root.length + 1);
  /** The folder's part of the tree digest, without the engine's own names; none unless all names are NFC. */
  const digestOf = (root: string, path: string, folder: Folder, internal: Internal) => {
    if (!folder.isSortedNfc) return undefined;
    const rel = relativeTo(root, path);
    const relPrefix = rel === '' ? '' : `${rel}/`;
    const sums = [0, 0, 0];
    const { names, types, numbers } = folder;
    for (let index = 0; index < names.length; index++) {
      const name = names[index]!;
      const type = types[index]!;
      if (type === 0 || internal.folders.includes(name)) continue;
      if (name.startsWith('.') && name.includes(internal.tempMarker)) continue;
      const mtime = Math.round(numbers[index * 3 + 1]!);
      const id = String(numbers[index * 3 + 2]);
      addItemDigest(sums, relPrefix + name, type, numbers[index * 3]!, mtime, id, 1);
    }
    return sums;
  };
  /** True for a folder at or below one of the engine's own. */
  const isInternal = (walk: Walk, path: string) => {
    if (path === walk.root) return false;
    const segments = relativeTo(walk.root, path).split('/');
    return segments.some((segment) => walk.internal.folders.includes(segment));
  };
  const readFolder = (listing: number, walk: Walk, path: string) => {
    walk.done.add(path);
    let folder: Folder | null;
    try {
      folder = statFolder(path, walk.internal);
    } catch (error) {
      walk.waiting += 1;
      outbox.push({ listing, path, error: describe(error) });
      return;
    }
    if (!folder) {
      walk.waiting += 1;
      outbox.push({ listing, path, notUtf8: true });
      return;
    }
    const { names, types, numbers, isSortedNfc, folders } = folder;
    const digest = digestOf(walk.root, path, folder, walk.internal);
    walk.waiting += Math.max(1, names.length);
    outbox.push({ listing, path, names, types, numbers, isSortedNfc, digest });
    moved.push(types.buffer, numbers.buffer);
    // Inside the engine's own folders (read when asked, as for the versions area) a listing
    // takes only what it asks for: nothing there is read ahead.
    if (isInternal(walk, path)) return;
    // The walk takes subfolders in name order: the first goes on top.
    for (let index = folders.length - 1; index >= 0; index--) walk.stack.push(folders[index]!);
  };
  /**
   * Whether every folder of the tree below `root` (but those `skipped`) has the digest
   * `expected` holds for it (by path relative to `root`), no folder is missing and none holds
   * a temporary file: stops at the first that differs. Null where a folder's digest cannot be
   * made.
   */
  const isUnchanged = (
    root: string,
    skipped: Set<string>,
    expected: Record<string, string>,
    internal: Internal,
    stop: Int32Array,
  ): boolean | null => {
    let folders = 0;
    const stack = [root];
    for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
      // The caller knows the answer already (the other side of the pair differs).
      if (Atomics.load(stop, 0) !== 0) return null;
      const folder = statFolder(path, internal);
      const digest = folder && digestOf(root, path, folder, internal);
      if (!folder || !digest) return null;
      const rel = relativeTo(root, path);
      const recorded = Object.hasOwn(expected, rel) ? expected[rel] : undefined;
      if (recorded !== formatDigest(digest)) return false;
      // A temporary name left by an interrupted write: a run must find and remove it.
      const { names, types } = folder;
      for (let index = 0; index < names.length; index++) {
        const name = names[index]!;
        if (types[index] === 1 && name.startsWith('.') && name.includes(internal.tempMarker)) return false;
      }
      folders += 1;
      for (const below of folder.folders) if (!isSkipped(skipped, below)) stack.push(below);
    }
    return folders === Object.keys(expected).length;
  };
  /** Descriptors of files copied here, open until a `flush` has made them durable. */
  let unflushed: number[] = [];
  /**
   * Copies small files, each as a local write with `ifAbsent` does it: read whole (one byte
   * past the planned size, then `fstat`), checked against the plan, written under its
   * temporary name with the planned mtime, hard-linked into place (never over anything) and
   * the temporary name removed. The written file's descriptor stays open for `flush`.
   */
  /** Temporary names made here: the marker, a random tag of this worker, and a counter. */
  const tempTag = Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  let tempCounter = 0;
  const tempPathFor = (path: string, tempMarker: string) => {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    // Short enough for 255-byte name limits even when the name is long (as tempNameFor).
    const stem = Buffer.byteLength(name) > 180 ? name.slice(0, 60) : name;
    tempCounter = (tempCounter + 1) % 0x1_0000_0000;
    return `${path.slice(0, slash + 1)}.${stem}${tempMarker}w${tempTag}${tempCounter.toString(16)}`;
  };
  /** The XXH3 hasher, once loaded (false: it could not be). */
  let xxh3: { xxh64(data: Uint8Array): bigint } | false | undefined;
  const hasherFrom = (module: string | null) => {
    if (module === null) return false;
    if (xxh3 === undefined) {
      try {
        xxh3 = process.getBuiltinModule('node:module').createRequire(module)(module).xxh3;
      } catch {
        xxh3 = false;
      }
    }
    return xxh3;
  };
  const copyFiles = (
    { fromRoot, toRoot, copies, bytes, keepOpen, xxh3Module }: CopyBatch,
    tempMarker: string,
  ) => {
    const hasher = hasherFrom(xxh3Module);
    const hashes: string[] | null = hasher ? [] : null;
    const status = new Uint8Array(copies.length);
    const numbers = new Float64Array(copies.length * 6);
    const offsets = new Float64Array(copies.length);
    const data = new Uint8Array(bytes + 1);
    const errors: CopiedFiles['errors'] = {};
    const { constants } = fs;
    const fromPrefix = fromRoot.endsWith('/') ? fromRoot : `${fromRoot}/`;
    const toPrefix = toRoot.endsWith('/') ? toRoot : `${toRoot}/`;
    let offset = 0;
    for (let index = 0; index < copies.length; index++) {
      const [fromRel, toRel, size, mtime] = copies[index]!;
      const from = fromPrefix + fromRel;
      const to = toPrefix + toRel;
      const temp = tempPathFor(to, tempMarker);
      try {
        if (offset + size >= data.length) throw new Error('the copy batch is larger than its bytes');
        const fd = fs.openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        let read: number;
        let stats: import('node:fs').Stats;
        try {
          read = fs.readSync(fd, data, offset, Math.min(size + 1, data.length - offset), 0);
          stats = fs.fstatSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        const isPlanned = stats.size === size && Math.abs(Math.round(stats.mtimeMs) - mtime) < 1;
        if (!stats.isFile() || read !== size || !isPlanned) {
          status[index] = 2;
          continue;
        }
        const out = fs.openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
        let isLinked = false;
        try {
          let written = 0;
          while (written < size) written += fs.writeSync(out, data, offset + written, size - written);
          fs.futimesSync(out, Date.now() / 1000, mtime / 1000);
          const after = fs.fstatSync(out);
          try {
            fs.linkSync(temp, to);
            isLinked = true;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
            status[index] = 3;
            continue;
          }
          if (hashes && hasher) {
            hashes[index] = hasher
              .xxh64(data.subarray(offset, offset + size))
              .toString(16)
              .padStart(16, '0');
          }
          const at = index * 6;
          numbers[at] = size;
          numbers[at + 1] = stats.mtimeMs;
          numbers[at + 2] = stats.ino;
          numbers[at + 3] = after.size;
          numbers[at + 4] = after.mtimeMs;
          numbers[at + 5] = after.ino;
          offsets[index] = offset;
          // Hashed here: the next copy may take the same bytes.
          if (!hashes) offset += size;
        } finally {
          try {
            fs.unlinkSync(temp);
          } catch {
            // Gone already.
          }
          if (isLinked && keepOpen) unflushed.push(out);
          else fs.closeSync(out);
        }
      } catch (error) {
        status[index] = 1;
        errors[index] = describe(error);
      }
    }
    return { status, numbers, hashes, offsets, data: hashes ? null : data, errors };
  };
  /** fdatasyncs and closes the descriptors of every file copied here since the last flush. */
  const flushCopies = async () => {
    const fds = unflushed;
    unflushed = [];
    let failure: unknown;
    await Promise.all(
      fds.map(
        (fd) =>
          new Promise<void>((resolve) =>
            fs.fdatasync(fd, (error) => {
              failure ??= error ?? undefined;
              fs.closeSync(fd);
              resolve();
            }),
          ),
      ),
    );
    if (failure) throw failure;
  };
  const work = () => {
    isScheduled = false;
    const started = Date.now();
    // A few milliseconds at a time, so that requests and skips are seen in between.
    while (Date.now() - started < 4) {
      const request = asked.shift();
      if (request) {
        const walk = walks.get(request.listing);
        if (walk) readFolder(request.listing, walk, request.path);
        continue;
      }
      let didRead = false;
      for (const [listing, walk] of walks) {
        if (walk.waiting >= walk.readAhead) continue;
        const path = walk.stack.pop();
        if (path === undefined) continue;
        if (!walk.done.has(path) && !isSkipped(walk.skipped, path)) readFolder(listing, walk, path);
        didRead = true;
      }
      if (!didRead) break;
    }
    if (outbox.length > 0) {
      parentPort!.postMessage(outbox, moved);
      outbox = [];
      moved = [];
    }
    schedule();
  };
  const schedule = () => {
    const hasWork =
      asked.length > 0 ||
      [...walks.values()].some((walk) => walk.waiting < walk.readAhead && walk.stack.length > 0);
    if (hasWork && !isScheduled) {
      isScheduled = true;
      setImmediate(work);
    }
  };
  parentPort!.on('message', (message: WorkerRequest) => {
    if (message.op === 'copy') {
      const { listing, batch, tempMarker } = message;
      const copied = copyFiles(batch, tempMarker);
      const moving = [copied.status.buffer, copied.numbers.buffer, copied.offsets.buffer];
      if (copied.data) moving.push(copied.data.buffer);
      parentPort!.postMessage([{ listing, path: '', copied }], moving);
      return;
    }
    if (message.op === 'flush') {
      const { listing } = message;
      flushCopies().then(
        () => parentPort!.postMessage([{ listing, path: '', flushed: true }]),
        (error: unknown) => parentPort!.postMessage([{ listing, path: '', error: describe(error) }]),
      );
      return;
    }
    if (message.op === 'compare') {
      const { listing, root } = message;
      try {
        const { skipped, expected, internal, stop } = message;
        const unchanged = isUnchanged(root, new Set(skipped), expected, internal, new Int32Array(stop));
        parentPort!.postMessage([{ listing, path: root, unchanged }]);
      } catch (error) {
        parentPort!.postMessage([{ listing, path: root, error: describe(error) }]);
      }
      return;
    }
    const walk = walks.get(message.listing);
    if (message.op === 'open') {
      walks.set(message.listing, {
        root: message.root,
        stack: [message.root],
        done: new Set(),
        skipped: new Set(),
        waiting: 0,
        readAhead: message.readAhead,
        internal: message.internal,
      });
    } else if (!walk) return;
    else if (message.op === 'read') {
      // Read ahead already (on its way), or read now; `again` when the walk dropped a reply.
      if (message.again || !walk.done.has(message.path)) {
        asked.push({ listing: message.listing, path: message.path });
      }
    } else if (message.op === 'skip') walk.skipped.add(message.path);
    else if (message.op === 'consumed') walk.waiting -= message.entries;
    else if (message.op === 'close') walks.delete(message.listing);
    schedule();
  });
}

/** A folder worker shared by the listings of every `LocalStorage` in the process. */
class FolderWorker {
  readonly #worker: Worker;
  readonly #readers = new Map<number, WorkerFolderReader>();
  readonly #requests = new Map<number, (reply: WorkerReply) => void>();
  #nextListing = 0;
  #holds = 0;
  failed = false;

  constructor() {
    // Transpilers that keep function names (tsx) wrap nested functions in `__name()`.
    const source = `const __name = (target) => target;\n(${folderWorkerMain.toString()})(${addItemDigestFunction.toString()}, ${formatDigestFunction.toString()});`;
    // A small young generation: what a worker allocates (stats, names, copied bytes) dies
    // young, and a large one only adds to the process's footprint.
    this.#worker = new Worker(source, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    // Idle, it must not keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (replies: WorkerReply[]) => {
      for (const reply of replies) {
        const comparison = this.#requests.get(reply.listing);
        if (comparison) {
          this.#requests.delete(reply.listing);
          comparison(reply);
        } else this.#readers.get(reply.listing)?.receive(reply);
      }
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the folder worker stopped (exit code ${code})`)));
  }

  open(reader: WorkerFolderReader, root: string, readAhead: number): number {
    const listing = this.#nextListing++;
    this.#readers.set(listing, reader);
    this.send({ op: 'open', listing, root, readAhead, internal: INTERNAL });
    return listing;
  }

  /** Sends a request that is answered by one reply, keeping the process alive meanwhile. */
  async #ask(request: (listing: number) => WorkerRequest): Promise<WorkerReply> {
    const listing = this.#nextListing++;
    this.hold();
    try {
      const reply = await new Promise<WorkerReply>((resolve) => {
        this.#requests.set(listing, resolve);
        this.send(request(listing));
      });
      if ('error' in reply) throw Object.assign(new Error(reply.error.message), reply.error);
      return reply;
    } finally {
      this.release();
    }
  }

  /** `isFolderTreeUnchanged` on this worker. */
  async compare(
    root: string,
    skipped: string[],
    expected: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<boolean | null> {
    // The walk runs to its end in one go on the worker; an abort reaches it through memory.
    const stop = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.#ask((listing) => ({
        op: 'compare',
        listing,
        root,
        skipped,
        expected,
        internal: INTERNAL,
        stop,
      }));
      return 'unchanged' in reply ? reply.unchanged : null;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.#requests.size;
  }

  /** `copySmallFiles` on this worker; `held` counts the descriptors it keeps for `flush`. */
  async copy(batch: CopyBatch): Promise<CopiedFiles> {
    const reply = await this.#ask((listing) => ({ op: 'copy', listing, batch, tempMarker: TEMP_MARKER }));
    if (!('copied' in reply)) throw new Error('the folder worker did not copy');
    if (batch.keepOpen) this.held += batch.copies.length;
    return reply.copied;
  }

  /** Makes every file this worker copied durable. */
  async flush(): Promise<void> {
    if (this.held === 0) return;
    this.held = 0;
    await this.#ask((listing) => ({ op: 'flush', listing }));
  }

  /** Copied files whose descriptors the worker keeps open until `flush` (an upper bound). */
  held = 0;

  send(request: WorkerRequest): void {
    this.#worker.postMessage(request);
  }

  close(listing: number): void {
    if (this.#readers.delete(listing)) this.send({ op: 'close', listing });
  }

  /**
   * While a listing waits for a folder the worker must keep the process alive (the reply is
   * all that is pending); otherwise it must not.
   */
  hold(): void {
    if (this.#holds++ === 0) this.#worker.ref();
  }

  release(): void {
    if (--this.#holds === 0) this.#worker.unref();
  }

  #fail(error: Error): void {
    this.failed = true;
    for (const reader of this.#readers.values()) reader.fail(error);
    this.#readers.clear();
    for (const [listing, comparison] of this.#requests)
      comparison({ listing, path: '', error: { message: error.message } });
    this.#requests.clear();
  }
}

/** The engine's own names: its folders are never read ahead, and no digest counts them. */
const INTERNAL: Internal = { folders: [ENGINE_DIR, STATE_DIR_NAME], tempMarker: TEMP_MARKER };

/**
 * Whether the tree at `root` (absolute) is as a worker listing saw it that recorded the
 * folder digests `expected` (`RawFolder.digest`, formatted, by path relative to `root`) and
 * left out the folders `skipped` (absolute): one walk on a worker, no entries built, ended at
 * the first folder that differs. Null where it cannot tell (no worker, a name not UTF-8 or
 * not in NFC, stopped by `signal`). Rejects with the `fs` error of a folder.
 */
export async function isFolderTreeUnchanged(
  root: string,
  skipped: string[],
  expected: Record<string, string>,
  signal?: AbortSignal,
): Promise<boolean | null> {
  const worker = nextWorker();
  return worker ? worker.compare(root, skipped, expected, signal) : null;
}

/**
 * Copies small files on a folder worker (see the worker's `copyFiles`). With `keepOpen`,
 * the written files are made durable only by `flushCopiedFiles`. Null where no worker can
 * start.
 */
export async function copySmallFiles(batch: CopyBatch): Promise<CopiedFiles | null> {
  // To the worker with the fewest copies waiting: batches differ in cost.
  let worker: FolderWorker | null = null;
  for (let index = 0; index < WORKERS; index++) {
    const candidate = workerAt(index);
    if (candidate && (!worker || candidate.pending < worker.pending)) worker = candidate;
  }
  return worker ? worker.copy(batch) : null;
}

/** fdatasyncs every file the folder workers copied and have not flushed yet. */
export async function flushCopiedFiles(): Promise<void> {
  await Promise.all(workers.map((worker) => worker?.flush()));
}

/** Descriptors the folder workers keep open for files not flushed yet (an upper bound). */
export function unflushedCopies(): number {
  return workers.reduce((sum, worker) => sum + (worker?.held ?? 0), 0);
}

/** Two workers: the source and the destination of a pair are listed side by side. */
const WORKERS = 2;
const workers: FolderWorker[] = [];
let turn = 0;
let isUnavailable = false;

/**
 * Starts the shared folder workers ahead of their first use, so that their start-up (some
 * tens of milliseconds) overlaps other work. Idle workers do not keep the process alive.
 */
export function startFolderWorkers(): void {
  for (let index = 0; index < WORKERS; index++) workerAt(index);
}

/** The next shared folder worker, started on first use; null where workers cannot start. */
function nextWorker(): FolderWorker | null {
  turn = (turn + 1) % WORKERS;
  return workerAt(turn);
}

function workerAt(index: number): FolderWorker | null {
  if (isUnavailable) return null;
  let worker = workers[index];
  if (!worker || worker.failed) {
    try {
      worker = new FolderWorker();
    } catch {
      isUnavailable = true;
      return null;
    }
    workers[index] = worker;
  }
  return worker;
}
