import type { HashNeeds, PlanInput } from '../api.js';
import type { ComparisonMode, Entry, Side, Tree } from '../model.js';
import { compareEntries, detectChange, isSameCtime, isSameMtime } from './compare.js';
import { isSameFile } from './renames.js';

/**
 * Gives files without a hash the hash recorded in the last-known state when size and
 * mtime are exactly the same (and the backend id too, where both have one, and the ctime,
 * where the backend has one: see `isSameCtime`), so an unchanged file is never read again
 * (SPEC §5). Mutates `current`'s entries.
 */
export function inheritHashes(current: Tree, lastKnown: Tree | undefined): void {
  if (!lastKnown) return;
  for (const [path, entry] of current) {
    if (entry.isDir || entry.hash !== undefined) continue;
    const record = lastKnown.get(path);
    if (!record || record.isDir || record.hash === undefined) continue;
    if (record.size !== entry.size || record.mtime !== entry.mtime) continue;
    if (entry.id !== undefined && record.id !== undefined && entry.id !== record.id) continue;
    if (!isSameCtime(entry, record)) continue;
    entry.hash = record.hash;
    if (record.hashAlgorithm !== undefined) entry.hashAlgorithm = record.hashAlgorithm;
  }
}

/** True when `entry` lacks a hash, is the size of its file `record`, which has one, and is not its exact metadata (ctime included). */
function isHashToCompare(entry: Entry, record: Entry): boolean {
  return (
    !entry.isDir &&
    !record.isDir &&
    entry.hash === undefined &&
    record.hash !== undefined &&
    entry.size === record.size &&
    (entry.mtime !== record.mtime ||
      (entry.id !== undefined && record.id !== undefined && entry.id !== record.id) ||
      !isSameCtime(entry, record))
  );
}

/** A side's change as far as it can be told without hashing: `unknown` when a hash would decide. */
type Provisional = 'created' | 'unchanged' | 'modified' | 'unknown';

function provisionalChange(entry: Entry, record: Entry | undefined, mode: ComparisonMode): Provisional {
  if (!record) return 'created';
  // HASH_THEN_MTIME where a hash can be had: only the exact metadata of the record (whose hash
  // `inheritHashes` then handed on) vouches for the content; an mtime moved by less than the
  // tolerance, or another id, is a hash to compare.
  if (mode === 'HASH_THEN_MTIME' && isHashToCompare(entry, record)) return 'unknown';
  const comparison = compareEntries(entry, record, mode);
  if (comparison === 'identical') return 'unchanged';
  if (comparison === 'different') return 'modified';
  // Hashing this side helps only when the record has a hash to compare with.
  if (entry.hash === undefined && record.hash !== undefined) return 'unknown';
  return detectChange(entry, record, mode) === 'unchanged' ? 'unchanged' : 'modified';
}

/**
 * Which files need a content hash before `planSync` can decide, per side: only files
 * without one (call `inheritHashes` first). Hashing is expensive, so this asks for as
 * little as it can:
 *
 * - HASH_ONLY: every file (a file without a hash cannot be compared at all);
 * - HASH_THEN_MTIME: a file whose size equals its last-known record's but whose mtime
 *   (or id, or ctime) is not exactly the record's (when the record has a hash): an in-place
 *   edit that set the mtime back still moved the ctime; even within the 2 s
 *   tolerance, a backend that can hash hashes before calling two files identical;
 * - every other mode: both sides of a path that both sides changed (or a first sync found
 *   on both) with equal sizes (under MTIME_ONLY and SIZE_AND_MTIME, only with mtimes more
 *   than 2 s apart);
 * - every mode, with rename detection: a new file whose size equals that of a file gone
 *   from the same side (and whose mtime does too, where the mode compares mtimes), unless
 *   their backend ids already tell (SPEC §2).
 */
export function hashNeeds(input: PlanInput): HashNeeds {
  const { config, lastKnown } = input;
  const trees: Record<Side, Tree> = { source: input.source, destination: input.destination };
  const records: Record<Side, Tree> = {
    source: lastKnown?.source ?? new Map(),
    destination: lastKnown?.destination ?? new Map(),
  };
  const needs: Record<Side, Set<string>> = { source: new Set(), destination: new Set() };
  const mode = config.comparisonMode;
  const lacksHash = (entry: Entry | undefined): entry is Entry =>
    entry !== undefined && !entry.isDir && entry.hash === undefined;

  if (mode === 'HASH_ONLY') {
    for (const side of ['source', 'destination'] as const) {
      for (const [path, entry] of trees[side]) if (lacksHash(entry)) needs[side].add(path);
    }
  } else if (mode === 'HASH_THEN_MTIME') {
    for (const side of ['source', 'destination'] as const) {
      for (const [path, entry] of trees[side]) {
        if (lacksHash(entry) && provisionalChange(entry, records[side].get(path), mode) === 'unknown') {
          needs[side].add(path);
        }
      }
    }
  }
  if (mode !== 'HASH_ONLY') {
    // Both sides of a path that both sides changed (or a first sync found on both) with equal
    // sizes: planSync lets hashes decide there in every mode, so identical content is not a
    // conflict and different content of the same size is not taken for identical. Equal
    // mtimes settle it without hashing, except under SIZE_ONLY, which ignores mtimes.
    for (const [path, source] of trees.source) {
      const destination = trees.destination.get(path);
      if (source.isDir || !destination || destination.isDir) continue;
      if (source.size !== destination.size) continue;
      if (source.hash !== undefined && destination.hash !== undefined) continue;
      // Equal mtimes make two files identical only in the modes that say so; HASH_THEN_MTIME
      // looks at hashes wherever both sides can give one (SPEC §5).
      if ((mode === 'MTIME_ONLY' || mode === 'SIZE_AND_MTIME') && isSameMtime(source, destination)) continue;
      const s = provisionalChange(source, records.source.get(path), mode);
      const d = provisionalChange(destination, records.destination.get(path), mode);
      // planSync compares the two sides only when both changed, or one side is new to the record.
      if ((s === 'unchanged' || d === 'unchanged') && s !== 'created' && d !== 'created') continue;
      if (source.hash === undefined) needs.source.add(path);
      if (destination.hash === undefined) needs.destination.add(path);
    }
  }

  if (config.detectRenames && lastKnown) {
    for (const side of ['source', 'destination'] as const) {
      const goneBySize = new Map<number, Entry[]>();
      for (const [path, record] of records[side]) {
        if (record.isDir || trees[side].has(path)) continue;
        if (record.hash === undefined && record.id === undefined) continue;
        const list = goneBySize.get(record.size);
        if (list) list.push(record);
        else goneBySize.set(record.size, [record]);
      }
      if (goneBySize.size === 0) continue;
      for (const [path, entry] of trees[side]) {
        if (!lacksHash(entry) || records[side].has(path)) continue;
        const gone = goneBySize.get(entry.size);
        if (!gone) continue;
        // Matched by backend id already, or nothing gone could match once hashed.
        if (gone.some((record) => isSameFile(entry, record, mode))) continue;
        const couldMatch = (record: Entry) =>
          record.hash !== undefined && compareEntries(entry, record, mode) !== 'different';
        if (gone.some(couldMatch)) needs[side].add(path);
      }
    }
  }

  return { source: [...needs.source].sort(), destination: [...needs.destination].sort() };
}
