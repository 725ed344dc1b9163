import type { ComparisonMode, Entry, Tree } from '../model.js';
import { compareEntries, hasComparableHashes, isSameMtime } from './compare.js';

/**
 * True when `created` holds the content that `deleted` (a last-known record) held: equal
 * hashes in the same algorithm, or, where hashes cannot be compared, the same backend id
 * with the same size and mtime (a rename keeps both; an edit would not). The two must also
 * be identical under the pair's comparison mode, so that a rename carried out leaves both
 * sides identical by the pair's own rules (an MTIME_ONLY pair never renames a file whose
 * mtime moved).
 */
export function isSameFile(created: Entry, deleted: Entry, mode: ComparisonMode): boolean {
  if (created.isDir || deleted.isDir || created.size !== deleted.size) return false;
  if (compareEntries(created, deleted, mode) === 'different') return false;
  if (hasComparableHashes(created, deleted)) return created.hash === deleted.hash;
  return created.id !== undefined && created.id === deleted.id && isSameMtime(created, deleted);
}

/** A last-known file that is no longer at its path. */
interface Gone {
  path: string;
  entry: Entry;
}

const hashKey = (entry: Entry) => `${entry.hashAlgorithm ?? ''}:${entry.hash}`;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Renames and moves on one side (SPEC §2): a file gone from its last-known path A, and a
 * file at a path B that is not in the last-known state, holding the same content. Only
 * unambiguous pairs count (A matches B alone and B matches A alone); anything else is left
 * to the decision tables as a delete plus a create. Returns A → B.
 */
export function findRenames(current: Tree, record: Tree, mode: ComparisonMode): Map<string, string> {
  const byHash = new Map<string, Gone[]>();
  const byId = new Map<string, Gone[]>();
  for (const [path, entry] of record) {
    if (entry.isDir || current.has(path)) continue;
    if (entry.hash !== undefined) push(byHash, hashKey(entry), { path, entry });
    if (entry.id !== undefined) push(byId, entry.id, { path, entry });
  }
  if (byHash.size === 0 && byId.size === 0) return new Map();

  const candidatesOf = new Map<string, string[]>();
  const matchCount = new Map<string, number>();
  for (const [path, entry] of current) {
    if (entry.isDir || record.has(path)) continue;
    const found = new Set<string>();
    const pool = [
      ...(entry.hash !== undefined ? (byHash.get(hashKey(entry)) ?? []) : []),
      ...(entry.id !== undefined ? (byId.get(entry.id) ?? []) : []),
    ];
    for (const gone of pool) {
      if (isSameFile(entry, gone.entry, mode)) found.add(gone.path);
    }
    if (found.size === 0) continue;
    candidatesOf.set(path, [...found]);
    for (const from of found) matchCount.set(from, (matchCount.get(from) ?? 0) + 1);
  }

  const renames = new Map<string, string>();
  for (const [to, candidates] of candidatesOf) {
    const from = candidates[0]!;
    if (candidates.length === 1 && matchCount.get(from) === 1) renames.set(from, to);
  }
  return renames;
}
