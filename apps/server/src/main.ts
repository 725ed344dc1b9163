import { scrubSecrets } from '@syncengine/engine';
import { EnvError, parseEnv } from './env.js';
import { createRedisTransport, startEmbeddedBullWorker } from './redis-transport.js';
import { createRuntime } from './runtime.js';

/** Starts the server: parses the environment (refusing bad values by name), migrates, listens. */
async function main() {
  let config: ReturnType<typeof parseEnv>;
  try {
    // Relative paths are taken from where the user started the command (`pnpm start` at the
    // repository root runs this in apps/server; pnpm passes the original folder as INIT_CWD).
    config = parseEnv(process.env, process.env.INIT_CWD ?? process.cwd());
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`SyncEngine cannot start: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const bootLog = {
    info: (message: string) => process.stdout.write(`${scrubSecrets(message)}\n`),
    warn: (message: string) => process.stderr.write(`warning: ${scrubSecrets(message)}\n`),
    error: (message: string) => process.stderr.write(`error: ${scrubSecrets(message)}\n`),
  };
  // With REDIS_URL, jobs go to BullMQ and events travel over Redis; otherwise both stay in-process.
  const transport = config.redisUrl
    ? await createRedisTransport({ redisUrl: config.redisUrl, prefix: config.queuePrefix, log: bootLog })
    : undefined;
  const runtime = await createRuntime({
    config,
    logger: { level: config.logLevel },
    ...(transport ? { transport } : {}),
  });
  const { generatedAdminPassword } = await runtime.start();
  const bullWorker =
    config.redisUrl && runtime.jobs
      ? await startEmbeddedBullWorker({
          redisUrl: config.redisUrl,
          prefix: config.queuePrefix,
          databaseUrl: config.databaseUrl,
          concurrency: config.workerConcurrency,
          jobs: runtime.jobs,
          log: bootLog,
        })
      : null;
  await runtime.app.listen({ port: config.port, host: config.host });
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.port}`;
  const lines = [
    '',
    `SyncEngine is running at ${url}`,
    `  API ${url}/api/v1   docs ${url}/docs`,
    `  database: ${runtime.database.driver === 'pglite' ? `embedded (${config.dataDir}/pglite)` : 'Postgres'}, queue: ${runtime.queue.driver}${
      config.embeddedWorker ? ' (runs execute in this process)' : ' (runs execute on the workers)'
    }`,
    `  allowed roots: ${config.allowedRoots.join(', ')}`,
  ];
  if (generatedAdminPassword) {
    lines.push(
      '',
      `  First start: created the user "admin" with the password  ${generatedAdminPassword}`,
      '  (shown only this once; set SYNCENGINE_ADMIN_PASSWORD to choose it)',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);

  let isStopping = false;
  const stop = async (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    runtime.app.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await bullWorker?.close().catch(() => {});
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `SyncEngine failed to start: ${scrubSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
  );
  process.exit(1);
});
