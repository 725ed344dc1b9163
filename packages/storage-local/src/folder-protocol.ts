/**
 * The messages between a local storage and its folder workers (`folder-worker.ts`), and the
 * shapes both sides read: one module imported by both, so neither repeats the other's types.
 */

/** What a folder's child is, after `lstat`: `Gone` was removed between reading the folder and the stat; `Special` is a socket, FIFO or device. */
export const ChildType = { Gone: 0, File: 1, Folder: 2, Symlink: 3, Special: 4 } as const;

/** How one copy of a batch ended (`CopiedFiles.status`). */
export const CopyStatus = { Copied: 0, Failed: 1, Changed: 2, Appeared: 3 } as const;

/** Numbers per child in a folder's `numbers`: `[size, mtimeMs, ino, ctimeMs]`. */
export const CHILD_NUMBERS = 4;

/** Numbers per copy in `CopiedFiles.numbers`: the source's `[size, mtimeMs, ino, ctimeMs]`, then the target's. */
export const COPY_NUMBERS = 2 * CHILD_NUMBERS;

/** A file system error as it crosses threads: what `mapFsError` and the callers look at. */
export interface FsErrorInfo {
  code?: string;
  message: string;
  syscall?: string;
  path?: string;
}

/** The parts of a Node.js file system error that cross threads. */
export function describeFsError(error: unknown): FsErrorInfo {
  const { code, message, syscall, path } = error as NodeJS.ErrnoException;
  return { code, message: String(message), syscall, path };
}

/** An error thrown again on this side of a thread from what the other side described. */
export function fsErrorFrom(info: FsErrorInfo): Error & FsErrorInfo {
  return Object.assign(new Error(info.message), info);
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

/**
 * What a worker did of a batch of copies: per copy its status, for those copied the
 * source's `[size, mtimeMs, ino, ctimeMs]` as read and the target's as written, once in place
 * (at `COPY_NUMBERS * index` in `numbers`), their `xxh3-64` hashes where the batch asked for them, else the bytes (at
 * `offsets[index]` in `data`), and the errors of those that failed, by index.
 */
export interface CopiedFiles {
  status: Uint8Array;
  numbers: Float64Array;
  hashes: string[] | null;
  offsets: Float64Array;
  data: Uint8Array | null;
  errors: Record<number, FsErrorInfo>;
}

/**
 * A request to a folder worker. `listing` names a listing (`open` … `close`) or, for the
 * requests answered by one reply (`compare`, `copy`, `flush`), the request itself.
 */
export type FolderRequest =
  /** Starts walking the tree at `root`, reading ahead at most `readAhead` entries not taken yet. */
  | { op: 'open'; listing: number; root: string; readAhead: number }
  /** Walks the whole tree at `root` against recorded folder digests (`isFolderTreeUnchanged`). */
  | {
      op: 'compare';
      listing: number;
      root: string;
      skipped: string[];
      expected: Record<string, string>;
      /** Where given, the folders that differ are collected, up to this many (`changedFolders`). */
      limit?: number;
      /** Set to non-zero (an Int32 at 0) to stop the walk early. */
      stop: SharedArrayBuffer;
    }
  | { op: 'copy'; listing: number; batch: CopyBatch }
  | { op: 'flush'; listing: number }
  /** A folder the walk wants now; `again` when it dropped the reply read ahead. */
  | { op: 'read'; listing: number; path: string; again: boolean }
  /** A folder the walk will not enter: nothing below it is read ahead. */
  | { op: 'skip'; listing: number; path: string }
  /** Entries the walk took since it last said, so more may be read ahead. */
  | { op: 'consumed'; listing: number; entries: number }
  | { op: 'close'; listing: number };

/** One folder as the worker read it: names sorted by code unit, types and `[size, mtimeMs, ino, ctimeMs]` per child. */
export interface ReadFolder {
  names: string[];
  types: Uint8Array;
  numbers: Float64Array;
  /** Every name is in NFC. */
  isSortedNfc: boolean;
  /** The folder's part of the tree digest (`[count, low, high]`), where all names are NFC. */
  digest?: number[];
}

/** The folders of a tree that differ from recorded folder digests (`UnchangedCheck.changedFoldersSince`). */
export interface FolderChanges {
  /** Recorded folders still there whose direct items changed. */
  changed: string[];
  /** Folders made since (none below them recorded), and recorded folders gone. */
  replaced: string[];
}

/** A reply of a folder worker; replies are posted in arrays. */
export type FolderReply = { listing: number; path: string } & (
  | { copied: CopiedFiles }
  | { flushed: true }
  | ReadFolder
  | { unchanged: boolean | null }
  | { changes: FolderChanges | null }
  /** The folder holds a name that is not UTF-8: read it on the calling thread, which keeps its bytes. */
  | { notUtf8: true }
  | { error: FsErrorInfo }
);
