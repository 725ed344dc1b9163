import { isEngineInternalPath, normalizeRelativePath, type Side } from '@syncengine/engine';
import { MAX_WAIT_FACTOR } from './settings.js';

/**
 * The relative path of a notification's absolute `path` below `root`, or null when it is the
 * root itself, lies outside it, cannot be a synced path, or is one of the engine's own (its
 * versions area and state folder, the temporary files of its writes): those never start a run.
 */
export function relativeChangePath(root: string, path: string, separator = '/'): string | null {
  const prefix = root.endsWith(separator) ? root : root + separator;
  if (!path.startsWith(prefix)) return null;
  let relative = path.slice(prefix.length);
  if (separator !== '/') relative = relative.split(separator).join('/');
  try {
    relative = normalizeRelativePath(relative);
  } catch {
    return null;
  }
  return isEngineInternalPath(relative) ? null : relative;
}

/**
 * The fewest paths that cover `paths`, each standing for itself and everything below it: a
 * path below another one is dropped (a folder deleted or renamed with its files is one path;
 * its contents are listed or looked up below it). Sorted.
 */
export function coverPaths(paths: Iterable<string>): string[] {
  const all = new Set(paths);
  const cover: string[] = [];
  for (const path of all) {
    let isCovered = false;
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      if (all.has(path.slice(0, slash))) {
        isCovered = true;
        break;
      }
    }
    if (!isCovered) cover.push(path);
  }
  return cover.sort();
}

/** The changes collected since the last run, per side, with when they came. */
export interface ChangeBatch {
  /** Changed paths per side (each one stands for everything below it), not yet covered. */
  paths: Record<Side, Set<string>>;
  /** How many notifications (or listed differences) came. */
  count: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Collects changes and tells when they are due (pure: the caller passes the time).
 * Changes are due once `debounceMs` has passed with no new one, and at most
 * `MAX_WAIT_FACTOR × debounceMs` after the first of them, so a change that never stops
 * (a log being written) still gets synced.
 */
export class ChangeCollector {
  #batch: ChangeBatch | null = null;

  constructor(private readonly debounceMs: number) {}

  /** Adds changed paths of one side seen at `now`. Empty additions change nothing. */
  add(side: Side, paths: Iterable<string>, now: number): void {
    let added = 0;
    for (const path of paths) {
      this.#batch ??= {
        paths: { source: new Set(), destination: new Set() },
        count: 0,
        firstAt: now,
        lastAt: now,
      };
      this.#batch.paths[side].add(path);
      added++;
    }
    if (!this.#batch || added === 0) return;
    this.#batch.count += added;
    this.#batch.lastAt = now;
  }

  /** Paths waiting, on both sides together. */
  get pending(): number {
    if (!this.#batch) return 0;
    return this.#batch.paths.source.size + this.#batch.paths.destination.size;
  }

  /** When the first waiting change came, or null. */
  get firstAt(): number | null {
    return this.#batch?.firstAt ?? null;
  }

  /** When the waiting changes are due, or null when none wait. */
  dueAt(): number | null {
    if (!this.#batch) return null;
    return Math.min(
      this.#batch.lastAt + this.debounceMs,
      this.#batch.firstAt + MAX_WAIT_FACTOR * this.debounceMs,
    );
  }

  isDue(now: number): boolean {
    const due = this.dueAt();
    return due !== null && now >= due;
  }

  /** Takes the waiting changes (null when none), leaving the collector empty. */
  take(): ChangeBatch | null {
    const batch = this.#batch;
    this.#batch = null;
    return batch;
  }

  /** Drops the waiting changes (a full run covers them). */
  clear(): void {
    this.#batch = null;
  }
}

/** The paths of a batch, both sides together, covered (see `coverPaths`). */
export function dirtyPaths(batch: ChangeBatch): string[] {
  return coverPaths([...batch.paths.source, ...batch.paths.destination]);
}
