import type { Readable } from 'node:stream';
import type { Entry, HashAlgorithm } from './model.js';

/** What a backend can and cannot do, so the engine picks comparisons it can honour. */
export interface StorageCapabilities {
  /** Hash algorithms `hash()` (or `list()`) can give, cheapest first. Empty: no hashes. */
  hashAlgorithms: HashAlgorithm[];
  /** True when `list()` already carries hashes (S3 ETags), so hashing costs nothing. */
  hasListingHashes: boolean;
  /** Granularity of stored mtimes in ms (1 for local disk, 1000 for SFTP); null when mtimes are not kept. */
  mtimePrecisionMs: number | null;
  /** Whether `write()` can set the file's mtime to the one given. */
  canSetMtime: boolean;
  caseSensitive: boolean;
  /** `rename()` is a server-side move (no data re-sent). */
  serverSideMove: boolean;
  /** `copy()` exists and is server-side. */
  serverSideCopy: boolean;
  /** `Entry.id` is stable across renames (inodes, object ids). */
  stableIds: boolean;
  /** Directories exist on their own (false for object stores, where empty folders vanish). */
  hasDirectories: boolean;
  /**
   * `list()` walks folder by folder and asks `include` about a folder only as it is about to
   * enter it, after the consumer took the entries before: rules found on the way (nested
   * `.syncignore` files) can then be loaded as the listing goes.
   */
  walksFolders?: boolean;
  /**
   * `write()` honours `ifAbsent` atomically: nothing that appears at the path meanwhile is
   * ever replaced. The engine then needs no look at the target before it writes a new file.
   */
  exclusiveWrites?: boolean;
}

export interface ListOptions {
  /**
   * Called for each directory before descending into it and for each file; returning
   * false skips it (and everything below a directory) without reading it. Paths are
   * relative to the root. Asked about every file of each folder read, also the temporary
   * files of writes (`tempNameFor`): that is how a run finds what an interrupted one left.
   */
  include?: (path: string, isDir: boolean) => boolean;
  /**
   * Told about each path the listing leaves out although it exists (a symbolic link that is
   * not followed, a socket or device, a name the backend cannot represent), with a short
   * machine-readable reason such as `symlink` or `special-file`. `unreadable`: a folder
   * whose entry was listed but whose contents could not be (permission denied); the engine
   * leaves it alone on both sides rather than take its contents for deleted.
   */
  onSkip?: (path: string, reason: string) => void;
  /**
   * Last-known entries by path, or a promise of them (a backend may start reading before it
   * settles). A backend may hand out the recorded entry itself for a file it finds with the
   * recorded size, mtime, id and, where it reports ctimes, ctime (a record without one never
   * matches), and nothing else to tell, such as a hash, sparing a new object per unchanged
   * file. Entries are never modified in place.
   */
  known?: ReadonlyMap<string, Entry> | PromiseLike<ReadonlyMap<string, Entry> | undefined>;
  /**
   * Called once, after a complete listing, by backends that offer `UnchangedCheck`: the
   * digest of every folder the listing read (see `tree-digest.ts`) and the folders it left
   * out (`include` false). Not called when the backend could not make them.
   */
  onDigest?: (digest: ListingDigest) => void;
  signal?: AbortSignal;
}

/** One file of `BatchCopies.copyInBatch`: its path on both sides and its entry as planned. */
export interface BatchCopy {
  from: string;
  to: string;
  planned: Entry;
}

/** How one file of `BatchCopies.copyInBatch` ended: copied, failed, or left to the caller (null). */
export type BatchCopyResult = { source: Entry; written: Entry } | { error: unknown } | null;

/** A listing's folder digests, and the folders it did not read; by path relative to the root. */
export interface ListingDigest {
  folders: Record<string, string>;
  skipped: string[];
}

export interface WriteOptions {
  /** mtime to set on the written file, where the backend can. */
  mtime?: number;
  /** Expected size; the write fails (and leaves nothing) when a different number of bytes arrives. */
  size?: number;
  /**
   * Only where nothing is at the path: the write fails with CHANGED_DURING_TRANSFER (leaving
   * what is there, and nothing else) when something is. Honoured by backends whose
   * `capabilities.exclusiveWrites` is true.
   */
  ifAbsent?: boolean;
  signal?: AbortSignal;
}

/**
 * One storage backend rooted at a location. Every path is relative to the root,
 * `/`-separated. Implementations must never touch anything outside the root, and must
 * reject paths that are absolute or contain `..` with a `SyncError('INVALID_PATH')`.
 *
 * Errors are `SyncError`s with codes NOT_FOUND, PERMISSION, CONFLICT (already exists /
 * not empty) or TRANSIENT (worth retrying).
 */
export interface Storage {
  /** Backend family: `local`, `memory`, `sftp`, `s3`, `webdav`. */
  readonly kind: string;
  /** Human-readable description of the location, without secrets. */
  readonly description: string;
  readonly capabilities: StorageCapabilities;

  /** Every entry below the root, depth-first, directories before their contents. Never buffers the whole tree. */
  list(options?: ListOptions): AsyncIterable<Entry>;
  /** The entry at `path`, or null when nothing is there. */
  stat(path: string): Promise<Entry | null>;
  /** A stream of the file's bytes. */
  read(path: string, options?: { signal?: AbortSignal }): Promise<Readable>;
  /**
   * Atomically writes a file: bytes go to a temporary name, are checked against
   * `options.size`, then renamed into place, creating parent directories as needed.
   * Returns the entry as stored.
   */
  write(path: string, data: Readable | AsyncIterable<Uint8Array>, options?: WriteOptions): Promise<Entry>;
  /** Deletes a file or an empty directory. Deleting what is already gone is not an error. */
  delete(path: string): Promise<void>;
  /** Moves a file or directory, creating the target's parent directories. Fails with CONFLICT when `to` exists. */
  rename(from: string, to: string): Promise<void>;
  /** Creates a directory and its parents; an existing directory is fine. */
  mkdir(path: string): Promise<void>;
  /** Hash of the file's content in `algorithm` (one of `capabilities.hashAlgorithms`). */
  hash?(path: string, algorithm: HashAlgorithm, options?: { signal?: AbortSignal }): Promise<string>;
  /** Server-side copy, where `capabilities.serverSideCopy`. */
  copy?(from: string, to: string): Promise<void>;
  /** Sets a file's or directory's mtime, where `capabilities.canSetMtime`. */
  setMtime?(path: string, mtime: number): Promise<void>;
  /**
   * Makes everything written, renamed or deleted so far durable (for local disk: fsync of
   * the files written and of the folders changed). The engine calls it before it records
   * completed actions in the state store, so a backend may defer durability of `write()`
   * until then. Backends whose writes are durable when they return need not implement it.
   * After a failed flush, every later flush must fail too.
   */
  flush?(): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/*
 * What a backend can do beyond the `Storage` contract. A backend declares a capability by
 * implementing its interface; the engine asks through the type guards below and uses what is
 * there, without knowing which backend it is.
 */

/** `list()` in chunks. */
export interface ChunkedListing {
  /**
   * `list()` in chunks (a folder's children, say), for backends that read many entries at
   * once: the scan then pays per chunk, not per entry, for the iteration. A folder's contents
   * come only after the chunk holding the folder, and only once the consumer has asked for
   * the next chunk.
   */
  listChunks(options?: ListOptions): AsyncIterable<Entry[]>;
}

/** Tells from a listing's digest (`ListOptions.onDigest`) that nothing changed, without a listing. */
export interface UnchangedCheck {
  /**
   * True when a listing that left out the same folders would now report exactly `digest`
   * (`ListOptions.onDigest`), that is when nothing below the root changed since; found
   * without building entries. False when something changed, a temporary file of an
   * interrupted write lies in the tree (a run must list to remove it), or the backend cannot
   * tell.
   */
  isUnchangedSince(digest: ListingDigest, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * The folders that differ from `digest` (see `FolderChanges`), found as `isUnchangedSince`
   * walks; an empty answer means nothing changed. Null when more than `limit` folders differ,
   * a temporary file lies in the tree, or the backend cannot tell. Optional.
   */
  changedFoldersSince?(
    digest: ListingDigest,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<FolderChanges | null>;
}

/**
 * The folders of a tree that differ from a listing's digest. Every item that changed since
 * (made, removed, or with another kind, size, mtime, ctime or id) lies directly in a
 * `changed` folder or anywhere below a `replaced` one.
 */
export interface FolderChanges {
  /** Recorded folders still there whose digest differs: their direct items changed. */
  changed: string[];
  /** Folders made since (nothing below them was recorded), and recorded folders gone. */
  replaced: string[];
}

/** Reads a small file whole, in one call. */
export interface SmallReads {
  /**
   * The whole content of a small file at once, with its entry as of after the read (so a
   * change while reading shows in the entry), or null when the file is larger than
   * `maxBytes` or the backend cannot read it this way now (then `read()` it). Spares a
   * stream per file where many are small.
   */
  readSmall(
    path: string,
    maxBytes: number,
    options?: { signal?: AbortSignal },
  ): Promise<{ data: Uint8Array; entry: Entry } | null>;
}

/** Copies many small new files from another storage in one call. */
export interface BatchCopies {
  /**
   * Copies many small new files from `source` into this storage in one call, each as
   * `write` with `ifAbsent` would (whole or not at all, never over what is at the target)
   * after reading it as `readSmall` does; a source file that is no longer the planned
   * version is not copied (CHANGED_DURING_TRANSFER). One result per copy, in order: the
   * entries read and written (with their content hash in `algorithm`), the error, or null
   * for a copy the caller must make itself. Null when this storage cannot copy from
   * `source` this way (a backend typically copies only from its own kind).
   */
  copyInBatch(
    source: Storage,
    copies: readonly BatchCopy[],
    options: { algorithm: HashAlgorithm; signal?: AbortSignal },
  ): Promise<BatchCopyResult[] | null>;
}

/** A tree that is a folder on this machine, whose changes the operating system can report. */
export interface LocalFolder {
  /** The folder's absolute path. */
  readonly localPath: string;
}

const hasMethod = (storage: Storage, name: string) =>
  typeof (storage as unknown as Record<string, unknown>)[name] === 'function';

export function hasChunkedListing(storage: Storage): storage is Storage & ChunkedListing {
  return hasMethod(storage, 'listChunks');
}

export function hasUnchangedCheck(storage: Storage): storage is Storage & UnchangedCheck {
  return hasMethod(storage, 'isUnchangedSince');
}

/** True when the backend tells which folders differ from a listing's digest. */
export function hasFolderChanges(
  storage: Storage,
): storage is Storage & UnchangedCheck & Required<Pick<UnchangedCheck, 'changedFoldersSince'>> {
  return hasUnchangedCheck(storage) && hasMethod(storage, 'changedFoldersSince');
}

export function hasSmallReads(storage: Storage): storage is Storage & SmallReads {
  return hasMethod(storage, 'readSmall');
}

export function hasBatchCopies(storage: Storage): storage is Storage & BatchCopies {
  return hasMethod(storage, 'copyInBatch');
}

export function isLocalFolder(storage: Storage): storage is Storage & LocalFolder {
  return typeof (storage as Partial<LocalFolder>).localPath === 'string';
}
