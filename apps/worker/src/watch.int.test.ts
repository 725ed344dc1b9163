import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreatePairSchema, type PairWatchState } from '@syncengine/contracts';
import { createDatabase, createPairRepo, createRunRepo, type DatabaseHandle } from '@syncengine/db';
import {
  canReachPostgres,
  canReachRedis,
  createTestDatabase,
  flushPrefix,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type TestDatabase,
} from '@syncengine/db/testing';
import { createRedisWatchLeases } from '@syncengine/queue-redis';
import type { WatchLeases } from '@syncengine/runs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type WorkerProcess, waitUntil } from '../test/testing/worker-process.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

const LEASE_MS = 3_000;
const readOrNull = (path: string) => readFile(path, 'utf8').catch(() => null);

/** Watched pairs on two real worker processes sharing Postgres and Redis. */
describe.skipIf(!hasPostgres || !hasRedis)('watched pairs on workers', () => {
  const prefix = `se-test-watch-${randomBytes(4).toString('hex')}`;
  let testDb: TestDatabase;
  let database: DatabaseHandle;
  let leases: WatchLeases;
  let root: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await createDatabase({ url: testDb.url });
    leases = createRedisWatchLeases({ connection: TEST_REDIS_URL, prefix });
    root = await mkdtemp(join(tmpdir(), 'se-worker-watch-'));
    const env = {
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      SYNCENGINE_QUEUE_PREFIX: prefix,
      SYNCENGINE_ALLOWED_ROOTS: root,
      WORKER_CONCURRENCY: '1',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '500',
      WORKER_PAIR_LEASE_MS: '3000',
      SYNCENGINE_WATCH_LEASE_MS: String(LEASE_MS),
    };
    workers.push(spawnWorker('a', env), spawnWorker('b', env));
    await Promise.all(
      workers.map((worker) => worker.waitForLog((line) => line.msg === 'worker ready', 60_000)),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));
    await leases?.close();
    await database?.close();
    await testDb?.drop();
    await flushPrefix(TEST_REDIS_URL, prefix);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a pair is watched by one worker; when it is SIGKILLed the other takes over and a later change arrives', async () => {
    const source = join(root, 'pair', 'source');
    const destination = join(root, 'pair', 'destination');
    await mkdir(source, { recursive: true });
    await mkdir(destination, { recursive: true });
    const input = CreatePairSchema.parse({
      name: 'watched',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
      watch: { enabled: true, debounceMs: 200 },
    });
    const pair = await createPairRepo(database.db).create({
      ...input,
      source: input.source,
      destination: input.destination,
    });
    const runs = createRunRepo(database.db);
    const holderOf = (worker: WorkerProcess) => `worker ${hostname()}:${worker.child.pid}`;

    // One of the two takes the pair (they look for unheld pairs every third of the lease).
    const holder = await waitUntil(
      'a worker to watch the pair',
      async () => (await leases.holder(pair.id)) ?? undefined,
      15_000,
    );
    const watching = workers.find((worker) => holderOf(worker) === holder)!;
    const other = workers.find((worker) => worker !== watching)!;
    expect(watching).toBeDefined();
    const state = await waitUntil(
      'the watch state',
      async () => ((await leases.getState(pair.id))?.modes.source ? leases.getState(pair.id) : undefined),
      15_000,
    );
    expect(state).toMatchObject<Partial<PairWatchState>>({ isWatching: true, watchedBy: holder });
    await writeFile(join(source, 'before.txt'), 'before');
    await waitUntil(
      'before.txt to arrive',
      async () => (await readOrNull(join(destination, 'before.txt'))) === 'before',
      30_000,
    );

    await watching.kill('SIGKILL');
    const killedAt = Date.now();
    await writeFile(join(source, 'after-kill.txt'), 'after the kill');
    const successor = await waitUntil(
      'the other worker to take the pair over',
      async () => {
        const now = await leases.holder(pair.id);
        return now && now !== holder ? now : undefined;
      },
      4 * LEASE_MS,
      50,
    );
    const takeoverMs = Date.now() - killedAt;
    expect(successor).toBe(holderOf(other));
    // The dead holder's lease runs out within the lease time; the next look for unheld
    // pairs (every third of it) takes it.
    expect(takeoverMs).toBeLessThan(LEASE_MS + LEASE_MS / 3 + 1_500);
    await waitUntil(
      'the change made after the kill to arrive',
      async () => (await readOrNull(join(destination, 'after-kill.txt'))) === 'after the kill',
      30_000,
    );
    // And the new holder's notifications work: a change on the other side arrives too.
    await writeFile(join(destination, 'back.txt'), 'back');
    await waitUntil(
      'back.txt to arrive',
      async () => (await readOrNull(join(source, 'back.txt'))) === 'back',
      30_000,
    );
    const all = await waitUntil(
      'the runs to end',
      async () => {
        const list = await runs.listByPair(pair.id);
        return list.every((run) => run.status === 'completed') ? list : undefined;
      },
      30_000,
    );
    expect(all.every((run) => run.trigger === 'watch')).toBe(true);
    process.stdout.write(`watch lease taken over ${takeoverMs} ms after the SIGKILL; ${all.length} runs\n`);
  }, 120_000);
});
