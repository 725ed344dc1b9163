// `syncengine-admin`: maintenance commands run beside the server, with the server's
// environment (in the server image: `docker compose exec server syncengine-admin …`).
import { text } from 'node:stream/consumers';
import { createDatabase, createSessionRepo, createTokenRepo, createUserRepo } from '@syncengine/db';
import { createRedisEventBus } from '@syncengine/queue-redis';
import { EnvError, parseEnv } from './env.js';
import { createAuthService } from './services/auth.service.js';

const USAGE = `Usage: syncengine-admin reset-password [--stdin]

  reset-password   sets a new password for the user admin and signs it out everywhere:
                   a generated one, printed once, or with --stdin the first line read
                   from standard input (8 characters or more). SYNCENGINE_ADMIN_PASSWORD
                   only sets the password on the first start; this changes it later.

Reads DATABASE_URL (or the embedded database under SYNCENGINE_DATA_DIR, which the server
must not be running on) and REDIS_URL like the server does.`;

const MIN_PASSWORD_LENGTH = 8;

interface AdminIo {
  env: NodeJS.ProcessEnv;
  stdin: () => Promise<string>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs the command line; returns the exit code (0 done, 2 bad usage); throws on failure. */
async function runAdmin(args: string[], io: AdminIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h') {
    io.out(USAGE);
    return 0;
  }
  const fromStdin = rest.length === 1 && rest[0] === '--stdin';
  if (command !== 'reset-password' || (rest.length > 0 && !fromStdin)) {
    io.err(USAGE);
    return 2;
  }
  let password: string | undefined;
  if (fromStdin) {
    password = (await io.stdin()).split(/\r?\n/)[0] ?? '';
    if (password.length < MIN_PASSWORD_LENGTH) {
      io.err(`syncengine-admin: the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      return 2;
    }
  }
  let config: ReturnType<typeof parseEnv>;
  try {
    config = parseEnv(io.env);
  } catch (error) {
    if (error instanceof EnvError) {
      io.err(`syncengine-admin: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  // With Redis, running servers hear of the ended sessions at once (they trust a checked
  // session for a few seconds otherwise).
  const bus = config.redisUrl
    ? createRedisEventBus({ connection: config.redisUrl, prefix: config.queuePrefix })
    : undefined;
  try {
    const auth = createAuthService({
      users: createUserRepo(database.db),
      sessions: createSessionRepo(database.db),
      tokens: createTokenRepo(database.db),
      ...(bus ? { bus } : {}),
    });
    const { generatedPassword } = await auth.resetAdminPassword(password);
    io.out(
      generatedPassword
        ? `The password of admin is now: ${generatedPassword}\n(shown only this once)`
        : 'The password of admin is changed.',
    );
    return 0;
  } finally {
    await bus?.close();
    await database.close();
  }
}

runAdmin(process.argv.slice(2), {
  env: process.env,
  stdin: () => text(process.stdin),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`syncengine-admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
