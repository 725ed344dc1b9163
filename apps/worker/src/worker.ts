import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  createConflictRepo,
  createDatabase,
  createKeptVersionRepo,
  createPairRepo,
  createPostgresPairLock,
  createRunActionRepo,
  createRunRepo,
} from '@syncengine/db';
import { applyConflictDecisions, previewSync, sync } from '@syncengine/engine';
import { createPathGuard, openStorage } from '@syncengine/locations';
import {
  createBullQueue,
  createBullWorker,
  createRedisEventBus,
  createRedisWatchLeases,
} from '@syncengine/queue-redis';
import { createJobHandlers, createRunLauncher } from '@syncengine/runs';
import { createSecretBox } from '@syncengine/secrets';
import type { WorkerConfig } from './env.js';

/** The worker's own program files (`src/` or `dist/` with the package's `node_modules`). */
const PROGRAM_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * A worker process's parts: the Postgres database and repositories, the Redis event bus,
 * a producer queue (for scheduled runs and conflict follow-ups), the job handlers the
 * embedded server builds too, and the BullMQ consumer that feeds them.
 */
export async function startWorker(config: WorkerConfig, log: WorkerLog) {
  const database = await createDatabase({
    url: config.databaseUrl,
    maxConnections: config.concurrency + 4,
    onConnectionError: (error) => log.warn(`database connection lost: ${error.message}`),
  });
  const { db } = database;
  const pairs = createPairRepo(db);
  const runs = createRunRepo(db);
  const keptVersions = createKeptVersionRepo(db);
  const connection = config.redisUrl;
  const prefix = config.queuePrefix;
  const bus = createRedisEventBus({ connection, prefix, log });
  const queue = createBullQueue({ connection, prefix, log });
  const launcher = createRunLauncher({ runs, queue, bus });
  const watchLeases = createRedisWatchLeases({ connection, prefix, log });
  const secrets = createSecretBox(config.secretKey);
  const paths = createPathGuard(config.allowedRoots, {
    protectedFolders: [{ path: PROGRAM_DIR, name: "SyncEngine's program files" }],
  });
  const jobs = createJobHandlers({
    db,
    pairs,
    runs,
    runActions: createRunActionRepo(db),
    keptVersions,
    conflicts: createConflictRepo(db),
    bus,
    launcher,
    secrets,
    paths,
    openStorage: (location) =>
      openStorage(location, { isAmbientIdentityAllowed: config.sftpUseServerIdentity }),
    engine: { sync, applyConflictDecisions, previewSync },
    log,
    hooks: {
      onRunStart: ({ runId, pairId, startedAt }) => log.info('run started', { runId, pairId, at: startedAt }),
      onRunStop: ({ runId, pairId, startedAt, stoppedAt }) =>
        log.info('run stopped', { runId, pairId, at: stoppedAt, startedAt }),
    },
    // Workers share the watched pairs through leases in Redis: one watches each pair, and
    // another takes over the pairs of one that died once their leases run out.
    watch: {
      holder: `worker ${hostname()}:${process.pid}`,
      leases: watchLeases,
      leaseMs: config.watchLeaseMs,
      pairs,
      log,
    },
  });

  const pairLock = createPostgresPairLock({
    url: config.databaseUrl,
    leaseMs: config.pairLeaseMs,
    log,
  });
  const worker = createBullWorker({
    connection,
    prefix,
    handlers: jobs.handlers,
    concurrency: config.concurrency,
    pairLock,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    log,
    // A run whose job failed for good must not stay active: it would hold its pair forever.
    onFailed: jobs.onFailed,
  });
  await worker.ready();
  await jobs.watches?.start();

  let isStopped = false;
  const closeRest = async () => {
    await watchLeases.close().catch(() => {});
    await pairLock.close().catch(() => {});
    await queue.close().catch(() => {});
    await bus.close().catch(() => {});
    await database.close().catch(() => {});
  };
  return {
    /** Runs executing here now. */
    liveRunIds: () => jobs.liveRunIds(),
    /** True when the database answers. */
    pingDatabase: () => database.ping(),
    /**
     * Stops taking jobs and lets running ones finish for up to `timeoutMs`. Runs still
     * going then are handed back to the queue as they are (status running, per-action
     * state saved) for another worker to resume; the caller must then end the process at
     * once, which stops them here and releases their pair locks.
     */
    async stop(timeoutMs: number): Promise<{ isDrained: boolean; handedBack: number }> {
      if (isStopped) return { isDrained: true, handedBack: 0 };
      isStopped = true;
      // The leases are given up at once, for another worker to watch the pairs now.
      await jobs.watches?.close().catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const isDrained = await Promise.race([
        worker.close().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!isDrained) return { isDrained, ...(await worker.abandon()) };
      await closeRest();
      return { isDrained, handedBack: 0 };
    },
  };
}
