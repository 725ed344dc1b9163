import type { Entry, LastKnownState, Tree } from '../model.js';
import { applyStateChanges } from '../state/apply.js';
import type { StateChange, StateStore } from '../state-store.js';

/**
 * Records per-action state changes as a run goes: batched for a few milliseconds, then
 * written with `StateStore.update`, so an interrupted run resumes from what was done.
 * Keeps every change, in order, to compose the full state saved at the end.
 */
export class StateRecorder {
  readonly changes: StateChange[] = [];
  #pending: StateChange[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  /**
   * @param beforeWrite runs before each batch is written, e.g. to make the storages' writes
   *   durable: nothing is recorded as synced before its bytes are on disk. When it fails,
   *   the batch is not written and `failed` is set.
   */
  constructor(
    private readonly store: StateStore,
    private readonly onFailure: (error: unknown) => void,
    private readonly delayMs = 50,
    private readonly maxBatch = 256,
    private readonly beforeWrite?: () => Promise<void>,
  ) {}

  /** The first failure of `beforeWrite`, if any: the changes from then on are not durable. */
  durabilityError: unknown;

  record(...changes: StateChange[]): void {
    this.changes.push(...changes);
    this.#pending.push(...changes);
    if (this.#pending.length >= this.maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.delayMs);
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
          if (this.beforeWrite) {
            try {
              await this.beforeWrite();
            } catch (error) {
              this.durabilityError ??= error;
              throw error;
            }
          }
          await this.store.update(batch);
        })
        .catch(this.onFailure);
    }
    return this.#writing;
  }
}

/**
 * The last-known state after a run: the previous one, with entries refreshed where a side
 * still holds the very same content (new mtime or id, same bytes), then every change of
 * the run applied in order.
 */
export function composeState(
  previous: LastKnownState | null,
  refreshed: { source: Tree; destination: Tree },
  changes: readonly StateChange[],
): LastKnownState {
  const source: Tree = new Map(previous?.source);
  const destination: Tree = new Map(previous?.destination);
  for (const [path, entry] of refreshed.source) source.set(path, entry);
  for (const [path, entry] of refreshed.destination) destination.set(path, entry);
  const state = { source, destination };
  applyStateChanges(state, changes);
  return state;
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
