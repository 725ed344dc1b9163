import { homedir } from 'node:os';
import { resolve } from 'node:path';
import {
  booleanFlagSchema,
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

/**
 * The server's environment. Everything has a safe default except secrets, which are never
 * defaulted: the admin password is generated (and printed once) when absent, and the
 * secret key is generated into the data directory in embedded mode.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65_535).default(8080),
  /** Loopback by default: exposing the server on the network is a deliberate choice (0.0.0.0). */
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  SYNCENGINE_DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: urlWithScheme(['redis:', 'rediss:']).optional(),
  SYNCENGINE_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  /**
   * Folders that local pair paths must lie under, separated by `,` or `:`. Default: the
   * home directory of the user running the server (never `/`).
   */
  SYNCENGINE_ALLOWED_ROOTS: z.string().optional(),
  SYNCENGINE_SECRET_KEY: secretKeySchema.optional(),
  /** Let SFTP locations without credentials use the server account's SSH agent and keys. */
  SYNCENGINE_SFTP_USE_SERVER_IDENTITY: sftpServerIdentitySchema,
  /** Run sync jobs inside the server process (default: yes without REDIS_URL). */
  SYNCENGINE_EMBEDDED_WORKER: booleanFlagSchema.optional(),
  /** Jobs the embedded worker runs at once. */
  WORKER_CONCURRENCY: workerConcurrencySchema,
  /** BullMQ key and channel prefix; the workers must use the same. */
  SYNCENGINE_QUEUE_PREFIX: queuePrefixSchema,
  /** How long a watch lease lasts unrenewed (the server watches pairs when it executes runs). */
  SYNCENGINE_WATCH_LEASE_MS: watchLeaseMsSchema,
  /** Mark the session cookie `Secure` (set when serving over HTTPS). */
  SYNCENGINE_COOKIE_SECURE: booleanFlagSchema.default(false),
  /** The built dashboard to serve; default apps/web/dist when it exists. */
  SYNCENGINE_WEB_DIST: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface ServerConfig {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  adminPassword: string | undefined;
  /** Absolute paths. */
  allowedRoots: string[];
  secretKey: string | undefined;
  /** SFTP locations without credentials may use this account's SSH agent and `~/.ssh` keys. */
  sftpUseServerIdentity: boolean;
  embeddedWorker: boolean;
  workerConcurrency: number;
  queuePrefix: string;
  /** How long a watch lease lasts unrenewed. */
  watchLeaseMs: number;
  cookieSecure: boolean;
  webDist: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

export function parseEnv(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ServerConfig {
  const parsed = parseEnvironment(EnvSchema, env);
  const allowedRoots = checkAllowedRoots(
    parsed.SYNCENGINE_ALLOWED_ROOTS ? splitRoots(parsed.SYNCENGINE_ALLOWED_ROOTS) : [homedir()],
  );
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    dataDir: resolve(cwd, parsed.SYNCENGINE_DATA_DIR),
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    adminPassword: parsed.SYNCENGINE_ADMIN_PASSWORD,
    allowedRoots,
    secretKey: parsed.SYNCENGINE_SECRET_KEY,
    sftpUseServerIdentity: parsed.SYNCENGINE_SFTP_USE_SERVER_IDENTITY,
    embeddedWorker: parsed.SYNCENGINE_EMBEDDED_WORKER ?? parsed.REDIS_URL === undefined,
    workerConcurrency: parsed.WORKER_CONCURRENCY,
    queuePrefix: parsed.SYNCENGINE_QUEUE_PREFIX,
    watchLeaseMs: parsed.SYNCENGINE_WATCH_LEASE_MS,
    cookieSecure: parsed.SYNCENGINE_COOKIE_SECURE,
    webDist: parsed.SYNCENGINE_WEB_DIST ? resolve(cwd, parsed.SYNCENGINE_WEB_DIST) : undefined,
    logLevel: parsed.LOG_LEVEL,
  };
}
