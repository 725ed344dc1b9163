import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const urlWithScheme = (schemes: string[]) =>
  z
    .string()
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
  SYNCENGINE_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Run sync jobs inside the server process (default: yes without REDIS_URL). */
  SYNCENGINE_EMBEDDED_WORKER: booleanFlag.optional(),
  /** Jobs the embedded worker runs at once. */
  WORKER_CONCURRENCY: z.coerce.number({ error: 'must be a number' }).int().min(1).max(64).default(2),
  /** BullMQ key and channel prefix; the workers must use the same. */
  SYNCENGINE_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, ".", "_" and "-"')
    .default('syncengine'),
  /** Mark the session cookie `Secure` (set when serving over HTTPS). */
  SYNCENGINE_COOKIE_SECURE: booleanFlag.default(false),
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
  embeddedWorker: boolean;
  workerConcurrency: number;
  queuePrefix: string;
  cookieSecure: boolean;
  webDist: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
}

/** The environment is unusable; the message names every bad variable. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
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

export function parseEnv(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ServerConfig {
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
    port: parsed.PORT,
    host: parsed.HOST,
    dataDir: resolve(cwd, parsed.SYNCENGINE_DATA_DIR),
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    adminPassword: parsed.SYNCENGINE_ADMIN_PASSWORD,
    allowedRoots: roots.map((root) => resolve(root)),
    secretKey: parsed.SYNCENGINE_SECRET_KEY,
    embeddedWorker: parsed.SYNCENGINE_EMBEDDED_WORKER ?? parsed.REDIS_URL === undefined,
    workerConcurrency: parsed.WORKER_CONCURRENCY,
    queuePrefix: parsed.SYNCENGINE_QUEUE_PREFIX,
    cookieSecure: parsed.SYNCENGINE_COOKIE_SECURE,
    webDist: parsed.SYNCENGINE_WEB_DIST ? resolve(cwd, parsed.SYNCENGINE_WEB_DIST) : undefined,
    logLevel: parsed.LOG_LEVEL,
  };
}
