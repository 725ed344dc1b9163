import type { Entry, LastKnownState, Tree } from '../model.js';
import type { StateChange } from '../state-store.js';

/** An empty last-known state. */
export function emptyState(): LastKnownState {
  return { source: new Map(), destination: new Map() };
}

/** A deep copy, so a store never shares mutable entries with its caller. */
export function cloneState(state: LastKnownState): LastKnownState {
  return { source: cloneTree(state.source), destination: cloneTree(state.destination) };
}

export function cloneTree(tree: Tree): Tree {
  const copy: Tree = new Map();
  for (const [path, entry] of tree) copy.set(path, { ...entry });
  return copy;
}

/**
 * Applies per-action changes in order. Each side is set or (with null) forgotten on its
 * own, so a backup mode can keep tracking one side only.
 */
export function applyStateChanges(state: LastKnownState, changes: readonly StateChange[]): void {
  for (const change of changes) {
    setOrForget(state.source, change.path, change.source);
    setOrForget(state.destination, change.path, change.destination);
  }
}

function setOrForget(tree: Tree, path: string, entry: Entry | null): void {
  if (entry) tree.set(path, { ...entry, path });
  else tree.delete(path);
}
