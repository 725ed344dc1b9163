import {
  closeSync,
  constants,
  fdatasync,
  promises as fsp,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import nodePath from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import type {
  BatchCopies,
  BatchCopy,
  BatchCopyResult,
  ChunkedListing,
  Entry,
  FolderChanges,
  HashAlgorithm,
  ListingDigest,
  ListOptions,
  LocalFolder,
  SmallReads,
  Storage,
  StorageCapabilities,
  UnchangedCheck,
  WriteOptions,
} from '@syncengine/engine';
import {
  abortIfNeeded,
  changedDuringTransfer,
  createHasher,
  forEachLimited,
  formatDigest,
  hashBytes,
  isEngineInternalPath,
  isSameOrBelow,
  isSyncError,
  joinPath,
  LOCAL_HASH_ALGORITHMS,
  normalizeRelativePath,
  parentPath,
  SyncError,
  tempNameFor,
  XXH3_MODULE,
} from '@syncengine/engine';
import { type AtomicWriteResult, isLinkClash, NO_LINKS, writeFileAtomicSync } from './atomic-write.js';
import { diskName } from './disk-names.js';
import { FolderPool } from './folder-pool.js';
import { CHILD_NUMBERS, ChildType, COPY_NUMBERS, CopyStatus, type WorkerCopy } from './folder-protocol.js';
import { createFolderReader, type FolderReader, type RawFolder } from './folder-reader.js';

export { decodeFileName, diskName } from './disk-names.js';

/** Why `list()` left something out. */
export type LocalSkipReason = 'symlink' | 'special-file' | 'normalization-collision' | 'unreadable';

export interface LocalStorageOptions {
  /**
   * Told about every path `list()` leaves out: symbolic links (never followed), sockets,
   * FIFOs and devices, and a second name that normalises to an already listed path.
   */
  onSkip?: (path: string, reason: LocalSkipReason) => void;
  /** Overrides the detected case sensitivity of the file system. */
  caseSensitive?: boolean;
  /** Create the root folder on the first write or mkdir when it does not exist (default false). */
  createRoot?: boolean;
  /**
   * Make written files and changed folders durable in `flush()` (default true): each written
   * file is fdatasync'ed and each changed folder fsync'ed there, in parallel, rather than one
   * fsync per file as it is written. False skips it (tests, scratch copies). A root on a
   * file system held in memory (tmpfs, ramfs) is never fsync'ed: see `durability`.
   */
  fsync?: boolean;
  /**
   * How `list()` reads folders and stats entries, and how `stat()`, `read()` and `write()` of
   * small files run. `worker` (default) lists on a worker thread of this storage (stopped by
   * `close()`), reading ahead of the walk, with synchronous calls for single files; `batched-sync` lists
   * with synchronous calls on the calling thread (in batches, handing the event loop back
   * between them); both are several times faster on a local disk, where each call takes
   * microseconds. `async` runs promise-based calls only and never blocks a thread, which
   * suits network mounts that may stall.
   */
  statMode?: 'worker' | 'batched-sync' | 'async';
  /** Entries stat'ed per batch on the calling thread (default 64 in `async` mode, 256 otherwise). */
  statConcurrency?: number;
}

const READ_CHUNK = 1 << 20;
/** Files up to this size are read with one call and handed over as a single chunk. */
const SMALL_FILE = 256 * 1024;
/** `statfs` types of file systems held in memory: tmpfs, ramfs. */
const IN_MEMORY_FILE_SYSTEMS = new Set([0x01021994, 0x858458f6]);
/** Written files waiting for `flush()` before a write flushes them itself, bounding memory. */
const MAX_UNFLUSHED = 8192;
const FLUSH_CONCURRENCY = 32;
/** Written small files whose descriptors stay open for `flush()`, before a write flushes itself. */
const MAX_OPEN_UNFLUSHED = 512;
/**
 * Files copied on the folder workers and not flushed yet, before a batch starts a flush round
 * (not waited for: the copies go on while the files are synced).
 */
const COPIES_PER_ROUND = 256;
/**
 * Copied files whose descriptors are open (not flushed yet, or in a round under way), before a
 * batch waits for the rounds under way: well below common limits on open files.
 */
const MAX_OPEN_COPIES = 1024;

/** fdatasyncs a descriptor kept open by a write, then closes it. */
async function syncAndClose(fd: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) =>
      fdatasync(fd, (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a file or folder by path; gone is fine (moved or deleted since), as is a folder that cannot be fsync'ed. */
async function fsyncPath(abs: string, isDir: boolean): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(
      diskName(abs),
      constants.O_RDONLY | (isDir ? constants.O_DIRECTORY : constants.O_NOFOLLOW),
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (isMissing(error) || code === 'ELOOP' || (isDir && (code === 'EISDIR' || code === 'EACCES'))) return;
    throw error;
  }
  try {
    // A file's bytes and size (fdatasync); a folder's entries (fsync). A lost mtime only
    // makes the next run hash the file again.
    if (isDir) await handle.sync();
    else await handle.datasync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!(isDir && (code === 'EINVAL' || code === 'ENOTSUP' || code === 'EBADF'))) throw error;
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * A stream of an open file's bytes that closes the handle. A small file is read at once
 * into one chunk (no stream machinery per read); anything larger, or a file that grew
 * since it was stat'ed, continues with a regular read stream.
 */
async function readSmallFile(handle: FileHandle, size: number): Promise<Readable> {
  if (size > SMALL_FILE) return handle.createReadStream({ highWaterMark: 256 * 1024 });
  const buffer = Buffer.allocUnsafe(size + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled <= size) {
    await handle.close();
    return Readable.from(filled === 0 ? [] : [buffer.subarray(0, filled)], { objectMode: false });
  }
  // It grew: hand over what was read, then the rest.
  const rest = handle.createReadStream({ start: filled, highWaterMark: 256 * 1024 });
  return Readable.from(
    (async function* () {
      yield buffer;
      yield* rest;
    })(),
    { objectMode: false },
  );
}

/** Maps a Node.js file system error to a `SyncError`; anything else is returned unchanged. */
export function mapFsError(error: unknown, path: string): unknown {
  if (isSyncError(error)) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return error;
  const what = (text: string) => `${text}: ${JSON.stringify(path)} (${code})`;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SyncError('NOT_FOUND', what('no such file or directory'), { cause: error, path });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new SyncError('PERMISSION', what('permission denied'), { cause: error, path });
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EISDIR':
      return new SyncError('CONFLICT', what('already exists or is not empty'), { cause: error, path });
    case 'EAGAIN':
    case 'EBUSY':
    case 'EMFILE':
    case 'ENFILE':
    case 'ETIMEDOUT':
    case 'EINTR':
      return new SyncError('TRANSIENT', what('temporarily unavailable'), { cause: error, path });
    case 'ELOOP':
      return new SyncError('INVALID_PATH', what('is a symbolic link, which is not followed'), {
        cause: error,
        path,
      });
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return new SyncError('INVALID_PATH', what('invalid path'), { cause: error, path });
    case 'ENOSPC':
    case 'EDQUOT':
      return new SyncError('INTERNAL', what('no space left on the device'), { cause: error, path });
    default:
      return new SyncError('INTERNAL', what('file system error'), { cause: error, path });
  }
}

/** True for a path on disk that is text (no bytes kept escaped, see `diskName`). */
const isPlainDiskPath = (disk: string) => typeof diskName(disk) === 'string';

/** A time (mtime, ctime) as entries carry it: rounded, as mtimes set through utimes come back with float noise in the sub-ms part. */
const localMtime = (mtimeMs: number) => Math.round(mtimeMs);

/**
 * The entry of a local file or folder; `mtime` and `ctime` as `localMtime` gives them, the
 * inode as id. Folders carry no ctime: it moves with their contents, and is never compared.
 */
function localEntry(
  path: string,
  isDir: boolean,
  size: number,
  mtime: number,
  ino: number,
  ctimeMs: number,
): Entry {
  return isDir
    ? { path, size: 0, mtime, isDir, id: String(ino) }
    : { path, size, mtime, isDir, id: String(ino), ctime: localMtime(ctimeMs) };
}

const notAFileError = (rel: string) =>
  new SyncError('CONFLICT', `${JSON.stringify(rel)} is not a file`, { path: rel });

/** One buffer for small reads on this thread, reused: their bytes are copied out at once. */
let scratch: Buffer | undefined;

function scratchBuffer(size: number): Buffer {
  if (!scratch || scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch;
}

function appearedError(rel: string): SyncError {
  return changedDuringTransfer(rel, 'appeared while it was written', JSON.stringify(rel));
}

/** What a listing leaves out (`onSkip`), in words: `a symbolic link`, `a FIFO`, …; null for a file or folder. */
function skippedKind(stats: Stats): string | null {
  if (stats.isFile() || stats.isDirectory()) return null;
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'a device file';
}

/** A write refused because an entry the sync skips, and so never replaces, is at its path. */
function inTheWay(rel: string, what: string): SyncError {
  return new SyncError(
    'CONFLICT',
    `cannot write ${JSON.stringify(rel)}: ${what} is in the way there, which the sync skips and never replaces; move or remove it`,
    { path: rel },
  );
}

/** After an exclusive write found its path taken: says what is in the way where the listing skipped it. */
function appearedOrInTheWay(rel: string, target: string | Buffer): SyncError {
  let existing: Stats | undefined;
  try {
    existing = lstatSync(target, { throwIfNoEntry: false });
  } catch {
    existing = undefined;
  }
  const skipped = existing && skippedKind(existing);
  return skipped ? inTheWay(rel, skipped) : appearedError(rel);
}

const isMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

async function lstatOrNull(abs: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(diskName(abs));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

function detectCaseSensitive(root: string): boolean {
  const base = nodePath.basename(root);
  const swapped = [...base].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
  if (swapped !== base) {
    try {
      const original = statSync(root);
      try {
        const other = statSync(nodePath.join(nodePath.dirname(root), swapped));
        return !(other.ino === original.ino && other.dev === original.dev);
      } catch {
        return true;
      }
    } catch {
      // The root does not exist yet: fall back to the platform's usual default.
    }
  }
  return !(process.platform === 'darwin' || process.platform === 'win32');
}

/** A listed folder's children, its subfolders (path and path on disk) and the next one the walk enters. */
/** A listing's folder digests as it goes: null once a folder came without one. */
interface DigestInProgress {
  folders: Record<string, string> | null;
  skipped: string[];
}

interface ListedFolder {
  entries: Entry[];
  subfolders: { path: string; disk: string }[];
  next: number;
}

/**
 * A folder on local disk. Symbolic links are never followed (neither listed nor written
 * through), every path stays below the root, and writes are atomic (temp name in the same
 * folder, size check, rename) and made durable in groups by `flush()`, which the engine
 * calls before it records what was written.
 *
 * Folders known to be real folders below the root (listed, made or checked) are cached
 * until the next `list()`, so writing many files into one folder costs no `mkdir` or
 * `realpath` per file.
 *
 * Names are reported NFC-normalised. A name stored on disk in another form (e.g. NFD) is
 * remembered when listed, so `read`, `write`, `stat`, … of the NFC path reach the real file.
 */
export class LocalStorage
  implements Storage, LocalFolder, ChunkedListing, UnchangedCheck, SmallReads, BatchCopies
{
  readonly kind = 'local';
  readonly root: string;
  readonly description: string;
  readonly capabilities: StorageCapabilities;
  private readonly options: LocalStorageOptions;
  private realRoot: string | undefined;
  /** NFC path → path on disk, for listed names whose on-disk form differs. */
  private readonly aliases = new Map<string, string>();
  /**
   * Absolute folders known to exist as real folders below the root (listed, made or checked
   * during this instance's life), so writes need no `mkdir` and paths below them no
   * `realpath`. A folder removed behind the engine's back is noticed when a write into it
   * fails, and then created again.
   */
  readonly #knownDirs = new Set<string>();
  /** Files written and folders changed since the last `flush()`, to be made durable there. */
  #unflushedFiles = new Set<string>();
  /** Descriptors of small files written and renamed into place, kept open until `flush()` syncs them. */
  #unflushedFds: number[] = [];
  #unflushedDirs = new Set<string>();
  /** Hard links work here, so `ifAbsent` writes are put in place with `link` (see `#noHardLinks`). */
  #canLink = true;
  /** A failed fsync; every later `flush()` fails too (Linux reports a lost write only once). */
  #flushError: unknown;
  /** Settles once every flush round started so far has ended (never rejects: see `#flushError`). */
  #flushing: Promise<void> = Promise.resolve();
  /** Copied files whose descriptors a flush round under way is syncing. */
  #syncingCopies = 0;
  /** The folder workers: listings and unchanged-tree checks (`statMode: 'worker'`), batch copies (but `async`). */
  readonly #pool: FolderPool | null;

  constructor(root: string, options: LocalStorageOptions = {}) {
    this.root = nodePath.resolve(root);
    this.description = `local:${this.root}`;
    this.options = options;
    this.capabilities = {
      hashAlgorithms: [...LOCAL_HASH_ALGORITHMS],
      hasListingHashes: false,
      mtimePrecisionMs: 1,
      canSetMtime: true,
      caseSensitive: options.caseSensitive ?? detectCaseSensitive(this.root),
      serverSideMove: true,
      serverSideCopy: false,
      stableIds: true,
      hasDirectories: true,
      walksFolders: true,
      exclusiveWrites: true,
    };
    const mode = options.statMode ?? 'worker';
    // Listings need a worker at once; copies in batches (also without worker listings) may never.
    this.#pool = mode === 'async' ? null : new FolderPool({ start: mode === 'worker' });
  }

  /** The real path of the root; NOT_FOUND when it does not exist (or is not a folder). */
  private async getRealRoot(create = false): Promise<string> {
    if (this.realRoot !== undefined) return this.realRoot;
    if (create && this.options.createRoot) await fsp.mkdir(this.root, { recursive: true });
    let real: string;
    let stats: Stats;
    try {
      real = await fsp.realpath(this.root);
      stats = await fsp.stat(real);
    } catch (error) {
      throw mapFsError(error, this.root);
    }
    if (!stats.isDirectory()) {
      throw new SyncError('NOT_FOUND', `the root ${JSON.stringify(this.root)} is not a folder`, {
        path: this.root,
      });
    }
    // Nothing on a file system in memory survives a power loss: fsync there buys nothing.
    const fileSystem = await fsp.statfs(real).catch(() => null);
    if (fileSystem && IN_MEMORY_FILE_SYSTEMS.has(fileSystem.type)) this.#isInMemory = true;
    this.realRoot = real;
    return real;
  }

  /**
   * How writes are made durable: `fsync` (at each `flush()`), `in-memory` (the root is on a
   * file system in memory such as tmpfs, where nothing survives a power loss, so no fsync is
   * made), or `off` (the `fsync: false` option). Known once the root was first used.
   */
  get durability(): 'fsync' | 'in-memory' | 'off' {
    return this.options.fsync === false ? 'off' : this.#isInMemory ? 'in-memory' : 'fsync';
  }

  #isInMemory = false;

  get #isDurable(): boolean {
    return this.durability === 'fsync';
  }

  /** Creates the root folder (and its parents) when it is missing. */
  async ensureRoot(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
  }

  /** The root folder (`LocalFolder`). */
  get localPath(): string {
    return this.root;
  }

  /** The on-disk relative path for an NFC path. */
  private diskPath(rel: string): string {
    if (this.aliases.size === 0 || rel === '') return rel;
    let disk = '';
    let nfc = '';
    for (const segment of rel.split('/')) {
      nfc = joinPath(nfc, segment);
      disk = this.aliases.get(nfc) ?? joinPath(disk, segment);
    }
    return disk;
  }

  private absolute(disk: string): string {
    return disk === '' ? this.root : nodePath.join(this.root, disk);
  }

  /**
   * Checks that the nearest existing folder at or above `absDir` really lies below the
   * root, so nothing is read or written through a symlinked folder pointing elsewhere.
   */
  private async assertInsideRoot(absDir: string, rel: string): Promise<void> {
    const realRoot = await this.getRealRoot();
    if (this.#knownDirs.has(absDir)) return;
    let probe = absDir;
    while (probe.length > this.root.length) {
      // Below a folder already confirmed: nothing between it and the root can lead outside.
      if (probe !== absDir && this.#knownDirs.has(probe)) return;
      let real: string;
      try {
        real = await fsp.realpath(diskName(probe));
      } catch (error) {
        if (isMissing(error)) {
          probe = nodePath.dirname(probe);
          continue;
        }
        throw mapFsError(error, rel);
      }
      if (real !== realRoot && !real.startsWith(realRoot + nodePath.sep)) {
        throw new SyncError(
          'INVALID_PATH',
          `${JSON.stringify(rel)} leads outside the root through a symlink`,
          {
            path: rel,
          },
        );
      }
      if (probe === absDir) this.#knownDirs.add(absDir);
      return;
    }
  }

  /** Forgets cached folders at or below `absDir` (it was deleted, moved, or found missing). */
  #forgetDirs(absDir: string): void {
    this.#knownDirs.delete(absDir);
    const prefix = absDir + nodePath.sep;
    for (const known of this.#knownDirs) if (known.startsWith(prefix)) this.#knownDirs.delete(known);
  }

  /** Notes a changed file (and its folder) whose durability `flush()` must ensure. */
  #changed(absFile: string | null, absDir: string): void {
    if (!this.#isDurable) return;
    if (absFile !== null) this.#unflushedFiles.add(absFile);
    this.#unflushedDirs.add(absDir);
  }

  /**
   * Makes every file written and every folder changed since the last call durable: each
   * file is fsync'ed (in parallel), then each changed folder once, so the renames that put
   * the files in place survive a power loss. The executor calls this before it records
   * completed actions, so nothing is recorded as synced before its bytes are on disk.
   * Resolves once the rounds that earlier calls (and batch copies) started have ended too.
   */
  async flush(): Promise<void> {
    if (this.#flushError !== undefined) throw this.#flushError;
    await this.#startFlush();
    if (this.#flushError !== undefined) throw this.#flushError;
  }

  /**
   * Starts a flush round of what was written and changed since the last one; the promise
   * settles once it and every earlier round have ended, and never rejects (a failure is kept
   * in `#flushError`).
   */
  #startFlush(): Promise<void> {
    const files = [...this.#unflushedFiles];
    const dirs = [...this.#unflushedDirs];
    const fds = this.#unflushedFds;
    this.#unflushedFiles = new Set();
    this.#unflushedDirs = new Set();
    this.#unflushedFds = [];
    const copies = this.#pool?.unflushed ?? 0;
    this.#syncingCopies += copies;
    const round = (async () => {
      try {
        await this.#pool?.flush();
        await forEachLimited(fds, FLUSH_CONCURRENCY, syncAndClose);
        await forEachLimited(files, FLUSH_CONCURRENCY, (file) => fsyncPath(file, false));
        await forEachLimited(dirs, FLUSH_CONCURRENCY, (dir) => fsyncPath(dir, true));
      } catch (error) {
        this.#flushError ??= mapFsError(error, 'flush');
      } finally {
        this.#syncingCopies -= copies;
      }
    })();
    const flushing = Promise.all([this.#flushing, round]).then(() => undefined);
    this.#flushing = flushing;
    return flushing;
  }

  /**
   * Flushes what is pending, closes the descriptors kept for it and stops the folder workers
   * (a later use starts them again).
   */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.#pool?.close();
    }
  }

  /** Normalises `path` and returns it with its absolute on-disk location, checked for confinement. */
  private async locate(path: string): Promise<{ rel: string; abs: string }> {
    const rel = normalizeRelativePath(path);
    const abs = this.absolute(this.diskPath(rel));
    await this.getRealRoot();
    if (rel.includes('/')) await this.assertInsideRoot(nodePath.dirname(abs), rel);
    return { rel, abs };
  }

  private toEntry(rel: string, stats: Stats): Entry {
    return localEntry(
      rel,
      stats.isDirectory(),
      stats.size,
      localMtime(stats.mtimeMs),
      stats.ino,
      stats.ctimeMs,
    );
  }

  /** Reports a path `list()` leaves out, to the listing's and the constructor's `onSkip`. */
  #skip(options: ListOptions, path: string, reason: LocalSkipReason): void {
    this.options.onSkip?.(path, reason);
    options.onSkip?.(path, reason);
  }

  async *list(options: ListOptions = {}): AsyncIterable<Entry> {
    for await (const chunk of this.listChunks(options)) yield* chunk;
  }

  /**
   * The listing a folder's children at a time. Folders are walked depth first, and a folder
   * is read, and its children filtered (`include`), only when the consumer asks for more
   * after the chunk holding that folder's entry, so it can first load ignore rules the
   * folder holds.
   */
  async *listChunks(options: ListOptions = {}): AsyncIterable<Entry[]> {
    await this.getRealRoot();
    // A new listing is a new look at the disk: folders cached earlier are checked again.
    this.#knownDirs.clear();
    const mode = this.options.statMode ?? 'worker';
    const batch = this.options.statConcurrency ?? (mode === 'async' ? 64 : 256);
    // The reader starts at once (a worker reads ahead), also while `known` is still loading.
    const reader = createFolderReader(mode, this.absolute(''), batch, this.#pool);
    // The digests of the folders read, while every one of them came with one.
    const digest: DigestInProgress | null = options.onDigest ? { folders: {}, skipped: [] } : null;
    try {
      const known = await options.known;
      const root = await this.#readFolder(reader, '', '', options, known, digest);
      if (!root) return;
      if (root.entries.length > 0) yield root.entries;
      const stack: ListedFolder[] = [root];
      while (stack.length > 0) {
        const folder = stack[stack.length - 1]!;
        const subfolder = folder.subfolders[folder.next++];
        if (!subfolder) {
          stack.pop();
          continue;
        }
        const below = await this.#readFolder(reader, subfolder.path, subfolder.disk, options, known, digest);
        if (!below) continue;
        if (below.entries.length > 0) yield below.entries;
        stack.push(below);
      }
      if (digest?.folders) options.onDigest?.({ folders: digest.folders, skipped: digest.skipped });
    } finally {
      reader.close();
    }
  }

  /**
   * A folder's children as entries, sorted by name, without symlinks, special files and what
   * `include` leaves out; null when the folder (other than the root) is gone.
   */
  async #readFolder(
    reader: FolderReader,
    dirRel: string,
    dirDisk: string,
    options: ListOptions,
    known: ReadonlyMap<string, Entry> | undefined,
    digest: DigestInProgress | null,
  ): Promise<ListedFolder | null> {
    abortIfNeeded(options.signal);
    let folder: RawFolder;
    try {
      folder = await reader.read(this.absolute(dirDisk));
    } catch (error) {
      // A folder removed while the tree is walked is simply gone. One that may not be read is
      // reported as such (`unreadable`), so the engine leaves it alone rather than take its
      // contents for deleted; anything else must stop the scan.
      if (dirRel !== '' && isMissing(error)) return null;
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (dirRel !== '' && (code === 'EACCES' || code === 'EPERM')) {
        this.#skip(options, dirRel, 'unreadable');
        // Its contents are unknown: no digest can vouch for the tree.
        if (digest) digest.folders = null;
        return null;
      }
      throw mapFsError(error, dirRel);
    }
    if (digest?.folders) {
      // A defined property, whatever the name (a folder may be called `__proto__`).
      if (folder.digest && dirRel === dirDisk) {
        Object.defineProperty(digest.folders, dirRel, {
          value: formatDigest(folder.digest),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else digest.folders = null;
    }
    const { names, types, numbers } = folder;
    const order = names.map((_, index) => index);
    if (!folder.isSortedNfc)
      order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
    const nfc = folder.isSortedNfc ? names : names.map((name) => name.normalize('NFC'));
    const relPrefix = dirRel === '' ? '' : `${dirRel}/`;
    const diskPrefix = dirDisk === '' ? '' : `${dirDisk}/`;
    const diskOf = (index: number) => diskPrefix + names[index]!;

    // Children in name order, without symlinks and special files. Two names on disk can share
    // one NFC path only where a name is not in NFC: then the one already in NFC is kept.
    const byName = new Map<string, number>();
    const kept: number[] = [];
    const isAllNfc = folder.isSortedNfc || nfc.every((name, index) => name === names[index]);
    for (const index of order) {
      const type = types[index];
      if (type === ChildType.Gone) continue;
      const name = nfc[index]!;
      if (type === ChildType.Symlink || type === ChildType.Special) {
        this.#skip(options, relPrefix + name, type === ChildType.Symlink ? 'symlink' : 'special-file');
        continue;
      }
      if (isAllNfc) {
        kept.push(index);
        continue;
      }
      const previous = byName.get(name);
      if (previous !== undefined) {
        const dropped = name === names[index] && nfc[previous] !== names[previous] ? previous : index;
        this.#skip(options, relPrefix + names[dropped]!, 'normalization-collision');
        if (types[dropped] === ChildType.Folder) reader.skip(this.absolute(diskOf(dropped)));
        if (dropped === index) continue;
      }
      byName.set(name, index);
    }

    const entries: Entry[] = [];
    const subfolders: ListedFolder['subfolders'] = [];
    const isPlainPrefix = relPrefix === diskPrefix;
    for (const index of isAllNfc ? kept : byName.values()) {
      const rel = relPrefix + nfc[index]!;
      const disk = isPlainPrefix && nfc[index] === names[index] ? rel : diskOf(index);
      const isDir = types[index] === ChildType.Folder;
      if (options.include && !options.include(rel, isDir)) {
        if (isDir) {
          reader.skip(this.absolute(disk));
          // The engine's own folders are left out of every digest walk anyway.
          if (!isEngineInternalPath(rel)) digest?.skipped.push(rel);
        }
        continue;
      }
      if (disk !== rel && nfc[index] !== names[index]) this.aliases.set(rel, disk);
      if (isDir) {
        // Reached from the root through real folders only: below the root by construction.
        // Known before its entry is handed out, so reads below it need no `realpath`.
        this.#knownDirs.add(this.absolute(disk));
        subfolders.push({ path: rel, disk });
      }
      const at = index * CHILD_NUMBERS;
      const size = isDir ? 0 : numbers[at]!;
      const mtime = localMtime(numbers[at + 1]!);
      const ino = numbers[at + 2]!;
      const ctimeMs = numbers[at + 3]!;
      const record = isDir ? undefined : known?.get(rel);
      // The record itself, where nothing tells the file from it: also not its ctime, which an
      // in-place edit that set the mtime back still moved (a record without one tells nothing).
      if (
        record !== undefined &&
        !record.isDir &&
        record.size === size &&
        record.mtime === mtime &&
        record.ctime === localMtime(ctimeMs) &&
        record.id !== undefined &&
        Number(record.id) === ino
      ) {
        entries.push(record);
      } else {
        entries.push(localEntry(rel, isDir, size, mtime, ino, ctimeMs));
      }
    }
    return { entries, subfolders, next: 0 };
  }

  /**
   * True when a complete listing now would report `digest` (`ListOptions.onDigest`): one walk
   * on a worker that stats every item, builds no entries and stops at the first folder that
   * differs.
   */
  async isUnchangedSince(digest: ListingDigest, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    abortIfNeeded(options.signal);
    if (!this.#pool || (this.options.statMode ?? 'worker') !== 'worker') return false;
    await this.getRealRoot();
    const skipped = digest.skipped.map((path) => this.absolute(normalizeRelativePath(path)));
    try {
      return (
        (await this.#pool.isTreeUnchanged(this.absolute(''), skipped, digest.folders, options.signal)) ===
        true
      );
    } catch (error) {
      throw mapFsError(error, '');
    }
  }

  /** The folders that differ from `digest`, in one walk on a worker (as `isUnchangedSince`). */
  async changedFoldersSince(
    digest: ListingDigest,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<FolderChanges | null> {
    abortIfNeeded(options.signal);
    if (!this.#pool || (this.options.statMode ?? 'worker') !== 'worker') return null;
    await this.getRealRoot();
    const skipped = digest.skipped.map((path) => this.absolute(normalizeRelativePath(path)));
    try {
      return await this.#pool.changedFolders(
        this.absolute(''),
        skipped,
        digest.folders,
        options.limit,
        options.signal,
      );
    } catch (error) {
      throw mapFsError(error, '');
    }
  }

  async stat(path: string): Promise<Entry | null> {
    const { rel, abs } = await this.locate(path);
    let stats: Stats | null;
    try {
      stats = this.#isSyncMode
        ? (lstatSync(diskName(abs), { throwIfNoEntry: false }) ?? null)
        : await lstatOrNull(abs);
    } catch (error) {
      throw mapFsError(error, rel);
    }
    // Symlinks and special files are not part of the tree (see list()).
    if (!stats || !(stats.isFile() || stats.isDirectory())) return null;
    return this.toEntry(rel, stats);
  }

  /** Opens a regular file for reading without following a symlink at the path itself. */
  private async openFile(rel: string, abs: string): Promise<FileHandle> {
    return (await this.openFileWithStats(rel, abs)).handle;
  }

  private async openFileWithStats(rel: string, abs: string): Promise<{ handle: FileHandle; stats: Stats }> {
    let handle: FileHandle;
    try {
      handle = await fsp.open(diskName(abs), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw mapFsError(error, rel);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw notAFileError(rel);
      return { handle, stats };
    } catch (error) {
      await handle.close().catch(() => {});
      throw mapFsError(error, rel);
    }
  }

  async read(path: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    const { rel, abs } = await this.locate(path);
    abortIfNeeded(options?.signal);
    if (this.#isSyncMode) {
      const small = this.#readSmallSync(rel, abs);
      if (small) return options?.signal ? addAbortSignal(options.signal, small) : small;
    }
    const { handle, stats } = await this.openFileWithStats(rel, abs);
    let stream: Readable;
    try {
      stream = await readSmallFile(handle, stats.size);
    } catch (error) {
      await handle.close().catch(() => {});
      throw mapFsError(error, rel);
    }
    return options?.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async readSmall(
    path: string,
    maxBytes: number,
    options?: { signal?: AbortSignal },
  ): Promise<{ data: Uint8Array; entry: Entry } | null> {
    const { rel, abs } = await this.locate(path);
    abortIfNeeded(options?.signal);
    if (!this.#isSyncMode) return null;
    let fd: number;
    try {
      fd = openSync(diskName(abs), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw mapFsError(error, rel);
    }
    try {
      // Read first, up to one byte past the limit, then stat'ed once: the entry is as of after
      // the read, so a change while reading shows in its size or mtime.
      const limit = Math.min(maxBytes, SMALL_FILE);
      const buffer = scratchBuffer(limit + 1);
      let filled = 0;
      try {
        while (filled < limit + 1) {
          const bytesRead = readSync(fd, buffer, filled, limit + 1 - filled, filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
      } catch (error) {
        // A folder or a FIFO cannot be read like a file: say what is there.
        if (!fstatSync(fd).isFile()) throw notAFileError(rel);
        throw error;
      }
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw notAFileError(rel);
      if (filled > limit) return null;
      return { data: Buffer.from(buffer.subarray(0, filled)), entry: this.toEntry(rel, stats) };
    } catch (error) {
      throw mapFsError(error, rel);
    } finally {
      closeSync(fd);
    }
  }

  get #isSyncMode(): boolean {
    return this.options.statMode !== 'async';
  }

  /**
   * Reads a small regular file with synchronous calls (open without following a symlink,
   * fstat, read, close) into one chunk; null when it is larger than `SMALL_FILE`.
   */
  #readSmallSync(rel: string, abs: string): Readable | null {
    let fd: number;
    try {
      fd = openSync(diskName(abs), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw mapFsError(error, rel);
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw notAFileError(rel);
      if (stats.size > SMALL_FILE) return null;
      const buffer = Buffer.allocUnsafe(stats.size + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      // It grew past the limit since the stat: read it as a stream instead.
      if (filled > stats.size) return null;
      return Readable.from(filled === 0 ? [] : [buffer.subarray(0, filled)], { objectMode: false });
    } catch (error) {
      throw mapFsError(error, rel);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The atomic write of a small file whose bytes are all in memory, with synchronous calls
   * (`writeFileAtomicSync`). Returns the stats of the written file, whose descriptor is kept
   * for `flush()` (it fdatasyncs and closes it: no second open by name).
   */
  #writeSmallSync(rel: string, abs: string, chunks: Buffer[], options: WriteOptions): Stats {
    const isExclusive = options.ifAbsent === true && this.#canLink;
    let written: AtomicWriteResult;
    try {
      written = writeFileAtomicSync(abs, chunks, {
        exclusive: isExclusive,
        mtime: options.mtime,
        keepOpen: this.#isDurable,
        checkTarget: (existing) => this.#checkReplaceable(rel, existing, options),
        onNoLinks: () => {
          this.#canLink = false;
        },
      });
    } catch (error) {
      if (isExclusive && isLinkClash(error)) throw appearedOrInTheWay(rel, diskName(abs));
      throw error;
    }
    if (written.fd !== null) this.#unflushedFds.push(written.fd);
    return written.stats;
  }

  /**
   * Refuses to replace what is at a path: anything but a file, and anything at all when the
   * write is `ifAbsent`.
   */
  #checkReplaceable(rel: string, existing: Stats | null | undefined, options: WriteOptions): void {
    if (!existing) return;
    const skipped = skippedKind(existing);
    if (skipped) throw inTheWay(rel, skipped);
    if (options.ifAbsent) throw appearedError(rel);
    if (!existing.isFile()) throw this.#notAFile(rel, existing);
  }

  /**
   * After a failed `link` of a written temp file into place (an `ifAbsent` write, where `link`
   * fails rather than replace anything that appeared at the path meanwhile): refuses where
   * something did appear, returns where the file system has no hard links (the caller then
   * checks and renames, as for other writes), and rethrows anything else.
   */
  #noHardLinks(rel: string, target: string | Buffer, error: unknown): void {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'EEXIST') throw appearedOrInTheWay(rel, target);
    if (code === undefined || !NO_LINKS.has(code)) throw error;
    this.#canLink = false;
  }

  #notAFile(rel: string, existing: Stats): SyncError {
    const what = existing.isDirectory()
      ? 'a folder'
      : existing.isSymbolicLink()
        ? 'a symbolic link'
        : 'a special file';
    return new SyncError('CONFLICT', `cannot write ${JSON.stringify(rel)}: ${what} is there`, { path: rel });
  }

  /** Creates `absDir` and its parents below the root, refusing to create through an outside symlink. */
  private async ensureDirectory(absDir: string, rel: string): Promise<void> {
    await this.getRealRoot(true);
    if (absDir === this.root || this.#knownDirs.has(absDir)) return;
    await this.assertInsideRoot(absDir, rel);
    let made: string | undefined;
    try {
      made = await fsp.mkdir(diskName(absDir), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' || isMissing(error)) {
        throw new SyncError(
          'CONFLICT',
          `cannot create the folder for ${JSON.stringify(rel)}: a file is in the way`,
          {
            cause: error,
            path: rel,
          },
        );
      }
      throw mapFsError(error, rel);
    }
    if (made !== undefined) {
      // Folders were made between the nearest known one and absDir: note each, and its
      // parent as changed, so flush() makes the new entries durable.
      for (let dir = absDir; dir.length > this.root.length && !this.#knownDirs.has(dir); ) {
        this.#knownDirs.add(dir);
        dir = nodePath.dirname(dir);
        this.#changed(null, dir);
      }
    }
    this.#knownDirs.add(absDir);
  }

  async write(
    path: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<Entry> {
    const rel = normalizeRelativePath(path);
    const abs = this.absolute(this.diskPath(rel));
    const dir = nodePath.dirname(abs);
    await this.ensureDirectory(dir, rel);
    if (this.#isSyncMode && options.size !== undefined && options.size <= SMALL_FILE) {
      return this.#writeSmall(rel, abs, dir, data, options);
    }
    const isExclusive = options.ifAbsent === true && this.#canLink;
    if (!isExclusive) {
      const existing = await lstatOrNull(abs).catch((error: unknown) => {
        throw mapFsError(error, rel);
      });
      this.#checkReplaceable(rel, existing, options);
    }

    const temp = nodePath.join(dir, tempNameFor(nodePath.basename(abs)));
    let handle: FileHandle | undefined;
    let written: Stats;
    try {
      try {
        handle = await fsp.open(diskName(temp), 'wx', 0o666);
      } catch (error) {
        if (!isMissing(error)) throw error;
        // The folder was known, but has been removed since: make it again.
        this.#forgetDirs(dir);
        await this.ensureDirectory(dir, rel);
        handle = await fsp.open(diskName(temp), 'wx', 0o666);
      }
      let size = 0;
      for await (const chunk of data) {
        abortIfNeeded(options.signal);
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        let offset = 0;
        while (offset < buffer.length) {
          const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
          offset += bytesWritten;
        }
        size += buffer.length;
      }
      abortIfNeeded(options.signal);
      if (options.size !== undefined && size !== options.size) {
        throw new SyncError(
          'CHANGED_DURING_TRANSFER',
          `${JSON.stringify(rel)}: expected ${options.size} bytes, received ${size}`,
          { path: rel },
        );
      }
      if (options.mtime !== undefined) await handle.utimes(new Date(), options.mtime / 1000);
      written = await handle.stat();
      if (written.size !== size) {
        throw new SyncError(
          'TRANSIENT',
          `${JSON.stringify(rel)}: wrote ${size} bytes, found ${written.size}`,
          {
            path: rel,
          },
        );
      }
      let isLinked = false;
      if (isExclusive) {
        try {
          await fsp.link(diskName(temp), diskName(abs));
          isLinked = true;
        } catch (error) {
          this.#noHardLinks(rel, diskName(abs), error);
        }
      }
      if (isLinked) await fsp.unlink(diskName(temp)).catch(() => undefined);
      else {
        if (isExclusive) this.#checkReplaceable(rel, await lstatOrNull(abs), options);
        await fsp.rename(diskName(temp), diskName(abs));
      }
      // Once in place: the link or rename (and unlink) moved the ctime, which the next
      // listing compares with the one recorded.
      written = await handle.stat();
      await handle.close();
      handle = undefined;
    } catch (error) {
      await handle?.close().catch(() => {});
      await fsp.rm(diskName(temp), { force: true }).catch(() => {});
      throw mapFsError(error, rel);
    }
    // Durable at the next flush().
    this.#changed(abs, dir);
    if (this.#unflushedFiles.size >= MAX_UNFLUSHED) await this.flush();
    return this.toEntry(rel, written);
  }

  /**
   * A small file (its expected size is known and small): received into memory first, so
   * nothing touches the disk before every byte has arrived and the size is right, then
   * written with synchronous calls.
   */
  async #writeSmall(
    rel: string,
    abs: string,
    dir: string,
    data: Readable | AsyncIterable<Uint8Array>,
    options: WriteOptions,
  ): Promise<Entry> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of data) {
        abortIfNeeded(options.signal);
        const buffer =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        size += buffer.length;
        if (size > (options.size ?? 0)) break;
        chunks.push(buffer);
      }
    } catch (error) {
      throw mapFsError(error, rel);
    }
    abortIfNeeded(options.signal);
    if (size !== options.size) {
      throw new SyncError(
        'CHANGED_DURING_TRANSFER',
        `${JSON.stringify(rel)}: expected ${options.size} bytes, received ${size > (options.size ?? 0) ? 'more' : size}`,
        { path: rel },
      );
    }
    let written: Stats;
    try {
      try {
        written = this.#writeSmallSync(rel, abs, chunks, options);
      } catch (error) {
        if (!isMissing(error)) throw error;
        // The folder was known, but has been removed since: make it again.
        this.#forgetDirs(dir);
        await this.ensureDirectory(dir, rel);
        written = this.#writeSmallSync(rel, abs, chunks, options);
      }
    } catch (error) {
      throw mapFsError(error, rel);
    }
    this.#changed(null, dir);
    if (this.#unflushedFds.length >= MAX_OPEN_UNFLUSHED) await this.flush();
    return this.toEntry(rel, written);
  }

  /**
   * Small new files from another local storage, copied on this storage's folder workers (see
   * `BatchCopies.copyInBatch`): every call there stays off this thread, and two workers copy
   * side by side. Null where that cannot be: another kind of source, asynchronous calls
   * only, or no hard links on this file system.
   */
  async copyInBatch(
    source: Storage,
    copies: readonly BatchCopy[],
    options: { algorithm: HashAlgorithm; signal?: AbortSignal },
  ): Promise<BatchCopyResult[] | null> {
    if (!(source instanceof LocalStorage) || !this.#pool || !source.#isSyncMode || !this.#canLink) {
      return null;
    }
    abortIfNeeded(options.signal);
    await Promise.all([this.getRealRoot(), source.getRealRoot()]);
    const results: BatchCopyResult[] = copies.map(() => null);
    const sent: { index: number; rel: string; fromRel: string; fromDisk: string; dir: string }[] = [];
    const jobs: WorkerCopy[] = [];
    let bytes = 0;
    for (const [index, copy] of copies.entries()) {
      try {
        const fromRel = normalizeRelativePath(copy.from);
        const fromDisk = source.diskPath(fromRel);
        const rel = normalizeRelativePath(copy.to);
        const disk = this.diskPath(rel);
        // Names that are not UTF-8 keep their bytes only on this thread.
        if (!isPlainDiskPath(fromDisk) || !isPlainDiskPath(disk) || copy.planned.size > SMALL_FILE) continue;
        // Normalised relative paths below a resolved root: joined as they are.
        const fromDir = fromDisk.includes('/')
          ? source.root + nodePath.sep + parentPath(fromDisk)
          : source.root;
        if (fromRel.includes('/') && !source.#knownDirs.has(fromDir))
          await source.assertInsideRoot(fromDir, fromRel);
        const dir = disk.includes('/') ? this.root + nodePath.sep + parentPath(disk) : this.root;
        if (dir !== this.root && !this.#knownDirs.has(dir)) await this.ensureDirectory(dir, rel);
        jobs.push([fromDisk, disk, copy.planned.size, copy.planned.mtime]);
        sent.push({ index, rel, fromRel, fromDisk, dir });
        bytes += copy.planned.size;
      } catch (error) {
        results[index] = { error };
      }
    }
    if (jobs.length === 0) return results;
    if (this.#flushError !== undefined) throw this.#flushError;
    // Each copied file's descriptor stays open until a flush round has synced it: rounds start
    // as the copies go on, and a batch waits for them only where too many are open.
    if (this.#pool.unflushed + jobs.length > COPIES_PER_ROUND) void this.#startFlush();
    if (this.#pool.unflushed + this.#syncingCopies + jobs.length > MAX_OPEN_COPIES) await this.#flushing;
    const copied = await this.#pool.copy({
      fromRoot: source.root,
      toRoot: this.root,
      copies: jobs,
      bytes,
      keepOpen: this.#isDurable,
      xxh3Module: options.algorithm === 'xxh3-64' ? XXH3_MODULE : null,
    });
    if (!copied) return null;
    for (const [at, { index, rel, fromRel, fromDisk, dir }] of sent.entries()) {
      const status = copied.status[at];
      if (status === CopyStatus.Copied) {
        const n = copied.numbers;
        const start = copied.offsets[at]!;
        const base = at * COPY_NUMBERS;
        const size = n[base]!;
        const hash =
          copied.hashes?.[at] ??
          (copied.data ? hashBytes(copied.data.subarray(start, start + size), options.algorithm) : null);
        if (hash === null) throw new SyncError('INTERNAL', `the copy of ${rel} came back without its hash`);
        const read = localEntry(fromRel, false, size, localMtime(n[base + 1]!), n[base + 2]!, n[base + 3]!);
        const written = localEntry(
          rel,
          false,
          n[base + 4]!,
          localMtime(n[base + 5]!),
          n[base + 6]!,
          n[base + 7]!,
        );
        read.hash = hash;
        read.hashAlgorithm = options.algorithm;
        written.hash = hash;
        written.hashAlgorithm = options.algorithm;
        results[index] = { source: read, written };
        this.#changed(null, dir);
      } else if (status === CopyStatus.Changed) {
        results[index] = { error: changedDuringTransfer(fromRel, 'changed since it was scanned') };
      } else if (status === CopyStatus.Appeared) {
        results[index] = { error: appearedOrInTheWay(rel, diskName(this.absolute(this.diskPath(rel)))) };
      } else {
        const failure = copied.errors[at] ?? { message: 'the copy failed' };
        const error = Object.assign(new Error(failure.message), failure);
        const isSourceError = failure.path === source.absolute(fromDisk);
        if (failure.code === 'ENOENT' && isSourceError) {
          results[index] = { error: changedDuringTransfer(fromRel, 'is gone since it was scanned') };
        } else if (failure.code === 'ENOENT') {
          // The target's folder was known, but has been removed since: the caller copies
          // this file alone, which makes it again.
          this.#forgetDirs(dir);
        } else if (failure.code !== undefined && NO_LINKS.has(failure.code) && failure.syscall === 'link') {
          this.#canLink = false;
        } else {
          results[index] = { error: mapFsError(error, isSourceError ? fromRel : rel) };
        }
      }
    }
    if (this.#pool.unflushed >= COPIES_PER_ROUND) void this.#startFlush();
    return results;
  }

  async delete(path: string): Promise<void> {
    const { rel, abs } = await this.locate(path);
    try {
      const stats = await lstatOrNull(abs);
      if (!stats) return;
      if (stats.isDirectory()) {
        this.#forgetDirs(abs);
        await fsp.rmdir(diskName(abs));
      } else await fsp.unlink(diskName(abs));
      this.#changed(null, nodePath.dirname(abs));
    } catch (error) {
      if (isMissing(error)) return;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new SyncError('CONFLICT', `folder ${JSON.stringify(rel)} is not empty`, {
          cause: error,
          path: rel,
        });
      }
      throw mapFsError(error, rel);
    }
    this.forgetAliases(rel);
  }

  private forgetAliases(rel: string): void {
    if (this.aliases.size === 0) return;
    for (const key of [...this.aliases.keys()]) if (isSameOrBelow(key, rel)) this.aliases.delete(key);
  }

  async rename(from: string, to: string): Promise<void> {
    const source = await this.locate(from);
    const target = normalizeRelativePath(to);
    const targetDisk = joinPath(
      this.diskPath(target.includes('/') ? target.slice(0, target.lastIndexOf('/')) : ''),
      nodePath.basename(target),
    );
    const targetAbs = this.absolute(targetDisk);
    const sourceStats = await lstatOrNull(source.abs).catch((error: unknown) => {
      throw mapFsError(error, source.rel);
    });
    if (!sourceStats) {
      throw new SyncError('NOT_FOUND', `cannot rename ${JSON.stringify(source.rel)}: it does not exist`, {
        path: source.rel,
      });
    }
    await this.ensureDirectory(nodePath.dirname(targetAbs), target);
    const targetStats = await lstatOrNull(targetAbs).catch((error: unknown) => {
      throw mapFsError(error, target);
    });
    // On a case-insensitive disk, `A` → `a` finds the same file at the target: that is a rename, not a clash.
    const sameFile =
      targetStats && targetStats.ino === sourceStats.ino && targetStats.dev === sourceStats.dev;
    if (targetStats && !sameFile) {
      throw new SyncError(
        'CONFLICT',
        `cannot rename ${JSON.stringify(source.rel)} to ${JSON.stringify(target)}: the target exists`,
        { path: target },
      );
    }
    if (isSameOrBelow(target, source.rel) && target !== source.rel) {
      throw new SyncError('CONFLICT', `cannot move ${JSON.stringify(source.rel)} into itself`, {
        path: target,
      });
    }
    if (sourceStats.isDirectory()) this.#forgetDirs(source.abs);
    try {
      await fsp.rename(diskName(source.abs), diskName(targetAbs));
    } catch (error) {
      throw mapFsError(error, source.rel);
    }
    this.#changed(null, nodePath.dirname(source.abs));
    this.#changed(null, nodePath.dirname(targetAbs));
    this.moveAliases(source.rel, this.diskPath(source.rel), target, targetDisk);
  }

  private moveAliases(from: string, fromDisk: string, to: string, toDisk: string): void {
    if (this.aliases.size === 0) return;
    const moved: [string, string][] = [];
    for (const [key, disk] of this.aliases) {
      if (!isSameOrBelow(key, from)) continue;
      this.aliases.delete(key);
      if (key !== from) moved.push([to + key.slice(from.length), toDisk + disk.slice(fromDisk.length)]);
    }
    for (const [key, disk] of moved) this.aliases.set(key, disk);
  }

  async mkdir(path: string): Promise<void> {
    const rel = normalizeRelativePath(path);
    await this.ensureDirectory(this.absolute(this.diskPath(rel)), rel);
  }

  async hash(path: string, algorithm: HashAlgorithm, options?: { signal?: AbortSignal }): Promise<string> {
    const { rel, abs } = await this.locate(path);
    const hasher = createHasher(algorithm);
    const handle = await this.openFile(rel, abs);
    try {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      for (;;) {
        abortIfNeeded(options?.signal);
        const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, null);
        if (bytesRead === 0) break;
        hasher.update(buffer.subarray(0, bytesRead));
      }
      return hasher.digest();
    } catch (error) {
      throw mapFsError(error, rel);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async setMtime(path: string, mtime: number): Promise<void> {
    const { rel, abs } = await this.locate(path);
    try {
      await fsp.lutimes(diskName(abs), new Date(), mtime / 1000);
    } catch (error) {
      throw mapFsError(error, rel);
    }
  }
}
