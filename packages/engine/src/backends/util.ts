import { SyncError } from '../errors.js';

/** Throws `SyncError('CANCELLED')` when the signal has fired. */
export function abortIfNeeded(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SyncError('CANCELLED', 'the operation was cancelled');
}

/** Waits `ms`; rejects with `SyncError('CANCELLED')` as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new SyncError('CANCELLED', 'the operation was cancelled'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new SyncError('CANCELLED', 'the operation was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
