import { homedir } from 'node:os';
import {
  checkAllowedRoots,
  EnvError,
  parseEnvironment,
  queuePrefixSchema,
  secretKeySchema,
  sftpServerIdentitySchema,
  splitRoots,
  urlWithScheme,
  watchLeaseMsSchema,
  workerConcurrencySchema,
} from '@syncengine/env';
import { z } from 'zod';

export { EnvError, splitRoots };

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
  WORKER_CONCURRENCY: workerConcurrencySchema,
  /** BullMQ key and channel prefix; the server must use the same. */
  SYNCENGINE_QUEUE_PREFIX: queuePrefixSchema,
  SYNCENGINE_ALLOWED_ROOTS: z.string().optional(),
  SYNCENGINE_SECRET_KEY: secretKeySchema.optional(),
  /** Let SFTP locations without credentials use this account's SSH agent and keys. */
  SYNCENGINE_SFTP_USE_SERVER_IDENTITY: sftpServerIdentitySchema,
  /** How long a dead worker's job stays claimed before another worker takes it over. */
  WORKER_LOCK_DURATION_MS: milliseconds(30_000),
  /** How often workers look for jobs whose worker died. */
  WORKER_STALLED_INTERVAL_MS: milliseconds(30_000),
  /**
   * How long a run's hold on its pair lasts without renewal: the longest a pair waits
   * after its run lost the database connection before another worker may run it.
   */
  WORKER_PAIR_LEASE_MS: milliseconds(30_000),
  /**
   * How long a worker watching a pair holds its watch lease without renewing it (renewed
   * every third of it): how soon another worker takes over the pairs of one that died.
   */
  SYNCENGINE_WATCH_LEASE_MS: watchLeaseMsSchema,
  /** How long SIGTERM waits for running jobs before leaving them to another worker. */
  WORKER_SHUTDOWN_TIMEOUT_MS: milliseconds(30_000),
  /** Where the worker writes its health reports for the image's HEALTHCHECK (none when unset). */
  WORKER_HEALTH_FILE: z.string().trim().min(1).optional(),
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
  /** SFTP locations without credentials may use this account's SSH agent and `~/.ssh` keys. */
  sftpUseServerIdentity: boolean;
  lockDurationMs: number;
  stalledIntervalMs: number;
  pairLeaseMs: number;
  /** How long a watch lease lasts unrenewed. */
  watchLeaseMs: number;
  shutdownTimeoutMs: number;
  healthFile: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = parseEnvironment(EnvSchema, env);
  const allowedRoots = checkAllowedRoots(
    parsed.SYNCENGINE_ALLOWED_ROOTS ? splitRoots(parsed.SYNCENGINE_ALLOWED_ROOTS) : [homedir()],
  );
  return {
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    concurrency: parsed.WORKER_CONCURRENCY,
    queuePrefix: parsed.SYNCENGINE_QUEUE_PREFIX,
    allowedRoots,
    secretKey: parsed.SYNCENGINE_SECRET_KEY,
    sftpUseServerIdentity: parsed.SYNCENGINE_SFTP_USE_SERVER_IDENTITY,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: parsed.WORKER_STALLED_INTERVAL_MS,
    pairLeaseMs: parsed.WORKER_PAIR_LEASE_MS,
    watchLeaseMs: parsed.SYNCENGINE_WATCH_LEASE_MS,
    shutdownTimeoutMs: parsed.WORKER_SHUTDOWN_TIMEOUT_MS,
    healthFile: parsed.WORKER_HEALTH_FILE,
    logLevel: parsed.LOG_LEVEL,
  };
}
