/** What a pool asks before starting each item: wait while paused, stop once cancelled. */
export interface PoolGate {
  readonly isCancelled: boolean;
  waitWhilePaused(): Promise<void>;
}

/**
 * Runs `work` over `items` with at most `limit` at once, in order of the array. Before each
 * item starts it waits while the gate is paused and stops starting items once the gate is
 * cancelled; items already running always finish. `work` is expected to handle its own
 * errors: a throw is reported through `onError` and the pool carries on.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  gate: PoolGate,
  work: (item: T) => Promise<void>,
  onError: (item: T, error: unknown) => void,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    for (;;) {
      await gate.waitWhilePaused();
      if (gate.isCancelled) return;
      const index = next++;
      if (index >= items.length) return;
      const item = items[index] as T;
      try {
        await work(item);
      } catch (error) {
        onError(item, error);
      }
    }
  };
  const runners = Array.from({ length: Math.max(0, Math.min(limit, items.length)) }, runner);
  await Promise.all(runners);
}

/** Retries `attempt` when it throws a retryable error, waiting longer each time. */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  options: { tries: number; baseDelayMs: number },
): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (tryNumber >= options.tries || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.baseDelayMs * 4 ** (tryNumber - 1)));
    }
  }
}
