import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Location, OUT_OF_SYNC_LIST_LIMIT } from '@syncengine/contracts';
import {
  createConflictRepo,
  createDatabase,
  createKeptVersionRepo,
  createPairRepo,
  createRunActionRepo,
  createRunRepo,
  createSessionRepo,
  createTokenRepo,
  createUserRepo,
  type DatabaseHandle,
  toPublicRun,
} from '@syncengine/db';
import { applyConflictDecisions, previewSync, type Storage, scrubbedMessage, sync } from '@syncengine/engine';
import { confineOpening, createPathGuard, openStorage } from '@syncengine/locations';
import { closeRedis } from '@syncengine/queue-redis';
import {
  createInProcessEventBus,
  createInProcessQueue,
  createInProcessWatchLeases,
  createJobHandlers,
  createRunLauncher,
  type EventBus,
  type JobQueue,
  type JobTimeouts,
  openFile,
  previewFile,
  type SyncRunJobDeps,
  type WatchLeases,
  type WatchServiceDeps,
} from '@syncengine/runs';
import { createSecretBox } from '@syncengine/secrets';
import type { Redis } from 'ioredis';
import { buildServer } from './app.js';
import type { ServerConfig } from './env.js';
import type { LogOptions } from './logging.js';
import { createRequestCounter } from './metrics.js';
import { createAuthService } from './services/auth.service.js';
import { createConflictService } from './services/conflict.service.js';
import { createFolderService } from './services/folder.service.js';
import { createPairService } from './services/pair.service.js';
import { createPairStatusService } from './services/pair-status.service.js';
import { createRunService } from './services/run.service.js';
import { createSystemService } from './services/system.service.js';
import { createVersionService } from './services/version.service.js';
import { moveStoredUrlCredentials } from './url-credentials.js';
import { createWsGateway } from './ws/gateway.js';

export const VERSION = '0.1.0';
/** Where `pnpm --filter @syncengine/web build` puts the dashboard. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));
/** The server's own program files (`src/` or `dist/` with the package's `node_modules`). */
const PROGRAM_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The confinement of local paths: under the allowed roots, and clear of the server's own
 * folders (its data directory holds the secret key and the embedded database).
 */
export function createServerPathGuard(config: Pick<ServerConfig, 'allowedRoots' | 'dataDir' | 'webDist'>) {
  return createPathGuard(config.allowedRoots, {
    protectedFolders: [
      { path: config.dataDir, name: "SyncEngine's data directory" },
      { path: PROGRAM_DIR, name: "SyncEngine's program files" },
      { path: config.webDist ?? DEFAULT_WEB_DIST, name: "SyncEngine's dashboard files" },
    ],
  });
}

export interface RuntimeOptions {
  config: ServerConfig;
  /** Keep the embedded database in memory (tests); ignored with a DATABASE_URL. */
  inMemoryDatabase?: boolean;
  /**
   * The queue and bus. Default: in-process ones. A deployment with Redis passes the
   * BullMQ queue and the Redis bus here, and a Redis client for the counts that every
   * server process shares (failed sign-ins), and the watch leases in Redis (where workers
   * watch pairs and report their state).
   */
  transport?: {
    queue: JobQueue;
    bus: EventBus;
    counters?: { redis: Redis; prefix: string };
    watchLeases?: WatchLeases;
  };
  /** How often a run publishes and writes its progress (tests). */
  syncRunOptions?: SyncRunJobDeps['options'];
  /** Time limits of the in-process queue's jobs where they differ from the catalog's. */
  jobTimeouts?: JobTimeouts;
  openStorage?: (location: Location) => Promise<Storage>;
  logger?: LogOptions;
  /** How long a checked session or token is trusted (default `CREDENTIAL_CACHE_TTL_MS`). */
  credentialCacheTtlMs?: number;
  /** How local folders of watched pairs are watched (default @parcel/watcher). */
  localWatcher?: WatchServiceDeps['localWatcher'];
}

/**
 * The secret key for credentials: `SYNCENGINE_SECRET_KEY`, or in embedded mode (no
 * DATABASE_URL) one generated once into `<dataDir>/secret.key` (mode 0600).
 */
export function resolveSecretKey(config: ServerConfig): string | undefined {
  if (config.secretKey) return config.secretKey;
  if (config.databaseUrl) return undefined;
  const file = join(config.dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

/**
 * Everything the server runs on, wired from its configuration: database (Postgres or
 * embedded PGlite, migrated), queue and bus (in-process unless given), the job handlers
 * (the ones the workers build; used when this process executes runs), services, the
 * WebSocket gateway and the Fastify app.
 */
export async function createRuntime(options: RuntimeOptions) {
  const { config } = options;
  // Connection errors arrive before the app (and its logger) exists, and after.
  let logConnectionError = (error: Error): void => {
    process.stderr.write(`database connection lost: ${scrubbedMessage(error)}\n`);
  };
  let forgetCachedReads = (): void => {};
  const database: DatabaseHandle = await createDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    inMemory: options.inMemoryDatabase ?? false,
    onConnectionError: (error) => {
      forgetCachedReads();
      logConnectionError(error);
    },
  });
  const { db } = database;
  const repos = {
    users: createUserRepo(db),
    sessions: createSessionRepo(db),
    tokens: createTokenRepo(db),
    pairs: createPairRepo(db),
    runs: createRunRepo(db),
    runActions: createRunActionRepo(db),
    conflicts: createConflictRepo(db),
    keptVersions: createKeptVersionRepo(db),
  };
  const secrets = createSecretBox(resolveSecretKey(config));
  const inProcessQueue = options.transport
    ? null
    : createInProcessQueue({
        ...(options.jobTimeouts ? { timeouts: options.jobTimeouts } : {}),
        // A run whose job failed for good must not stay active: it would hold its pair forever.
        onFailed: (failure) => jobs?.onFailed(failure),
      });
  const queue: JobQueue = options.transport?.queue ?? inProcessQueue!;
  const bus: EventBus = options.transport?.bus ?? createInProcessEventBus();
  const watchLeases: WatchLeases = options.transport?.watchLeases ?? createInProcessWatchLeases();
  const launcher = createRunLauncher({ runs: repos.runs, queue, bus });
  const paths = createServerPathGuard(config);
  const openUnconfined =
    options.openStorage ??
    ((location: Location) =>
      openStorage(location, { isAmbientIdentityAllowed: config.sftpUseServerIdentity }));
  // The API's own openings (conflict files, versions) are confined as runs are: at each opening.
  const open = confineOpening(paths, openUnconfined);

  // Only where this process executes jobs (SYNCENGINE_EMBEDDED_WORKER) does it build their
  // handlers: otherwise runs and previews happen on the workers, and the API only enqueues.
  const jobs = config.embeddedWorker
    ? createJobHandlers({
        db,
        pairs: repos.pairs,
        runs: repos.runs,
        runActions: repos.runActions,
        keptVersions: repos.keptVersions,
        conflicts: repos.conflicts,
        bus,
        launcher,
        secrets,
        paths,
        openStorage: openUnconfined,
        engine: { sync, applyConflictDecisions, previewSync },
        ...(options.syncRunOptions ? { options: options.syncRunOptions } : {}),
        // Where this process executes runs, it also watches the watched pairs: alone with the
        // in-process leases, or sharing them through Redis with the other processes.
        watch: {
          holder: options.transport?.watchLeases ? `server ${hostname()}:${process.pid}` : 'server',
          leases: watchLeases,
          leaseMs: config.watchLeaseMs,
          pairs: repos.pairs,
          log: {
            info: (message: string) => app.log.info(message),
            warn: (message: string) => app.log.warn(message),
          },
          ...(options.localWatcher ? { localWatcher: options.localWatcher } : {}),
        },
      })
    : null;
  const handlers = jobs?.handlers ?? null;
  const watchService = jobs?.watches ?? null;

  const requestCounter = createRequestCounter();
  const pairService = createPairService({ pairs: repos.pairs, runs: repos.runs, queue, bus, paths, secrets });
  forgetCachedReads = pairService.forgetList;
  // Plans are made where runs are: the API asks a worker (or, embedded, its own handler) and waits.
  const planChanges = async (pairId: string) => {
    const answer = await queue.request('plan-preview', { pairId, changesLimit: OUT_OF_SYNC_LIST_LIMIT });
    if (!answer.isPlanned) throw new Error(answer.problem);
    return { count: answer.changeCount, items: answer.plan.actions };
  };
  const services = {
    auth: createAuthService({
      ...repos,
      bus,
      ...(options.credentialCacheTtlMs === undefined
        ? {}
        : { credentialCacheTtlMs: options.credentialCacheTtlMs }),
    }),
    pairs: pairService,
    folders: createFolderService({ paths }),
    pairStatus: createPairStatusService({
      getPair: pairService.getRecord,
      pairs: repos.pairs,
      runs: repos.runs,
      planChanges,
      watchStates: watchLeases,
    }),
    runs: createRunService({
      runs: repos.runs,
      runActions: repos.runActions,
      launcher,
      bus,
      getPair: pairService.getRecord,
      previewPlan: (pairId) => queue.request('plan-preview', { pairId }),
    }),
    conflicts: createConflictService({
      conflicts: repos.conflicts,
      pairs: repos.pairs,
      launcher,
      bus,
      previewFile: (location, path) => previewFile({ secrets, openStorage: open }, location, path),
      openFile: (location, path) => openFile({ secrets, openStorage: open }, location, path),
    }),
    versions: createVersionService({
      getPair: pairService.getRecord,
      keptVersions: repos.keptVersions,
      queue,
      bus,
      secrets,
      openStorage: open,
    }),
    system: createSystemService({
      version: VERSION,
      database,
      queue,
      runs: repos.runs,
      conflicts: repos.conflicts,
      httpRequests: () => requestCounter.snapshot(),
      dataDir: config.dataDir,
      allowedRoots: config.allowedRoots,
    }),
  };
  const gateway = createWsGateway({
    bus,
    isStillValid: async (credentials) =>
      (await services.auth.authenticateUncached(credentials))?.id === credentials.userId,
    snapshot: async () => ({
      type: 'snapshot',
      activeRuns: (await repos.runs.listActive()).map(toPublicRun),
      pendingConflicts: await repos.conflicts.list({ status: 'pending' }),
    }),
  });
  const app = await buildServer({
    services,
    gateway,
    requestCounter,
    webDist: config.webDist ?? DEFAULT_WEB_DIST,
    cookieSecure: config.cookieSecure,
    logger: options.logger ?? false,
    sharedCounters: options.transport?.counters,
    version: VERSION,
  });
  logConnectionError = (error) => app.log.warn({ err: error }, 'database connection lost');

  return {
    app,
    database,
    repos,
    queue,
    bus,
    launcher,
    services,
    /** The watches of watched pairs, where this process executes runs. */
    watchService,
    /**
     * Jobs this process consumes when it hosts the worker (in-process queue, or an embedded
     * BullMQ worker); null where only the workers execute them.
     */
    handlers,
    /**
     * The job handlers with what records a job that failed for good, for a BullMQ worker
     * inside this process; null where only the workers execute jobs.
     */
    jobs,
    /**
     * Creates the admin user on first start, registers schedules, re-queues runs left
     * unfinished by a previous process, and starts consuming jobs in-process.
     */
    async start(): Promise<{ generatedAdminPassword: string | null }> {
      const admin = await services.auth.ensureAdmin(config.adminPassword);
      // Pairs saved before URLs with credentials were refused get them moved and encrypted.
      await moveStoredUrlCredentials({
        pairs: repos.pairs,
        secrets,
        log: { info: (message) => app.log.info(message), warn: (message) => app.log.warn(message) },
      });
      for (const pair of await repos.pairs.listScheduled()) {
        if (pair.schedule) await queue.upsertSchedule(pair.id, pair.schedule);
      }
      if (inProcessQueue && handlers) {
        // Nothing else executes them: runs a previous process left behind resume here.
        for (const run of await repos.runs.listActive()) {
          await queue.enqueue('sync-run', { runId: run.id, pairId: run.pairId }, { jobId: run.id });
        }
        inProcessQueue.process(handlers);
      }
      await watchService?.start();
      return { generatedAdminPassword: admin.generatedPassword };
    },
    /** Waits until the in-process queue has nothing left to do (tests). */
    idle: () => inProcessQueue?.idle() ?? Promise.resolve(),
    async close() {
      await watchService?.close();
      await app.close();
      jobs?.close();
      await queue.close();
      await bus.close();
      await watchLeases.close();
      if (options.transport?.counters) await closeRedis(options.transport.counters.redis);
      await database.close();
    },
  };
}
export type Runtime = Awaited<ReturnType<typeof createRuntime>>;
