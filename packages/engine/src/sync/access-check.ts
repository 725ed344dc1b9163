import type { SyncConfig } from '../config.js';
import { SyncError } from '../errors.js';
import type { Side, Tree } from '../model.js';
import { baseName } from '../paths.js';
import type { Storage } from '../storage.js';

const SIDES = ['source', 'destination'] as const;

/**
 * The access check, a guard against syncing with an unmounted or wrong folder: every
 * non-ignored file named like a sentinel, anywhere in the tree, must exist at the same
 * relative path on both sides, and at least one must exist. Ignore patterns apply (the
 * trees are scanned with them), so a sentinel in an ignored folder does not count.
 *
 * Throws `SyncError('ACCESS_CHECK')` naming what is missing where; `force` skips the check.
 */
export function checkAccess(
  config: Pick<SyncConfig, 'force' | 'accessCheckFiles'>,
  storages: Record<Side, Pick<Storage, 'description'>>,
  trees: Record<Side, Tree>,
): void {
  if (config.force || config.accessCheckFiles.length === 0) return;
  const names = new Set(config.accessCheckFiles);
  const found: Record<Side, Set<string>> = { source: new Set(), destination: new Set() };
  for (const side of SIDES) {
    for (const [path, entry] of trees[side]) {
      if (!entry.isDir && names.has(baseName(path))) found[side].add(path);
    }
  }
  const where = (side: Side) => `the ${side} side (${storages[side].description})`;
  const hint = 'is the right folder mounted? Use force to sync anyway';
  const list = (paths: string[]) => {
    const shown = paths.slice(0, 10).map((path) => JSON.stringify(path));
    return paths.length > 10 ? `${shown.join(', ')} and ${paths.length - 10} more` : shown.join(', ');
  };
  if (found.source.size === 0 && found.destination.size === 0) {
    const named = config.accessCheckFiles.map((name) => JSON.stringify(name)).join(', ');
    throw new SyncError(
      'ACCESS_CHECK',
      `access check failed: no file named ${named} exists on either side; ${hint}`,
      { path: config.accessCheckFiles[0] },
    );
  }
  const problems: string[] = [];
  let first: string | undefined;
  for (const side of SIDES) {
    const otherSide: Side = side === 'source' ? 'destination' : 'source';
    const missing = [...found[otherSide]].filter((path) => !found[side].has(path)).sort();
    if (missing.length === 0) continue;
    first ??= missing[0];
    problems.push(`${list(missing)} missing on ${where(side)}`);
  }
  if (problems.length > 0) {
    throw new SyncError('ACCESS_CHECK', `access check failed: ${problems.join('; ')}; ${hint}`, {
      path: first,
    });
  }
}
