import { promises as fsp, lstatSync, readdirSync, type Stats } from 'node:fs';
import { decodeFileName, diskName } from './disk-names.js';
import type { FolderPool, FolderWorker, ListingReceiver } from './folder-pool.js';
import { CHILD_NUMBERS, ChildType, type FolderReply, fsErrorFrom } from './folder-protocol.js';

export { ChildType } from './folder-protocol.js';

/**
 * One folder's children as read from disk, in the order the file system gave them: names
 * (as on disk; bytes that are not UTF-8 escaped as `decodeFileName` does), their types, and
 * for files and folders `[size, mtimeMs, ino, ctimeMs]` at `CHILD_NUMBERS * index` in `numbers`.
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
 * A reader for the listing of the tree at `root`. `worker` reads and stats on a worker of
 * `pool` that walks the tree ahead of the caller, so the calling thread only turns listings
 * into entries (and two listings, source and destination, run on two threads);
 * `batched-sync` uses synchronous calls on the calling thread, handing the event loop back
 * every `batch` stats; `async` uses promise-based calls only, `batch` at a time.
 */
export function createFolderReader(
  mode: FolderReadMode,
  root: string,
  batch: number,
  pool: FolderPool | null = null,
  readAhead = READ_AHEAD_ENTRIES,
): FolderReader {
  if (mode === 'worker') {
    const worker = pool?.forListing();
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
    const numbers = new Float64Array(names.length * CHILD_NUMBERS);
    const record = (index: number, stats: Stats | undefined) => {
      types[index] = typeOf(stats);
      if (stats) {
        const at = index * CHILD_NUMBERS;
        numbers[at] = stats.size;
        numbers[at + 1] = stats.mtimeMs;
        numbers[at + 2] = stats.ino;
        numbers[at + 3] = stats.ctimeMs;
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

/** Entries a reply stands for in the read-ahead count (at least one, as the worker counts). */
const sizeOf = (reply: FolderReply) => ('names' in reply ? Math.max(1, reply.names.length) : 1);

class WorkerFolderReader implements FolderReader, ListingReceiver {
  readonly #listing: number;
  /** Folders read (ahead) and not yet taken. */
  readonly #read = new Map<string, FolderReply>();
  readonly #waiting = new Map<string, (reply: FolderReply) => void>();
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
  receive(reply: FolderReply): void {
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
        reply = await new Promise<FolderReply>((resolve) => {
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
    if ('error' in reply) throw fsErrorFrom(reply.error);
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
  #drop(reply: FolderReply): void {
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
