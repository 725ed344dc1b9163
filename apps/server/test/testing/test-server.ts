import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusEvent, Pair, Run } from '@syncengine/contracts';
import { createTestDatabase, type TestDatabase } from '@syncengine/db/testing';
import type { ServerConfig } from '../../src/env.js';
import type { LogStream } from '../../src/logging.js';
import { createRedisTransport, startEmbeddedBullWorker } from '../../src/redis-transport.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';

export const ADMIN_PASSWORD = 'correct horse battery';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * An API answer: its status, its body parsed as JSON (null when empty) and its headers.
 * The body is typed as loosely as the JSON it is, so tests read any field they assert on.
 */
export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a response body of any shape, as `inject().json()` gives it
  body: any;
  headers: Awaited<ReturnType<Runtime['app']['inject']>>['headers'];
}

/** Waits until `check` returns a value (polling), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface TestServer {
  runtime: Runtime;
  /** Temporary folder; the only allowed root. */
  root: string;
  /** Session cookie header of the signed-in admin. */
  cookie: string;
  /** The Postgres database, when on Postgres. */
  databaseUrl: string | undefined;
  /** Creates two folders under the root and returns their paths. */
  folders(name: string): Promise<{ source: string; destination: string }>;
  createPair(body: Record<string, unknown>): Promise<Pair>;
  /** A request as the signed-in admin (`headers` added to the session cookie). */
  request(
    method: Method,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  /** Starts a run of the pair (`body`: the start request's) and waits until it has ended. */
  runToEnd(pairId: string, body?: Record<string, unknown>, timeoutMs?: number): Promise<Run>;
  /** Resolves with the first bus event that matches. */
  nextEvent<T extends BusEvent>(match: (event: BusEvent) => event is T, timeoutMs?: number): Promise<T>;
  nextEvent(match: (event: BusEvent) => boolean, timeoutMs?: number): Promise<BusEvent>;
  close(): Promise<void>;
}

/**
 * A complete server runtime for integration tests: `postgres` on a fresh database that is
 * dropped afterwards, or `pglite` with its files in a temporary data directory (the
 * embedded default). Runs execute in-process; the admin is signed in.
 */
export async function startTestServer(options: {
  driver: 'postgres' | 'pglite';
  syncRunOptions?: RuntimeOptions['syncRunOptions'];
  /** Queue on BullMQ and events over Redis (with a worker inside the server unless `embeddedWorker` is false), under this key prefix. */
  redis?: { url: string; prefix: string };
  /** `SYNCENGINE_SECRET_KEY`; without it only the embedded database has a key (generated). */
  secretKey?: string;
  /** The Postgres server the fresh database is created on (default: the tests' shared one). */
  postgresUrl?: string;
  /** Use this database (another test server's) instead of a fresh one: a second replica. */
  databaseUrl?: string;
  credentialCacheTtlMs?: number;
  jobTimeouts?: RuntimeOptions['jobTimeouts'];
  /** Opens each location (default: the real backends). */
  openStorage?: RuntimeOptions['openStorage'];
  /** Receives the server's log lines (JSON, level info and above); without it nothing is logged. */
  log?: LogStream;
  /** How long a watch lease lasts unrenewed (default 15 s). */
  watchLeaseMs?: number;
  /** How local folders of watched pairs are watched (default @parcel/watcher). */
  localWatcher?: RuntimeOptions['localWatcher'];
  /** Whether this server executes jobs (default true); without, only workers do. */
  embeddedWorker?: boolean;
}): Promise<TestServer> {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-server-'));
  const dataDir = join(root, '.data');
  let testDb: TestDatabase | null = null;
  if (options.driver === 'postgres' && !options.databaseUrl) {
    testDb = await createTestDatabase(options.postgresUrl);
  }
  const config: ServerConfig = {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: options.databaseUrl ?? testDb?.url,
    redisUrl: undefined,
    adminPassword: ADMIN_PASSWORD,
    allowedRoots: [root],
    secretKey: options.secretKey,
    sftpUseServerIdentity: false,
    embeddedWorker: options.embeddedWorker ?? true,
    workerConcurrency: 2,
    queuePrefix: 'syncengine',
    watchLeaseMs: options.watchLeaseMs ?? 15_000,
    cookieSecure: false,
    webDist: join(root, 'no-dashboard'),
    logLevel: 'silent',
  };
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const transport = options.redis
    ? await createRedisTransport({ redisUrl: options.redis.url, prefix: options.redis.prefix, log: quiet })
    : undefined;
  const runtime = await createRuntime({
    config,
    ...(options.syncRunOptions ? { syncRunOptions: options.syncRunOptions } : {}),
    ...(options.jobTimeouts ? { jobTimeouts: options.jobTimeouts } : {}),
    ...(transport ? { transport } : {}),
    ...(options.openStorage ? { openStorage: options.openStorage } : {}),
    ...(options.localWatcher ? { localWatcher: options.localWatcher } : {}),
    ...(options.log ? { logger: { level: 'info', stream: options.log } } : {}),
    ...(options.credentialCacheTtlMs === undefined
      ? {}
      : { credentialCacheTtlMs: options.credentialCacheTtlMs }),
  });
  await runtime.start();
  const worker =
    options.redis && runtime.jobs
      ? await startEmbeddedBullWorker({
          redisUrl: options.redis.url,
          prefix: options.redis.prefix,
          databaseUrl: config.databaseUrl,
          concurrency: 2,
          jobs: runtime.jobs,
          log: quiet,
        })
      : null;
  const login = await runtime.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  const setCookie = login.headers['set-cookie'];
  const cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!;

  const server: TestServer = {
    runtime,
    root,
    cookie,
    databaseUrl: config.databaseUrl,
    async folders(name) {
      const source = join(root, name, 'source');
      const destination = join(root, name, 'destination');
      await mkdir(source, { recursive: true });
      await mkdir(destination, { recursive: true });
      return { source, destination };
    },
    async createPair(body) {
      const response = await runtime.app.inject({
        method: 'POST',
        url: '/api/v1/pairs',
        headers: { cookie },
        payload: body,
      });
      if (response.statusCode !== 201) throw new Error(`creating a pair failed: ${response.body}`);
      return response.json();
    },
    async request(method, url, payload, headers) {
      const response = await runtime.app.inject({
        method,
        url,
        headers: { cookie, ...headers },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return {
        status: response.statusCode,
        body: response.body ? response.json() : null,
        headers: response.headers,
      };
    },
    async runToEnd(pairId, body = {}, timeoutMs) {
      const started = await server.request('POST', `/api/v1/pairs/${pairId}/runs`, body);
      if (started.status !== 202) throw new Error(`starting a run failed: ${JSON.stringify(started.body)}`);
      const run = started.body as Run;
      return eventually(async () => {
        const current = (await server.request('GET', `/api/v1/runs/${run.id}`)).body as Run;
        return ['completed', 'needs_decision', 'failed', 'cancelled'].includes(current.status)
          ? current
          : null;
      }, timeoutMs);
    },
    nextEvent(match: (event: BusEvent) => boolean, timeoutMs = 15_000): Promise<BusEvent> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stop();
          reject(new Error('timed out waiting for an event'));
        }, timeoutMs);
        const stop = runtime.bus.subscribe((event) => {
          if (!match(event)) return;
          clearTimeout(timer);
          stop();
          resolve(event);
        });
      });
    },
    async close() {
      await worker?.close();
      await runtime.close();
      await testDb?.drop();
      await rm(root, { recursive: true, force: true });
    },
  } as TestServer;
  return server;
}
