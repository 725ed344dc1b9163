import { isSyncError } from '@syncengine/engine/errors';

/**
 * The command's exit codes. Scripts depend on them, so they never change meaning.
 */
export const EXIT = {
  /** Both sides are in sync. */
  ok: 0,
  /** The run failed at runtime (I/O errors, failed actions, cancelled). */
  runtimeError: 1,
  /** Bad usage or bad input: an unknown option value, a missing folder, overlapping roots. */
  usage: 2,
  /** The run finished but conflicts remain unresolved. */
  conflictsRemain: 3,
  /** The max-delete guard stopped the run before anything was deleted. */
  maxDelete: 4,
  /** Interrupted twice with Ctrl-C. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a given exit code and a message for the user. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** A problem with what the user typed or pointed at: exit code 2. */
export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** Maps an engine error to an exit code: bad input is the user's to fix (2). */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (isSyncError(error, 'MAX_DELETE')) return EXIT.maxDelete;
  if (
    isSyncError(error, 'INVALID_CONFIG') ||
    isSyncError(error, 'HASH_UNAVAILABLE') ||
    isSyncError(error, 'INVALID_PATH') ||
    isSyncError(error, 'ACCESS_CHECK')
  ) {
    return EXIT.usage;
  }
  return EXIT.runtimeError;
}
