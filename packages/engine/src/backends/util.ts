import { SyncError } from '../errors.js';

/** Throws `SyncError('CANCELLED')` when the signal has fired. */
export function abortIfNeeded(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SyncError('CANCELLED', 'the operation was cancelled');
}
