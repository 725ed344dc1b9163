import type { Entry, LastKnownState, Tree } from '../model.js';
import type { StateChange, StateStore } from '../state-store.js';

/** How a `StateRecorder` batches, makes durable and reports. */
export interface StateRecorderOptions {
  /** Told about each batch that could not be written (the full save at the end writes it again). */
  onFailure: (error: unknown) => void;
  /** How long a change waits for others to join its batch (default 50 ms). */
  delayMs?: number;
  /** A batch this large is written at once (default 256). */
  maxBatch?: number;
  /**
   * Runs before each batch is written, e.g. to make the storages' writes durable: nothing is
   * recorded as synced before its bytes are on disk. When it fails, the batch is not written
   * and `durabilityError` is set.
   */
  beforeWrite?: () => Promise<void>;
  /**
   * The state before the run, which `record` and `compose` change in place (no copy of a
   * large state): the run's own, loaded for it. Read during the run, it holds the changes
   * recorded so far.
   */
  previous?: LastKnownState | null;
}

/**
 * Records per-action state changes as a run goes: batched for a few milliseconds, then
 * written with `StateStore.update`, so an interrupted run resumes from what was done.
 * Each change is also applied at once to the state saved at the end (see `compose`), so
 * no change is kept after its batch is written.
 */
export class StateRecorder {
  /** How many changes were recorded. */
  count = 0;
  /** The previous state with every change so far applied (`previous` itself, where given). */
  #state: LastKnownState | null = null;
  /** Paths a change was recorded for: refreshed entries never overwrite them. */
  readonly #changed = new Set<string>();

  /** Paths a change was recorded for. */
  get changed(): ReadonlySet<string> {
    return this.#changed;
  }
  #pending: StateChange[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  readonly #store: StateStore;
  readonly #options: StateRecorderOptions;

  constructor(store: StateStore, options: StateRecorderOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** The first failure of `beforeWrite`, if any: the changes from then on are not durable. */
  durabilityError: unknown;
  /** A batch failed to be written: the store lacks changes only the full save carries. */
  hasFailedWrites = false;

  record(...changes: StateChange[]): void {
    this.count += changes.length;
    this.#state ??= this.#options.previous ?? { source: new Map(), destination: new Map() };
    // The entries are the run's own and never changed after they are recorded: kept as they
    // are rather than copied (applyStateChanges copies each for a store's own state).
    for (const change of changes) {
      this.#changed.add(change.path);
      setOrForget(this.#state.source, change.path, change.source);
      setOrForget(this.#state.destination, change.path, change.destination);
    }
    this.#pending.push(...changes);
    if (this.#pending.length >= (this.#options.maxBatch ?? 256)) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#options.delayMs ?? 50);
  }

  /** Writes what is pending; resolves when every change recorded so far is written (or failed). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    if (batch.length > 0) {
      // A failed update is reported, not fatal: the full save at the end of the run
      // writes the same changes again.
      this.#writing = this.#writing
        .then(async () => {
          const { beforeWrite } = this.#options;
          if (beforeWrite) {
            try {
              await beforeWrite();
            } catch (error) {
              this.durabilityError ??= error;
              throw error;
            }
          }
          await this.#store.update(batch);
        })
        .catch((error: unknown) => {
          this.hasFailedWrites = true;
          this.#options.onFailure(error);
        });
    }
    return this.#writing;
  }

  /**
   * Sets each path a change was recorded for in `state` (another copy of the previous state,
   * the whole of it, say) to its record after the run, on both sides.
   */
  applyTo(state: LastKnownState): void {
    const recorded = this.compose({ source: new Map(), destination: new Map() });
    for (const path of this.#changed) {
      for (const side of ['source', 'destination'] as const) {
        const entry = recorded[side].get(path);
        setOrForget(state[side], path, entry ?? null);
      }
    }
  }

  /**
   * The last-known state after the run (the previous state, `refreshed` and every change
   * recorded): entries refreshed where a side still holds the very same
   * content, then the changes, which win where they touch the same path.
   */
  compose(refreshed: { source: Tree; destination: Tree }): LastKnownState {
    const state = this.#state ?? this.#options.previous ?? { source: new Map(), destination: new Map() };
    for (const [path, entry] of refreshed.source) if (!this.#changed.has(path)) state.source.set(path, entry);
    for (const [path, entry] of refreshed.destination)
      if (!this.#changed.has(path)) state.destination.set(path, entry);
    return state;
  }
}

function setOrForget(tree: Tree, path: string, entry: Entry | null): void {
  if (entry) tree.set(path, entry.path === path ? entry : { ...entry, path });
  else tree.delete(path);
}

/**
 * True when `now` holds the same content as the recorded `before`, so refreshing the
 * record with `now`'s metadata cannot hide a change from a later run.
 */
export function isSameContent(before: Entry, now: Entry): boolean {
  if (before.isDir || now.isDir) return before.isDir === now.isDir;
  if (before.size !== now.size) return false;
  if (before.hash && now.hash && before.hashAlgorithm === now.hashAlgorithm) return before.hash === now.hash;
  return Math.abs(before.mtime - now.mtime) < 1;
}
