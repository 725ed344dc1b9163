import type { Entry, LastKnownState, Side, Tree } from '../model.js';
import { SIDES } from './run-context.js';
import { isSameContent } from './state-recorder.js';

/** True when two records of one path say exactly the same. */
function isSameRecord(a: Entry, b: Entry): boolean {
  // A folder's mtime moves whenever its contents change and is never compared: a new one
  // alone is not worth rewriting the state for.
  if (a.isDir && b.isDir) return a.id === b.id;
  return (
    a.size === b.size &&
    a.mtime === b.mtime &&
    a.isDir === b.isDir &&
    a.hash === b.hash &&
    a.hashAlgorithm === b.hashAlgorithm &&
    a.id === b.id &&
    a.ctime === b.ctime
  );
}

/**
 * Entries of paths no action touched whose content is the same as recorded: their new
 * metadata (mtime, id, ctime, the hash just computed) is kept, so the next run need not hash them.
 */
export function refreshUnchanged(
  lastKnown: LastKnownState | null,
  trees: Record<Side, Tree>,
  touched: ReadonlySet<string>,
): Record<Side, Tree> {
  const refreshed: Record<Side, Tree> = { source: new Map(), destination: new Map() };
  if (!lastKnown) return refreshed;
  for (const side of SIDES) {
    for (const [path, before] of lastKnown[side]) {
      const now = trees[side].get(path);
      if (now === before || touched.has(path)) continue;
      if (now && !isSameRecord(before, now) && isSameContent(before, now)) refreshed[side].set(path, now);
    }
  }
  return refreshed;
}
