export const ERROR_CODES = [
  /** Nothing at that path. */
  'NOT_FOUND',
  /** The backend refused access. */
  'PERMISSION',
  /** Something already exists where it should not (rename target, non-empty directory). */
  'CONFLICT',
  /** Worth retrying: a dropped connection, a timeout, a busy server. */
  'TRANSIENT',
  /** A path that is absolute, contains `..`, or escapes the root. */
  'INVALID_PATH',
  /** A configuration that makes no sense; nothing was changed. */
  'INVALID_CONFIG',
  /** HASH_ONLY asked for hashes a backend cannot give. */
  'HASH_UNAVAILABLE',
  /** The run would delete more than maxDeletePercent of a side. */
  'MAX_DELETE',
  /** The check-access sentinel files are missing or differ. */
  'ACCESS_CHECK',
  /** The state store's data is unreadable. */
  'STATE_CORRUPT',
  /** A file changed while it was being transferred. */
  'CHANGED_DURING_TRANSFER',
  /**
   * A folder could not be listed (permission denied): left alone on both sides this run.
   * The run still completes, unless `strict`.
   */
  'UNREADABLE',
  /** The run was cancelled. */
  'CANCELLED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error type the engine and its backends throw. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; path?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = options?.path;
  }
  readonly path: string | undefined;
}

/**
 * A file that is no longer what a run planned with (`why`, after its name): the action is
 * not carried out, and the next run, seeing the file anew, takes it up.
 */
export function changedDuringTransfer(path: string, why: string, shown: string = path): SyncError {
  return new SyncError('CHANGED_DURING_TRANSFER', `${shown} ${why}; retried next run`, { path });
}

export function isSyncError(error: unknown, code?: ErrorCode): error is SyncError {
  return error instanceof SyncError && (code === undefined || error.code === code);
}
