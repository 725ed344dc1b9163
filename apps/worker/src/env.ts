import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const urlWithScheme = (schemes: string[]) =>
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

const milliseconds = (fallback: number) =>
  z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(100).default(fallback);

/**
 * The worker's environment. The database and Redis are required (a worker has nothing
 * embedded); the allowed roots and the secret key must match the server's, since the
 * worker opens the same locations and decrypts the same credentials.
 */
const EnvSchema = z.object({
  DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:']),
  REDIS_URL: urlWithScheme(['redis:', 'rediss:']),
  /** Runs executed at once by this process (each with its pair's own transfer limits). */
  WORKER_CONCURRENCY: z.coerce.number({ error: 'must be a number' }).int().min(1).max(64).default(2),
  /** BullMQ key and channel prefix; the server must use the same. */
  SYNCENGINE_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, ".", "_" and "-"')
    .default('syncengine'),
  SYNCENGINE_ALLOWED_ROOTS: z.string().optional(),
  SYNCENGINE_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long a dead worker's job stays claimed before another worker takes it over. */
  WORKER_LOCK_DURATION_MS: milliseconds(30_000),
  /** How often workers look for jobs whose worker died. */
  WORKER_STALLED_INTERVAL_MS: milliseconds(30_000),
  /** How long SIGTERM waits for running jobs before leaving them to another worker. */
  WORKER_SHUTDOWN_TIMEOUT_MS: milliseconds(30_000),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
});

export interface WorkerConfig {
  databaseUrl: string;
  redisUrl: string;
  concurrency: number;
  queuePrefix: string;
  /** Absolute paths that local locations must lie under. */
  allowedRoots: string[];
  secretKey: string | undefined;
  lockDurationMs: number;
  stalledIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

/** The environment is unusable; the message names every missing or bad variable. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/** Splits `SYNCENGINE_ALLOWED_ROOTS` on `,` and `:` as the server does. */
export function splitRoots(value: string): string[] {
  return value
    .split(/,|:(?![\\/])/)
    .map((root) => root.trim())
    .filter((root) => root.length > 0);
}

export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  // An empty variable means "unset" (docker-compose writes `VAR=` for absent values).
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
    throw new EnvError(`invalid environment: ${problems.join('; ')}`);
  }
  const parsed = result.data;
  const roots = parsed.SYNCENGINE_ALLOWED_ROOTS ? splitRoots(parsed.SYNCENGINE_ALLOWED_ROOTS) : [homedir()];
  const relative = roots.filter((root) => !isAbsolute(root));
  if (relative.length > 0) {
    throw new EnvError(
      `invalid environment: SYNCENGINE_ALLOWED_ROOTS must list absolute paths, got ${relative.join(', ')}`,
    );
  }
  if (roots.length === 0) throw new EnvError('invalid environment: SYNCENGINE_ALLOWED_ROOTS lists no folder');
  return {
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    concurrency: parsed.WORKER_CONCURRENCY,
    queuePrefix: parsed.SYNCENGINE_QUEUE_PREFIX,
    allowedRoots: roots.map((root) => resolve(root)),
    secretKey: parsed.SYNCENGINE_SECRET_KEY,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: parsed.WORKER_STALLED_INTERVAL_MS,
    shutdownTimeoutMs: parsed.WORKER_SHUTDOWN_TIMEOUT_MS,
    logLevel: parsed.LOG_LEVEL,
  };
}
