import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** The environment is unusable; the message names every missing or bad variable. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/** A URL whose scheme is one of `schemes` (each with its colon, e.g. `redis:`). */
export const urlWithScheme = (schemes: string[]) =>
  z
    .string({ error: 'is required' })
    .trim()
    .refine(
      (value) => {
        try {
          return schemes.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL starting with ${schemes.map((scheme) => `${scheme}//`).join(' or ')}` },
    );

/** A yes/no variable: `true`/`false`, `1`/`0`, `yes`/`no`. */
export const booleanFlagSchema = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * `SYNCENGINE_SFTP_USE_SERVER_IDENTITY`: whether SFTP locations without credentials may log
 * in with the SSH agent and `~/.ssh` keys of the account running the server or worker.
 * Off by default: every user of the server could otherwise borrow that identity.
 */
export const sftpServerIdentitySchema = booleanFlagSchema.default(false);

/** `WORKER_CONCURRENCY`: runs executed at once by one worker process. */
export const workerConcurrencySchema = z.coerce
  .number({ error: 'must be a number' })
  .int()
  .min(1)
  .max(64)
  .default(2);

/**
 * `SYNCENGINE_WATCH_LEASE_MS`: how long the process watching a pair holds its watch lease
 * without renewing it (renewed every third of it): how soon another process takes over the
 * pairs of one that died.
 */
export const watchLeaseMsSchema = z.coerce
  .number({ error: 'must be a number of milliseconds' })
  .int()
  .min(1_000)
  .max(3_600_000)
  .default(15_000);

/** `SYNCENGINE_QUEUE_PREFIX`: the BullMQ key and channel prefix, the same for the server and its workers. */
export const queuePrefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, ".", "_" and "-"')
  .default('syncengine');

/** `SYNCENGINE_SECRET_KEY`: the key that encrypts stored credentials, the same for the server and its workers. */
export const secretKeySchema = z.string().min(32, 'must be at least 32 characters');

/**
 * Parses `env` with `schema`. An empty variable means "unset" (docker-compose writes
 * `VAR=` for absent values). Throws an `EnvError` naming every bad variable.
 */
export function parseEnvironment<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
    throw new EnvError(`invalid environment: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * Checks the folders listed in `SYNCENGINE_ALLOWED_ROOTS` (already split): all absolute
 * and at least one. Returns them resolved; throws an `EnvError` otherwise.
 */
export function checkAllowedRoots(roots: string[]): string[] {
  const relative = roots.filter((root) => !isAbsolute(root));
  if (relative.length > 0) {
    throw new EnvError(
      `invalid environment: SYNCENGINE_ALLOWED_ROOTS must list absolute paths, got ${relative.join(', ')}`,
    );
  }
  if (roots.length === 0) throw new EnvError('invalid environment: SYNCENGINE_ALLOWED_ROOTS lists no folder');
  return roots.map((root) => resolve(root));
}

/** Splits `SYNCENGINE_ALLOWED_ROOTS` on `,` and `:` (POSIX paths); Windows drive colons (`C:\\`) survive. */
export function splitRoots(value: string): string[] {
  const roots: string[] = [];
  for (const chunk of value.split(',')) {
    const pieces = chunk.split(':');
    for (let i = 0; i < pieces.length; i += 1) {
      const piece = pieces[i]!.trim();
      const next = pieces[i + 1];
      if (/^[A-Za-z]$/.test(piece) && next !== undefined && /^[\\/]/.test(next)) {
        roots.push(`${piece}:${next.trim()}`);
        i += 1;
      } else if (piece.length > 0) {
        roots.push(piece);
      }
    }
  }
  return roots;
}
