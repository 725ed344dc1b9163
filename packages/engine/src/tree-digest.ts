import type { Entry } from './model.js';

/**
 * Folder digests: for each folder a listing read, an order-independent 64-bit sum over its
 * items (each path with its kind, size, mtime, ctime and id) and their number. A backend that can
 * walk its tree without building entries (`Storage.isUnchangedSince`) tells in one pass
 * whether anything moved since a listing whose digests were recorded, and stops at the first
 * folder that differs; being sums, digests are brought up to date for the paths a run
 * changed without listing again (`TreeDigestSum.replace`).
 *
 * A folder's digest covers every item in it, also items the listing left out of its
 * entries (ignored files, symbolic links, special files), but never the engine's own
 * folders and temporary names. Folders count as items by path and id only: their mtime and
 * ctime move with their contents, which count in their own digest. An item without a ctime
 * (a backend that has none) counts it as 0.
 */

/** What an item in a folder is, for its digest: entries are files or folders. */
export const DigestKind = { File: 1, Folder: 2, Symlink: 3, Special: 4 } as const;

/**
 * Adds the digest of one item to `sums` (`[count, low, high]`, 32-bit lanes that wrap).
 * Self-contained (no imports, no closures): the folder worker runs it from its source text.
 */
export function addItemDigest(
  sums: number[],
  path: string,
  kind: number,
  size: number,
  mtime: number,
  ctime: number,
  id: string,
  sign: number,
): void {
  // Two 32-bit multiplicative hashes over the text, then the numbers, each finished with an
  // avalanche (the mixing of cyrb53), so that any changed field changes about half the bits.
  let h1 = 0xdeadbeef ^ kind;
  let h2 = 0x41c6ce57 ^ kind;
  for (let index = 0; index < path.length; index++) {
    const code = path.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  // A separator no path holds, then the id.
  h1 = Math.imul(h1, 2654435761);
  h2 = Math.imul(h2, 1597334677);
  for (let index = 0; index < id.length; index++) {
    const code = id.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  for (let round = 0; round < 3; round++) {
    const value = kind === 2 ? 0 : round === 0 ? size : round === 1 ? mtime : ctime;
    const low = (value % 4294967296) | 0;
    const high = Math.floor(value / 4294967296) | 0;
    h1 = Math.imul(h1 ^ low, 2654435761);
    h2 = Math.imul(h2 ^ high, 1597334677);
    h1 = Math.imul(h1 ^ high, 1597334677);
    h2 = Math.imul(h2 ^ low, 2654435761);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  sums[0] = (sums[0] ?? 0) + sign;
  sums[1] = ((sums[1] ?? 0) + sign * (h1 >>> 0)) | 0;
  sums[2] = ((sums[2] ?? 0) + sign * (h2 >>> 0)) | 0;
}

/** A running tree digest. */
export class TreeDigestSum {
  readonly sums = [0, 0, 0];

  /** Replaces what one path was (as listed) with what it is now (as recorded); null for none. */
  replace(before: Entry | null | undefined, after: Entry | null | undefined): void {
    if (before) addEntryDigest(this.sums, before, -1);
    if (after) addEntryDigest(this.sums, after, 1);
  }

  /** A digest from its text (`value`); null when it is not one. */
  static parse(value: string): TreeDigestSum | null {
    const match = /^(\d+):([0-9a-f]{8})([0-9a-f]{8})$/.exec(value);
    if (!match) return null;
    const sum = new TreeDigestSum();
    sum.sums[0] = Number(match[1]);
    sum.sums[1] = Number.parseInt(match[2]!, 16) | 0;
    sum.sums[2] = Number.parseInt(match[3]!, 16) | 0;
    return sum;
  }

  /** The digest as text, for the record: count and the two lanes. */
  get value(): string {
    return formatDigest(this.sums);
  }
}

/** A digest as text: count, then the two lanes in hex. Self-contained: the folder worker runs it too. */
export function formatDigest(sums: readonly number[]): string {
  const lane = (value: number) => (value >>> 0).toString(16).padStart(8, '0');
  return `${sums[0]}:${lane(sums[1]!)}${lane(sums[2]!)}`;
}

function addEntryDigest(sums: number[], entry: Entry, sign: number): void {
  const kind = entry.isDir ? DigestKind.Folder : DigestKind.File;
  addItemDigest(sums, entry.path, kind, entry.size, entry.mtime, entry.ctime ?? 0, entry.id ?? '', sign);
}

/** True when two entries of one path count the same in a digest: kind, id, and for files size, mtime and ctime. */
export function isSameDigestItem(a: Entry, b: Entry): boolean {
  return (
    a.isDir === b.isDir &&
    (a.id ?? '') === (b.id ?? '') &&
    (a.isDir || (a.size === b.size && a.mtime === b.mtime && (a.ctime ?? 0) === (b.ctime ?? 0)))
  );
}
