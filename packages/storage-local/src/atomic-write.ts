import {
  closeSync,
  constants,
  fstatSync,
  futimesSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import nodePath from 'node:path';
import { tempNameFor } from '@syncengine/engine/paths';
import { diskName } from './disk-names.js';

/** `link` errors that mean the file system has no hard links (FAT, some network file systems). */
export const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/** An exclusive write's `link` found something at the target: nothing was written there. */
export function isLinkClash(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return code === 'EEXIST' && syscall === 'link';
}

export interface AtomicWriteOptions {
  /**
   * Never over anything: the file is hard-linked into place, which fails with `EEXIST` when
   * something is at the target, whatever appeared there meanwhile.
   */
  exclusive: boolean;
  /** mtime (ms) to give the file. */
  mtime?: number;
  /** Keep the written file's descriptor open and return it, for a later `fdatasync`; else it is closed. */
  keepOpen: boolean;
  /**
   * Looks at what is at the target before a rename may replace it (before anything is
   * written, for a write that is not exclusive); throws to refuse.
   */
  checkTarget?(existing: Stats | undefined): void;
  /**
   * Where an exclusive write finds the file system without hard links: told, and the file is
   * then put in place as other writes are (`checkTarget`, rename). Without it the `link`
   * error is thrown.
   */
  onNoLinks?(): void;
}

/** The written file as stored, and its open descriptor where `keepOpen` asked for it. */
export interface AtomicWriteResult {
  /** Stat'ed once in place: the ctime is the one the link or rename (and unlink) left. */
  stats: Stats;
  fd: number | null;
}

/**
 * Writes a file whose bytes are all in memory to `path` (absolute, names escaped as
 * `decodeFileName` gives them), atomically, with synchronous calls: into a
 * temporary name in the target's folder (`tempNameFor`), with its mtime, then linked
 * (exclusive) or renamed into place. On failure nothing is left but what was at the target.
 * Every whole-file write of the local backend, on its thread or a folder worker, is this one.
 */
export function writeFileAtomicSync(
  path: string,
  chunks: readonly Uint8Array[],
  options: AtomicWriteOptions,
): AtomicWriteResult {
  const target = diskName(path);
  const lstat = () => lstatSync(target, { throwIfNoEntry: false });
  if (!options.exclusive) options.checkTarget?.(lstat());
  const temp = diskName(nodePath.join(nodePath.dirname(path), tempNameFor(nodePath.basename(path))));
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
  let isInPlace = false;
  try {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
    }
    if (options.mtime !== undefined) futimesSync(fd, Date.now() / 1000, options.mtime / 1000);
    let isLinked = false;
    if (options.exclusive) {
      try {
        linkSync(temp, target);
        isLinked = true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!options.onNoLinks || code === undefined || !NO_LINKS.has(code)) throw error;
        options.onNoLinks();
      }
    }
    if (isLinked) {
      isInPlace = true;
      // Should this fail, the leftover name is a second link to the same file, which scans
      // pass over as an engine temp file.
      removeQuietly(temp);
    } else {
      if (options.exclusive) options.checkTarget?.(lstat());
      renameSync(temp, target);
      isInPlace = true;
    }
    // After the link or rename, which move the ctime: the next listing finds this one.
    const stats = fstatSync(fd);
    if (options.keepOpen) return { stats, fd };
    closeSync(fd);
    return { stats, fd: null };
  } finally {
    if (!isInPlace) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
      removeQuietly(temp);
    }
  }
}

function removeQuietly(path: string | Buffer): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
