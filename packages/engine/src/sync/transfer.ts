import type { Readable } from 'node:stream';
import { changedDuringTransfer, isSyncError, SyncError } from '../errors.js';
import { createHasher, hashBytes } from '../hash.js';
import type { Entry, HashAlgorithm } from '../model.js';
import type { RateLimit } from '../rate-limit.js';
import { hasSmallReads, type Storage, type WriteOptions } from '../storage.js';

/** True when `now` is still the version of a path that `planned` described. */
export function isSameVersion(planned: Entry | null, now: Entry | null): boolean {
  if (!planned || !now) return planned === now;
  if (planned.isDir || now.isDir) return planned.isDir === now.isDir;
  return planned.size === now.size && Math.abs(planned.mtime - now.mtime) < 1;
}

/**
 * The source entry a copy records: `after` (as of after the read), without its ctime where
 * that moved since the plan saw the file. The file was then rewritten after the scan, keeping
 * its size and mtime, perhaps while it was read: the record must not vouch for the bytes
 * copied. A record without a ctime has the next run hash the file again, and copy it again
 * where it differs.
 */
export function recordedSource(planned: Entry, after: Entry): Entry {
  if (after.ctime === undefined || after.ctime === planned.ctime) return after;
  const { ctime: _moved, ...rest } = after;
  return rest;
}

export interface CopyResult {
  /** The source entry the bytes came from, with the hash computed while reading. */
  source: Entry;
  /** The entry as written, with the same hash. */
  written: Entry;
}

export interface CopyOptions {
  /** The entry the plan saw at the source; a different file there now is not copied. */
  planned: Entry;
  /** Algorithm of the hash computed while copying. */
  algorithm: HashAlgorithm;
  /** Write only where nothing is at the target (`WriteOptions.ifAbsent`). */
  ifAbsent?: boolean;
  onProgress?: (bytes: number) => void;
  /** The run's bandwidth limit: each chunk waits for room in it before it is written. */
  rateLimit?: RateLimit;
}

/**
 * Copies one file between (or within) storages: streams it through a hashing step into an
 * atomic `write`. The write is aborted with CHANGED_DURING_TRANSFER (leaving nothing at
 * the target) when the source is no longer the planned version, before or while it is read. After the write, size and (where the target reports one in
 * the same algorithm) hash are checked.
 */
export async function copyFile(
  from: Storage,
  fromPath: string,
  to: Storage,
  toPath: string,
  options: CopyOptions,
): Promise<CopyResult> {
  const { planned } = options;
  const changed = (why: string) => changedDuringTransfer(fromPath, why);
  if (planned.isDir) throw new SyncError('INTERNAL', `${fromPath} is a directory, not a file to copy`);
  if (hasSmallReads(from) && planned.size <= SMALL_COPY) {
    let small: { data: Uint8Array; entry: Entry } | null;
    try {
      small = await from.readSmall(fromPath, SMALL_COPY);
    } catch (error) {
      if (isSyncError(error, 'NOT_FOUND')) throw changed('is gone since it was scanned');
      throw error;
    }
    if (small) return copyBytes(small.data, small.entry, to, toPath, options, changed);
  }
  const hasher = createHasher(options.algorithm);
  let transferred = 0;
  let after: Entry | null = null;
  let input: Readable;
  try {
    input = await from.read(fromPath);
  } catch (error) {
    if (isSyncError(error, 'NOT_FOUND')) throw changed('is gone since it was scanned');
    throw error;
  }
  // The bytes pass through the hasher on their way into the atomic write (no stream objects
  // per file, which a run over many small files would otherwise pile up for the GC).
  async function* hashing(source: Readable): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      const buffer = chunk as Buffer;
      if (options.rateLimit) await options.rateLimit.take(buffer.length);
      hasher.update(buffer);
      transferred += buffer.length;
      options.onProgress?.(transferred);
      yield buffer;
    }
    // The last chance to stop the atomic write: if the file is no longer the version the
    // plan saw (changed before or while it was read), failing here leaves the target
    // untouched. One stat after the read covers both.
    after = await from.stat(fromPath);
    if (transferred !== planned.size || !isSameVersion(planned, after)) {
      throw changed('changed since it was scanned');
    }
  }
  let written: Entry;
  try {
    written = await to.write(toPath, hashing(input), writeOptions(options));
  } finally {
    input.destroy();
  }
  return verified(planned, after ?? planned, written, hasher.digest(), toPath, options.algorithm);
}

/** Files up to this size are copied from one read into memory where the source offers it. */
const SMALL_COPY = 256 * 1024;

/**
 * Copies a small file already read whole (`after`: its entry as of after the read): the
 * version is checked before anything is written, then the bytes go into an atomic `write`.
 */
async function copyBytes(
  data: Uint8Array,
  after: Entry,
  to: Storage,
  toPath: string,
  options: CopyOptions,
  changed: (why: string) => SyncError,
): Promise<CopyResult> {
  const { planned } = options;
  if (data.length !== planned.size || !isSameVersion(planned, after)) {
    throw changed('changed since it was scanned');
  }
  if (options.rateLimit) await options.rateLimit.take(data.length);
  const hash = hashBytes(data, options.algorithm);
  options.onProgress?.(data.length);
  const written = await to.write(toPath, oneChunk(data), writeOptions(options));
  return verified(planned, after, written, hash, toPath, options.algorithm);
}

function writeOptions({ planned, ifAbsent }: CopyOptions): WriteOptions {
  return ifAbsent
    ? { size: planned.size, mtime: planned.mtime, ifAbsent }
    : { size: planned.size, mtime: planned.mtime };
}

function oneChunk(data: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let isDone = false;
      return {
        next: () => {
          if (isDone) return Promise.resolve({ done: true, value: undefined });
          isDone = true;
          return Promise.resolve({ done: false, value: data });
        },
      };
    },
  };
}

/** Checks what was written against the source's size and hash; the copy's two entries. */
function verified(
  planned: Entry,
  before: Entry,
  written: Entry,
  digest: string,
  toPath: string,
  algorithm: HashAlgorithm,
): CopyResult {
  if (written.size !== before.size) {
    throw new SyncError('INTERNAL', `${toPath}: wrote ${written.size} bytes, expected ${before.size}`, {
      path: toPath,
    });
  }
  if (written.hash && written.hashAlgorithm === algorithm && written.hash !== digest) {
    throw new SyncError('INTERNAL', `${toPath}: hash after writing differs from the source's`, {
      path: toPath,
    });
  }
  return {
    source: withHash(recordedSource(planned, before), digest, algorithm),
    // A hash the target reports itself (an S3 ETag) is kept: it is what its listings will show.
    written: written.hash ? written : withHash(written, digest, algorithm),
  };
}

/**
 * A copy of `entry` with a hash. Built field by field: a spread with added fields gives each
 * copy a hidden class of its own in V8, which a run over many files would keep by the
 * hundred thousand.
 */
export function withHash(entry: Entry, hash: string, hashAlgorithm: HashAlgorithm): Entry {
  const { path, size, mtime, isDir, id, ctime } = entry;
  // One literal per shape, so that every field sits in the object itself.
  if (ctime === undefined) {
    return id === undefined
      ? { path, size, mtime, isDir, hash, hashAlgorithm }
      : { path, size, mtime, isDir, hash, hashAlgorithm, id };
  }
  return id === undefined
    ? { path, size, mtime, isDir, hash, hashAlgorithm, ctime }
    : { path, size, mtime, isDir, hash, hashAlgorithm, id, ctime };
}

/** Hash of a file, by the backend where it can, else by reading it. */
export async function hashFile(
  storage: Storage,
  path: string,
  algorithm: HashAlgorithm,
  signal?: AbortSignal,
): Promise<string> {
  if (storage.hash && storage.capabilities.hashAlgorithms.includes(algorithm)) {
    return storage.hash(path, algorithm, { signal });
  }
  const hasher = createHasher(algorithm);
  const stream = await storage.read(path, { signal });
  for await (const chunk of stream) hasher.update(chunk as Buffer);
  return hasher.digest();
}
