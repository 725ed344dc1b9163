import { sleep } from './backends/util.js';
import { isSyncError, SyncError } from './errors.js';

/** How often and how patiently a TRANSIENT failure is retried. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  /** Delay before the first retry; doubles each time (with jitter) up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 };

// Storage adapters check for cancellation between the steps of an operation.
export { abortIfNeeded } from './backends/util.js';

/**
 * Runs `operation`, retrying it with exponential backoff while it fails with
 * `SyncError('TRANSIENT')`. After the budget, throws a TRANSIENT error that says what
 * failed, how often it was tried and why. Other errors pass through at once.
 */
export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  operation: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let delay = policy.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isSyncError(error, 'TRANSIENT')) throw error;
      if (attempt >= policy.attempts) {
        throw new SyncError(
          'TRANSIENT',
          `${what} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${error.message}`,
          { cause: error, path: error.path },
        );
      }
      await sleep(delay * (0.75 + Math.random() / 2), signal);
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}
