import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type BusEvent, CreatePairSchema } from '@syncengine/contracts';
import {
  createDatabase,
  createPairRepo,
  createRunRepo,
  type DatabaseHandle,
  type PairRecord,
  type RunRecord,
} from '@syncengine/db';
import {
  canRunOwnServices,
  createTestDatabase,
  type OwnPostgres,
  type OwnRedis,
  startOwnPostgres,
  startOwnRedis,
  type TestDatabase,
  withClient,
} from '@syncengine/db/testing';
import {
  type BullJobQueue,
  createBullQueue,
  createRedisEventBus,
  type RedisEventBus,
} from '@syncengine/queue-redis';
import { createRunLauncher, type RunLauncher } from '@syncengine/runs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sleep,
  spawnWorker,
  treeDigest,
  type WorkerProcess,
  waitUntil,
} from '../test/testing/worker-process.js';

/**
 * Faults around the workers, against a Postgres and a Redis of this file's own (spare
 * ports), which it stops and restarts without disturbing other tests: workers killed at
 * random points, a pair lock's connection terminated while another worker waits for the
 * pair, Postgres and Redis restarted mid-run.
 */
const canRun = await canRunOwnServices();

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** Files in the runs a test interrupts: enough that a run lasts seconds. */
const LONG_RUN_FILES = 3_000;

/** A small seeded generator (mulberry32), so a failing seed can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every path below `root` whose name marks an engine temporary file. */
async function temporaryFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.includes('.syncengine-tmp-')) found.push(relative(root, path));
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return found;
}

/** The change time (ms) of every file below `root`, outside the engine's own folder. */
async function changeTimes(root: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name === '.syncengine') continue;
      if (entry.isDirectory()) await walk(path);
      else times.set(relative(root, path), (await stat(path)).ctimeMs);
    }
  };
  await walk(root);
  return times;
}

interface Interval {
  worker: string;
  from: number;
  to: number;
}

describe.skipIf(!canRun)('worker faults, with a Postgres and a Redis of their own', () => {
  const prefix = `se-faults-${randomBytes(4).toString('hex')}`;
  let postgres: OwnPostgres;
  let redis: OwnRedis;
  let testDb: TestDatabase;
  let database: DatabaseHandle;
  let pairs: ReturnType<typeof createPairRepo>;
  let runs: ReturnType<typeof createRunRepo>;
  let queue: BullJobQueue;
  let bus: RedisEventBus;
  let launcher: RunLauncher;
  let root: string;
  const workers: WorkerProcess[] = [];
  const events: BusEvent[] = [];
  /** When each killed worker was killed. */
  const killedAt = new Map<WorkerProcess, number>();
  let workerCount = 0;

  const startWorker = async () => {
    workerCount += 1;
    const worker = spawnWorker(`w${workerCount}`, {
      DATABASE_URL: testDb.url,
      REDIS_URL: redis.url,
      SYNCENGINE_QUEUE_PREFIX: prefix,
      SYNCENGINE_ALLOWED_ROOTS: root,
      WORKER_CONCURRENCY: '1',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '500',
      WORKER_PAIR_LEASE_MS: '3000',
    });
    workers.push(worker);
    await worker.waitForLog((line) => line.msg === 'worker ready', 60_000);
    return worker;
  };
  const kill = async (worker: WorkerProcess) => {
    killedAt.set(worker, Date.now());
    expect(await worker.kill('SIGKILL')).toBe('SIGKILL');
  };
  const alive = () => workers.filter((worker) => !killedAt.has(worker));

  /**
   * A mirror whose every file is to be updated: the destination holds an older content of
   * each, so each is transferred on its own (under a temporary name, the old one kept as a
   * version), which makes a run long enough to be interrupted with few bytes on disk.
   */
  const createPair = async (name: string, count: number): Promise<PairRecord & { dirs: string[] }> => {
    const sourceDir = join(root, name, 'source');
    const destinationDir = join(root, name, 'destination');
    for (let index = 0; index < count; index += 1) {
      const path = join(`d${index % 5}`, `f${index}.bin`);
      await mkdir(join(sourceDir, path, '..'), { recursive: true });
      await mkdir(join(destinationDir, path, '..'), { recursive: true });
      await writeFile(join(destinationDir, path), `old ${index}`);
      await writeFile(join(sourceDir, path), randomBytes(1_024));
    }
    const pair = await pairs.create(
      CreatePairSchema.parse({
        name,
        source: { type: 'local', path: sourceDir },
        destination: { type: 'local', path: destinationDir },
        mode: 'SOURCE_TO_DESTINATION',
        concurrency: { transfers: 1, operations: 2 },
        maxDeletePercent: 100,
      }) as Parameters<typeof pairs.create>[0],
    );
    return { ...pair, dirs: [sourceDir, destinationDir] };
  };

  /** Polls the run, riding out the moments the database is down. */
  const waitForRun = (runId: string, timeoutMs = 90_000) =>
    waitUntil(
      `run ${runId} to finish`,
      async () => {
        const run = await runs.get(runId).catch(() => null);
        return run && TERMINAL.has(run.status) ? run : undefined;
      },
      timeoutMs,
      200,
    );

  const startedOn = (runId: string) =>
    waitUntil('a worker to start the run', () =>
      workers.find((worker) =>
        worker.logs.some((line) => line.msg === 'run started' && line.runId === runId),
      ),
    );

  /** How many files of the pair's destination hold the source's content (read while a run may be moving them). */
  const syncedCount = async (pair: { dirs: string[] }) => {
    let count = 0;
    for (const [path, digest] of await treeDigest(pair.dirs[0]!)) {
      const content = await readFile(join(pair.dirs[1]!, path)).catch(() => null);
      if (content && createHash('sha256').update(content).digest('hex') === digest) count += 1;
    }
    return count;
  };
  const waitForProgress = (runId: string, filesDone = 20) =>
    waitUntil(
      'the run to be under way',
      () =>
        events.some(
          (event) =>
            event.type === 'run.progress' && event.runId === runId && event.progress.filesDone >= filesDone,
        ),
      30_000,
      20,
    );

  /**
   * When each execution of the run held its pair, from the workers' logs: from `run started`
   * to `run stopped`, or to the kill of a worker that never logged the stop.
   */
  const intervalsOf = (runId: string): Interval[] =>
    workers.flatMap((worker) => {
      const intervals: Interval[] = [];
      let open: number | null = null;
      for (const line of worker.logs) {
        if (line.runId !== runId) continue;
        if (line.msg === 'run started') open = line.at as number;
        if (line.msg === 'run stopped') {
          intervals.push({ worker: worker.name, from: line.startedAt as number, to: line.at as number });
          open = null;
        }
      }
      if (open !== null)
        intervals.push({ worker: worker.name, from: open, to: killedAt.get(worker) ?? Date.now() });
      return intervals;
    });

  /** Never two executions of one run at once, and every file written while one of them held the pair. */
  const expectOneWriterAtATime = async (runId: string, pair: { dirs: string[] }) => {
    const intervals = intervalsOf(runId).sort((a, b) => a.from - b.from);
    for (let index = 1; index < intervals.length; index += 1) {
      expect(intervals[index]!.from, JSON.stringify(intervals)).toBeGreaterThanOrEqual(
        intervals[index - 1]!.to,
      );
    }
    // File change times come from the same clock the logs use; 5 ms for the rounding of `at`.
    for (const [path, ctime] of await changeTimes(pair.dirs[1]!)) {
      const isWithin = intervals.some((interval) => ctime >= interval.from - 5 && ctime <= interval.to + 5);
      expect(isWithin, `${path} changed at ${ctime}, outside ${JSON.stringify(intervals)}`).toBe(true);
    }
    return intervals;
  };

  /** Trees equal, no temporary file on either side, and the next run has nothing to do. */
  const expectSettled = async (run: RunRecord, pair: PairRecord & { dirs: string[] }, count: number) => {
    expect(run.status, run.error ?? '').toBe('completed');
    const source = await treeDigest(pair.dirs[0]!);
    expect(source.size).toBe(count);
    expect(await treeDigest(pair.dirs[1]!)).toEqual(source);
    expect(await temporaryFiles(pair.dirs[0]!)).toEqual([]);
    expect(await temporaryFiles(pair.dirs[1]!)).toEqual([]);
    const next = await launcher.launch(pair.id, { trigger: 'manual' });
    const again = await waitForRun(next.run!.id);
    expect(again.status).toBe('completed');
    expect(again.stats?.bytesUploaded).toBe(0);
    expect(again.stats?.bytesDownloaded).toBe(0);
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
    testDb = await createTestDatabase(postgres.url);
    database = await createDatabase({ url: testDb.url });
    pairs = createPairRepo(database.db);
    runs = createRunRepo(database.db);
    queue = createBullQueue({ connection: redis.url, prefix });
    bus = createRedisEventBus({ connection: redis.url, prefix });
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    launcher = createRunLauncher({ runs, queue, bus });
    root = await mkdtemp(join(tmpdir(), 'se-faults-'));
    await Promise.all([startWorker(), startWorker()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await queue?.close().catch(() => {});
    await bus?.close().catch(() => {});
    await database?.close().catch(() => {});
    await postgres?.close();
    await redis?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each([1, 2, 3])(
    'finishes the run elsewhere after a SIGKILL at a random point (seed %i): trees equal, no temporary file left',
    async (seed) => {
      const next = random(seed);
      const count = 1_000;
      const pair = await createPair(`kill-${seed}`, count);
      const { run } = await launcher.launch(pair.id, { trigger: 'manual' });
      const victim = await startedOn(run!.id);
      await sleep(Math.floor(next() * 2_000));
      await kill(victim);
      await startWorker();
      const finished = await waitForRun(run!.id);
      await expectSettled(finished, pair, count);
      await expectOneWriterAtATime(run!.id, pair);
    },
  );

  it('stops a run whose lock connection is terminated before the waiting worker starts it: never two writers', async () => {
    const count = LONG_RUN_FILES;
    const pair = await createPair('lock-lost', count);
    const { run } = await launcher.launch(pair.id, { trigger: 'manual' });
    const runId = run!.id;
    const first = await startedOn(runId);
    // A second delivery of the job (a stalled-job handover, a retried enqueue): the other
    // worker takes it and waits for the pair.
    await queue.enqueue('sync-run', { runId, pairId: pair.id }, { jobId: `${runId}-again` });
    await waitForProgress(runId);
    const terminated = await withClient(testDb.url, async (admin) => {
      const { rowCount } = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [`syncengine pair lock ${pair.id}`],
      );
      return rowCount;
    });
    expect(terminated).toBe(1);
    await first.waitForLog((line) => line.msg === 'run stopped' && line.runId === runId, 15_000);
    // Stopped before the end: the rest is for the next execution.
    expect(await syncedCount(pair)).toBeLessThan(count);
    const finished = await waitForRun(runId);
    await expectSettled(finished, pair, count);
    const intervals = await expectOneWriterAtATime(runId, pair);
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(alive().every((worker) => worker.child.exitCode === null)).toBe(true);
  });

  it('finishes a run across a Postgres restart, with no worker exiting', async () => {
    const count = LONG_RUN_FILES;
    const pair = await createPair('postgres-restart', count);
    const { run } = await launcher.launch(pair.id, { trigger: 'manual' });
    await startedOn(run!.id);
    await waitForProgress(run!.id);
    await postgres.stop('fast');
    // Interrupted, not finished before the restart.
    expect(await syncedCount(pair)).toBeLessThan(count);
    await sleep(1_500);
    await postgres.start();
    const finished = await waitForRun(run!.id);
    await expectSettled(finished, pair, count);
    await expectOneWriterAtATime(run!.id, pair);
    for (const worker of alive()) expect(worker.child.exitCode, worker.stderr()).toBeNull();
  });

  it('finishes a run across a Redis restart, with no worker exiting', async () => {
    const count = LONG_RUN_FILES;
    const pair = await createPair('redis-restart', count);
    const { run } = await launcher.launch(pair.id, { trigger: 'manual' });
    await startedOn(run!.id);
    await waitForProgress(run!.id);
    await redis.stop();
    expect(await syncedCount(pair)).toBeLessThan(count);
    await sleep(1_500);
    await redis.start();
    const finished = await waitForRun(run!.id);
    await expectSettled(finished, pair, count);
    await expectOneWriterAtATime(run!.id, pair);
    for (const worker of alive()) expect(worker.child.exitCode, worker.stderr()).toBeNull();
  });
});
