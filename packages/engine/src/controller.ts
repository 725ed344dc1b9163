/**
 * Steers a running sync: pause lets running operations finish and starts no new one;
 * resume continues; cancel lets running operations finish, starts nothing more, and the
 * run ends with what was done recorded. SPEC §9.
 */
export class SyncController {
  #paused = false;
  #waiters: Array<() => void> = [];
  readonly #abort = new AbortController();
  #listeners = new Set<(state: 'paused' | 'resumed' | 'cancelled') => void>();

  get isPaused(): boolean {
    return this.#paused;
  }

  get isCancelled(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Aborted on cancel; pass it to long operations. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  pause(): void {
    if (this.#paused || this.isCancelled) return;
    this.#paused = true;
    this.#emit('paused');
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const wake of this.#waiters.splice(0)) wake();
    this.#emit('resumed');
  }

  cancel(): void {
    if (this.isCancelled) return;
    this.#abort.abort();
    this.#paused = false;
    for (const wake of this.#waiters.splice(0)) wake();
    this.#emit('cancelled');
  }

  /** Resolves at once when running, or when resumed or cancelled. */
  waitWhilePaused(): Promise<void> {
    if (!this.#paused) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  onChange(listener: (state: 'paused' | 'resumed' | 'cancelled') => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(state: 'paused' | 'resumed' | 'cancelled'): void {
    for (const listener of this.#listeners) listener(state);
  }
}
