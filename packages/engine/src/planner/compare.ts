import type { ComparisonMode, Entry } from '../model.js';

/** Two mtimes closer than this are equal: FAT, SMB and SFTP keep mtimes to the second or two. SPEC §5. */
export const MTIME_TOLERANCE_MS = 2_000;

/** Outcome of comparing two entries; `unknown` means a hash the comparison needs is missing. */
export type Comparison = 'identical' | 'different' | 'unknown';

/** True when the two mtimes are equal within ±2 s. */
export function isSameMtime(a: Entry, b: Entry): boolean {
  return Math.abs(a.mtime - b.mtime) <= MTIME_TOLERANCE_MS;
}

/**
 * True when `entry`'s ctime lets its last-known `record` (of the same path and side) vouch for
 * its content, with the size, mtime and id: the same ctime, or none on `entry` (a backend
 * without ctimes). A record without one where the entry has one (written before states kept
 * ctimes) tells nothing: the file is looked at again, never taken for changed by that alone.
 */
export function isSameCtime(entry: Entry, record: Entry): boolean {
  return entry.ctime === undefined || entry.ctime === record.ctime;
}

/** True when `a` was modified more than 2 s after `b`. */
export function isNewer(a: Entry, b: Entry): boolean {
  return a.mtime - b.mtime > MTIME_TOLERANCE_MS;
}

/** True when both entries carry a hash in the same algorithm, the only case where hashes may be compared. */
export function hasComparableHashes(a: Entry, b: Entry): boolean {
  return a.hash !== undefined && b.hash !== undefined && a.hashAlgorithm === b.hashAlgorithm;
}

/**
 * Whether two entries hold the same content under a comparison mode (SPEC §5). Works for
 * an entry and its last-known record as well as for the two sides of a pair.
 *
 * - two directories are identical; a file and a directory are different;
 * - HASH_THEN_MTIME: sizes equal and (hashes equal, or mtimes equal ±2 s where a hash is
 *   missing); `unknown` when sizes are equal, mtimes differ and a hash is missing;
 * - SIZE_ONLY: sizes equal; MTIME_ONLY: mtimes equal ±2 s; SIZE_AND_MTIME: both;
 * - HASH_ONLY: hashes equal; `unknown` when either hash is missing (or algorithms differ).
 */
export function compareEntries(a: Entry, b: Entry, mode: ComparisonMode): Comparison {
  if (a.isDir || b.isDir) return a.isDir === b.isDir ? 'identical' : 'different';
  switch (mode) {
    case 'HASH_THEN_MTIME':
      if (a.size !== b.size) return 'different';
      if (hasComparableHashes(a, b)) return a.hash === b.hash ? 'identical' : 'different';
      return isSameMtime(a, b) ? 'identical' : 'unknown';
    case 'SIZE_ONLY':
      return a.size === b.size ? 'identical' : 'different';
    case 'HASH_ONLY':
      if (!hasComparableHashes(a, b)) return 'unknown';
      return a.hash === b.hash ? 'identical' : 'different';
    case 'MTIME_ONLY':
      return isSameMtime(a, b) ? 'identical' : 'different';
    case 'SIZE_AND_MTIME':
      return a.size === b.size && isSameMtime(a, b) ? 'identical' : 'different';
  }
}

/**
 * Compares where a decision must be taken now: `unknown` counts as different. That is the
 * SPEC's rule for HASH_THEN_MTIME (no hash: mtimes decide); HASH_ONLY never gets here with
 * a missing hash on a current entry (`assertHashesAvailable`).
 */
export function isIdentical(a: Entry, b: Entry, mode: ComparisonMode): boolean {
  return compareEntries(a, b, mode) === 'identical';
}

/** A side's change of one path against its last-known record. SPEC §2 (renames are found separately). */
export type Change = 'absent' | 'created' | 'unchanged' | 'modified' | 'deleted';

/**
 * Classifies `current` against its last-known `record`. A record without a usable hash
 * (kept by an earlier run under another mode, or from another algorithm) falls back to
 * size and mtime, so a missing hash in the record never reads as a change by itself.
 */
export function detectChange(
  current: Entry | undefined,
  record: Entry | undefined,
  mode: ComparisonMode,
): Change {
  if (!record) return current ? 'created' : 'absent';
  if (!current) return 'deleted';
  const comparison = compareEntries(current, record, mode);
  if (comparison !== 'unknown') return comparison === 'identical' ? 'unchanged' : 'modified';
  return compareEntries(current, record, 'SIZE_AND_MTIME') === 'identical' ? 'unchanged' : 'modified';
}
