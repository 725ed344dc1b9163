import type { Side, Tree } from '../model.js';

/** `20261126T042800Z` for a millisecond timestamp. */
function compactUtc(timestampMs: number): string {
  return new Date(timestampMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * The name a conflict's losing version is kept under, beside the winner (SPEC §6):
 * `dir/name.conflict-20261126T042800Z-source.ext`. The extension stays last so the file
 * still opens with the right program; dotfiles (`.bashrc`) and names without an
 * extension get the suffix at the end.
 */
export function conflictFileName(path: string, timestampMs: number, side: Side): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const hasExtension = dot > 0 && dot < name.length - 1;
  const stem = hasExtension ? name.slice(0, dot) : name;
  const extension = hasExtension ? name.slice(dot) : '';
  return `${dir}${stem}.conflict-${compactUtc(timestampMs)}-${side}${extension}`;
}

/**
 * Groups of paths in one tree that differ only in letter case (`Readme.md`, `README.md`).
 * Copied to a case-insensitive side they would overwrite each other, so the caller
 * reports them instead (SPEC §8). Each group and the list are sorted.
 */
export function findCaseCollisions(tree: Tree): string[][] {
  const byFolded = new Map<string, string[]>();
  for (const path of tree.keys()) {
    const folded = path.toLowerCase();
    const group = byFolded.get(folded);
    if (group) group.push(path);
    else byFolded.set(folded, [path]);
  }
  const collisions: string[][] = [];
  for (const group of byFolded.values()) {
    if (group.length > 1) collisions.push(group.sort());
  }
  return collisions.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}
