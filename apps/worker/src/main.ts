import { scrubSecrets } from '@syncengine/engine';
import { EnvError, parseWorkerEnv, type WorkerConfig } from './env.js';
import { startHealthReports } from './health.js';
import { createLog } from './log.js';
import { startWorker } from './worker.js';

/** Starts a worker: parses the environment (refusing bad values by name), connects, consumes. */
async function main() {
  let config: WorkerConfig;
  try {
    config = parseWorkerEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`SyncEngine worker cannot start: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const log = createLog(config.logLevel);
  const worker = await startWorker(config, log);
  log.info('worker ready', { concurrency: config.concurrency, prefix: config.queuePrefix });
  const health = config.healthFile
    ? startHealthReports({
        file: config.healthFile,
        redisUrl: config.redisUrl,
        pingDatabase: worker.pingDatabase,
        roots: config.allowedRoots,
      })
    : null;

  let isStopping = false;
  const stop = async (signal: string) => {
    if (isStopping) return;
    isStopping = true;
    log.info(`${signal}: finishing running jobs`, { runIds: worker.liveRunIds() });
    const { isDrained, handedBack } = await worker.stop(config.shutdownTimeoutMs);
    await health?.stop();
    log.info(isDrained ? 'stopped' : 'stopped; unfinished runs resume on another worker', { handedBack });
    // Ending now stops runs that were handed back, and Postgres releases their pair locks.
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `SyncEngine worker failed to start: ${scrubSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
  );
  process.exit(1);
});
