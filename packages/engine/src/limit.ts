/** What a limited loop asks before starting each item: wait while paused, stop once cancelled. */
export interface LimitGate {
  readonly isCancelled: boolean;
  waitWhilePaused(): Promise<void>;
}

export interface ForEachLimitedOptions<T> {
  /** Asked before each item starts; once cancelled no item starts (running ones finish). */
  gate?: LimitGate;
  /**
   * Takes each failure, and the loop carries on. Without it the loop also carries on (every
   * item runs, so none is left half done), then throws the first failure.
   */
  onError?: (item: T, error: unknown) => void;
}

/**
 * The one concurrency limiter: runs `work` over `items`, at most `limit` at once, starting
 * them in the order of the array. Resolves once every started item has settled.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  options: ForEachLimitedOptions<T> = {},
): Promise<void> {
  const { gate, onError } = options;
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async () => {
    for (;;) {
      if (gate) {
        await gate.waitWhilePaused();
        if (gate.isCancelled) return;
      }
      const index = next++;
      if (index >= items.length) return;
      const item = items[index] as T;
      try {
        await work(item);
      } catch (error) {
        if (onError) onError(item, error);
        else failure ??= { error };
      }
    }
  };
  const runners = Array.from({ length: Math.max(0, Math.min(limit, items.length)) }, runner);
  await Promise.all(runners);
  if (failure) throw failure.error;
}
