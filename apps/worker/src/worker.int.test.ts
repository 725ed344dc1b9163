import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BusEvent, CreatePairSchema } from '@syncengine/contracts';
import {
  createConflictRepo,
  createDatabase,
  createPairRepo,
  createRunRepo,
  type DatabaseHandle,
  type PairRecord,
  type RunRecord,
} from '@syncengine/db';
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

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));
const hasRedis = await requireService('Redis', () => canReachRedis(TEST_REDIS_URL));

const TERMINAL = new Set(['completed', 'needs_decision', 'failed', 'cancelled']);

/**
 * Files in the runs that must still be going while a test pauses, cancels or stops its
 * worker: enough that a run lasts seconds even when small files copy at thousands a second.
 */
const LONG_RUN_FILES = 8_000;

describe.skipIf(!hasPostgres || !hasRedis)('worker processes on BullMQ', () => {
  const prefix = `se-test-worker-${randomBytes(4).toString('hex')}`;
  let testDb: TestDatabase;
  let database: DatabaseHandle;
  let pairs: ReturnType<typeof createPairRepo>;
  let runs: ReturnType<typeof createRunRepo>;
  let conflicts: ReturnType<typeof createConflictRepo>;
  let queue: BullJobQueue;
  let bus: RedisEventBus;
  let launcher: RunLauncher;
  let root: string;
  const events: BusEvent[] = [];
  const workers: WorkerProcess[] = [];
  let workerEnv: Record<string, string>;

  const startWorker = async (name: string) => {
    const worker = spawnWorker(name, workerEnv);
    workers.push(worker);
    await worker.waitForLog((line) => line.msg === 'worker ready', 30_000);
    return worker;
  };

  /** A pair between two new folders under the allowed root, the source filled by `files`. */
  const createPair = async (
    name: string,
    files: Record<string, Buffer | string>,
    overrides: Partial<{
      transfers: number;
      sourcePath: string;
      destinationFiles: Record<string, string>;
      conflictResolution: 'MANUAL';
    }> = {},
  ): Promise<PairRecord & { sourceDir: string; destinationDir: string }> => {
    const sourceDir = overrides.sourcePath ?? join(root, name, 'source');
    const destinationDir = join(root, name, 'destination');
    await mkdir(sourceDir, { recursive: true });
    await mkdir(destinationDir, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(sourceDir, path, '..'), { recursive: true });
      await writeFile(join(sourceDir, path), content);
    }
    for (const [path, content] of Object.entries(overrides.destinationFiles ?? {})) {
      await writeFile(join(destinationDir, path), content);
    }
    const input = CreatePairSchema.parse({
      name,
      source: { type: 'local', path: sourceDir },
      destination: { type: 'local', path: destinationDir },
      concurrency: { transfers: overrides.transfers ?? 2, operations: 4 },
      maxDeletePercent: 100,
      ...(overrides.conflictResolution ? { conflictResolution: overrides.conflictResolution } : {}),
    });
    const pair = await pairs.create({ ...input, source: input.source, destination: input.destination });
    return { ...pair, sourceDir, destinationDir };
  };

  /** Many files with distinct contents, so that a run takes a few seconds. */
  const bulkyFiles = (count: number, size: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [`dir${index % 7}/file-${index}.bin`, randomBytes(size)]),
    );

  const waitForRun = (runId: string, timeoutMs = 30_000) =>
    waitUntil(
      `run ${runId} to finish`,
      async () => {
        const run = await runs.get(runId);
        return run && TERMINAL.has(run.status) ? run : undefined;
      },
      timeoutMs,
      100,
    );

  const waitForEvent = (match: (event: BusEvent) => boolean, timeoutMs = 10_000) =>
    waitUntil('an event', () => events.find(match), timeoutMs, 10);

  beforeAll(async () => {
    testDb = await createTestDatabase();
    // Enough connections for the racing triggers below to reach Postgres together.
    database = await createDatabase({ url: testDb.url, maxConnections: 50 });
    pairs = createPairRepo(database.db);
    runs = createRunRepo(database.db);
    conflicts = createConflictRepo(database.db);
    queue = createBullQueue({ connection: TEST_REDIS_URL, prefix });
    bus = createRedisEventBus({ connection: TEST_REDIS_URL, prefix });
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    launcher = createRunLauncher({ runs, queue, bus });
    root = await mkdtemp(join(tmpdir(), 'se-worker-'));
    await mkdir(join(root, 'allowed'));
    workerEnv = {
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      SYNCENGINE_QUEUE_PREFIX: prefix,
      SYNCENGINE_ALLOWED_ROOTS: join(root, 'allowed'),
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_SHUTDOWN_TIMEOUT_MS: '500',
      // A killed worker's pair is free again this long after its last lease renewal.
      WORKER_PAIR_LEASE_MS: '3000',
    };
    root = join(root, 'allowed');
    await Promise.all([startWorker('a'), startWorker('b')]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));
    await queue?.close();
    await bus?.close();
    await database?.close();
    await testDb?.drop();
    await flushPrefix(TEST_REDIS_URL, prefix);
    if (root) await rm(join(root, '..'), { recursive: true, force: true });
  });

  it('answers previews: the whole plan, or its changes up to a limit, and a refused path as the problem', async () => {
    const pair = await createPair(
      'previewed',
      { 'a.txt': 'alpha', 'b.txt': 'bravo' },
      {
        destinationFiles: { 'c.txt': 'charlie' },
      },
    );
    const whole = await queue.request('plan-preview', { pairId: pair.id });
    if (!whole.isPlanned) throw new Error(`not planned: ${whole.problem}`);
    expect(whole.changeCount).toBe(3);
    expect(whole.plan.actions.map((action) => `${action.type} ${action.path}`).sort()).toEqual([
      'DOWNLOAD_NEW c.txt',
      'UPLOAD_NEW a.txt',
      'UPLOAD_NEW b.txt',
    ]);
    const limited = await queue.request('plan-preview', { pairId: pair.id, changesLimit: 1 });
    if (!limited.isPlanned) throw new Error(`not planned: ${limited.problem}`);
    expect(limited.changeCount).toBe(3);
    expect(limited.plan.actions).toHaveLength(1);
    // A preview changes nothing.
    expect(await readdir(pair.destinationDir)).toEqual(['c.txt']);

    const outside = await createPair(
      'previewed-outside',
      { 'a.txt': 'alpha' },
      {
        sourcePath: join(root, '..', 'outside-preview'),
      },
    );
    expect(await queue.request('plan-preview', { pairId: outside.id })).toMatchObject({
      isPlanned: false,
      cause: 'path',
      field: 'source.path',
      problem: expect.stringMatching(/outside the allowed roots/),
    });
  });

  it('never runs a pair on two workers at once, even when triggers race, and completes every run', async () => {
    const pairList = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        createPair(`race-${index}`, {
          'a.txt': `a${index}`,
          'sub/b.txt': `b${index}`,
          'c.bin': randomBytes(4_096),
        }),
      ),
    );
    const launchedRunIds: string[] = [];
    // Two waves of racing triggers per pair; each trigger that wins also gets duplicate
    // deliveries of its job (as a stalled-job handover or a retried enqueue would cause).
    for (let wave = 0; wave < 2; wave += 1) {
      const results = await Promise.all(
        pairList.flatMap((pair) =>
          Array.from({ length: 4 }, () => launcher.launch(pair.id, { trigger: 'manual' })),
        ),
      );
      const started = results.flatMap((result) => (result.run ? [result.run] : []));
      expect(started).toHaveLength(pairList.length);
      for (const run of started) {
        launchedRunIds.push(run.id);
        for (let copy = 0; copy < 2; copy += 1) {
          await queue.enqueue(
            'sync-run',
            { runId: run.id, pairId: run.pairId },
            { jobId: `${run.id}-copy${copy}` },
          );
        }
      }
      for (const run of started) await waitForRun(run.id);
    }

    const finished = await Promise.all(launchedRunIds.map((id) => runs.get(id)));
    expect(finished.map((run) => run?.status)).toEqual(launchedRunIds.map(() => 'completed'));

    // Runs of one pair, as recorded in Postgres, never overlap in time.
    const byPair = new Map<string, RunRecord[]>();
    for (const run of finished) byPair.set(run!.pairId, [...(byPair.get(run!.pairId) ?? []), run!]);
    for (const pairRuns of byPair.values()) {
      const sorted = pairRuns.sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
      for (let index = 1; index < sorted.length; index += 1) {
        expect(Date.parse(sorted[index]!.startedAt!)).toBeGreaterThanOrEqual(
          Date.parse(sorted[index - 1]!.finishedAt!),
        );
      }
    }

    // Every execution (duplicates included), as logged by the worker processes, held its
    // pair alone: no two intervals of one pair overlap, across both processes.
    const intervals = workers
      .flatMap((worker) => worker.logs.map((line) => ({ line, worker: worker.name })))
      .filter(({ line }) => line.msg === 'run stopped' && launchedRunIds.includes(line.runId as string))
      .map(({ line, worker }) => ({
        pairId: line.pairId as string,
        start: line.startedAt as number,
        end: line.at as number,
        worker,
      }));
    expect(intervals.length).toBeGreaterThanOrEqual(launchedRunIds.length);
    expect(new Set(intervals.map((interval) => interval.worker))).toEqual(new Set(['a', 'b']));
    for (const pair of pairList) {
      const own = intervals
        .filter((interval) => interval.pairId === pair.id)
        .sort((x, y) => x.start - y.start);
      for (let index = 1; index < own.length; index += 1) {
        expect(own[index]!.start).toBeGreaterThanOrEqual(own[index - 1]!.end);
      }
    }

    for (const pair of pairList) {
      expect(await treeDigest(pair.destinationDir)).toEqual(await treeDigest(pair.sourceDir));
    }
  });

  it('pauses, resumes and cancels a run executing in another process, each within a second', async () => {
    const pair = await createPair('control', bulkyFiles(LONG_RUN_FILES, 16_384), { transfers: 1 });
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const runId = launched.run!.id;
    await waitForEvent(
      (event) => event.type === 'run.progress' && event.runId === runId && event.progress.filesDone >= 5,
      20_000,
    );

    let sentAt = Date.now();
    expect(await runs.transition(runId, ['running'], 'paused')).not.toBeNull();
    await bus.sendControl({ type: 'pause', runId });
    await waitForEvent((event) => event.type === 'run.paused' && event.runId === runId, 1_000);
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    // Paused: running transfers finish, then nothing moves.
    await sleep(400);
    const doneWhilePaused = (await runs.get(runId))!;
    const progressCount = events.filter(
      (event) => event.type === 'run.progress' && event.runId === runId,
    ).length;
    await sleep(700);
    expect(events.filter((event) => event.type === 'run.progress' && event.runId === runId).length).toBe(
      progressCount,
    );
    expect((await runs.get(runId))!.status).toBe(doneWhilePaused.status);

    sentAt = Date.now();
    expect(await runs.transition(runId, ['paused'], 'running')).not.toBeNull();
    await bus.sendControl({ type: 'resume', runId });
    await waitForEvent((event) => event.type === 'run.resumed' && event.runId === runId, 1_000);
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    await waitUntil(
      'progress after resuming',
      () =>
        events.filter((event) => event.type === 'run.progress' && event.runId === runId).length >
        progressCount,
      2_000,
    );

    sentAt = Date.now();
    await bus.sendControl({ type: 'cancel', runId });
    const cancelled = await waitForEvent(
      (event) => event.type === 'run.cancelled' && event.run.id === runId,
      5_000,
    );
    expect(cancelled).toMatchObject({ run: { status: 'cancelled' } });
    expect((await runs.get(runId))!.status).toBe('cancelled');
    expect((await runs.get(runId))!.stats?.bytesUploaded ?? 0).toBeLessThan(LONG_RUN_FILES * 16_384);
  });

  it('finishes a run on the other worker when its worker is killed mid-run, with every file intact', async () => {
    const pair = await createPair('crash', bulkyFiles(1_000, 16_384), { transfers: 1 });
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const runId = launched.run!.id;
    const startedOn = await waitUntil('a worker to start the run', () =>
      workers.find((worker) =>
        worker.logs.some((line) => line.msg === 'run started' && line.runId === runId),
      ),
    );
    await waitForEvent(
      (event) => event.type === 'run.progress' && event.runId === runId && event.progress.filesDone >= 20,
      20_000,
    );
    expect(await startedOn.kill('SIGKILL')).toBe('SIGKILL');
    workers.splice(workers.indexOf(startedOn), 1);
    const killedAt = Date.now();

    const survivor = workers[0]!;
    await survivor.waitForLog((line) => line.msg === 'run started' && line.runId === runId, 15_000);
    const run = await waitForRun(runId, 30_000);
    expect(run.status).toBe('completed');
    expect(Date.now() - killedAt).toBeLessThan(30_000);

    const source = await treeDigest(pair.sourceDir);
    expect(source.size).toBe(1_000);
    expect(await treeDigest(pair.destinationDir)).toEqual(source);
    // Resumed, not redone: the second execution copied only what the first had not.
    expect(run.stats!.bytesUploaded).toBeLessThan(1_000 * 16_384);
    await startWorker('c');
  });

  it('drains on SIGTERM and leaves an unfinished run for another worker to resume', async () => {
    const pair = await createPair('drain', bulkyFiles(LONG_RUN_FILES, 16_384), { transfers: 1 });
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const runId = launched.run!.id;
    const startedOn = await waitUntil('a worker to start the run', () =>
      workers.find((worker) =>
        worker.logs.some((line) => line.msg === 'run started' && line.runId === runId),
      ),
    );
    await waitForEvent(
      (event) => event.type === 'run.progress' && event.runId === runId && event.progress.filesDone >= 1,
      20_000,
    );
    const stoppingAt = Date.now();
    expect(await startedOn.kill('SIGTERM')).toBe(0);
    workers.splice(workers.indexOf(startedOn), 1);
    // WORKER_SHUTDOWN_TIMEOUT_MS is 0.5 s in these tests.
    expect(Date.now() - stoppingAt).toBeLessThan(5_000);
    expect(
      startedOn.logs.find((line) => line.msg === 'stopped; unfinished runs resume on another worker'),
    ).toMatchObject({ handedBack: 1 });
    expect((await runs.get(runId))!.status).toBe('running');

    const run = await waitForRun(runId, 30_000);
    expect(run.status).toBe('completed');
    expect(await treeDigest(pair.destinationDir)).toEqual(await treeDigest(pair.sourceDir));
  });

  it('ends a MANUAL run needing a decision, and a worker applies the decision in a small run', async () => {
    const pair = await createPair(
      'manual',
      { 'both.txt': 'the source version', 'plain.txt': 'plain' },
      { conflictResolution: 'MANUAL', destinationFiles: { 'both.txt': 'the destination version!' } },
    );
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const runId = launched.run!.id;
    const run = await waitForRun(runId, 30_000);
    expect(run.status).toBe('needs_decision');
    expect(run.stats?.conflictsPending).toBe(1);
    const [pending] = await conflicts.list({ pairId: pair.id, status: 'pending' });
    expect(pending).toMatchObject({ path: 'both.txt', status: 'pending', runId });
    // A pending conflict changes neither side.
    expect(await treeDigest(pair.destinationDir)).not.toEqual(await treeDigest(pair.sourceDir));

    // As the API does: record the decision, then launch the run that applies it.
    expect(await conflicts.resolve(pending!.id, 'source', 'admin')).not.toBeNull();
    const followUp = await launcher.launch(pair.id, { trigger: 'conflict-resolution' });
    const applied = await waitForRun(followUp.run!.id, 30_000);
    expect(applied).toMatchObject({ status: 'completed', trigger: 'conflict-resolution' });
    expect(await treeDigest(pair.destinationDir)).toEqual(await treeDigest(pair.sourceDir));
    const done = await conflicts.get(pending!.id);
    expect(done?.appliedAt).not.toBeNull();
    expect(done?.outcome).toBe(
      "kept the source's copy on both sides; the destination's copy is kept as a version",
    );
  });

  it('fires a pair schedule on the workers, and removing the schedule stops it', async () => {
    const pair = await createPair('scheduled', { 'one.txt': 'one' });
    await queue.upsertSchedule(pair.id, '* * * * * *');
    const scheduledRuns = async () =>
      (await runs.listByPair(pair.id)).filter((run) => run.trigger === 'schedule');
    await waitUntil(
      'two scheduled runs',
      async () => (await scheduledRuns()).filter((run) => run.status === 'completed').length >= 2,
      10_000,
      100,
    );
    await queue.removeSchedule(pair.id);
    await sleep(300);
    const countAfterRemoval = (await scheduledRuns()).length;
    await sleep(2_200);
    expect((await scheduledRuns()).length).toBe(countAfterRemoval);
    expect(await treeDigest(pair.destinationDir)).toEqual(await treeDigest(pair.sourceDir));
  });

  it('refuses a pair whose folder was swapped for a symlink leading outside its roots since it was saved', async () => {
    const outside = join(root, '..', 'outside-swap');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'not for syncing');
    const pair = await createPair('swapped', { 'x.txt': 'x' }, { destinationFiles: { 'd.txt': 'd' } });
    await rm(pair.sourceDir, { recursive: true });
    await symlink(outside, pair.sourceDir);
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const run = await waitForRun(launched.run!.id, 10_000);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(
      /the source path is refused by this worker: ".*swapped\/source" is outside the allowed roots/,
    );
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readdir(pair.destinationDir)).toEqual(['d.txt']);
  });

  it('refuses to restore a version into a pair whose folder was swapped for a symlink leading outside its roots', async () => {
    const outside = join(root, '..', 'outside-restore');
    const versionPath = '.syncengine/versions/20260101T000000Z/kept.txt';
    await mkdir(join(outside, '.syncengine/versions/20260101T000000Z'), { recursive: true });
    await writeFile(join(outside, versionPath), 'an old copy');
    const pair = await createPair('restore-swapped', { 'x.txt': 'x' });
    await rm(pair.destinationDir, { recursive: true });
    await symlink(outside, pair.destinationDir);
    await queue.enqueue(
      'version-restore',
      { pairId: pair.id, side: 'destination', versionPath },
      { jobId: `restore-${pair.id}` },
    );
    const job = await waitUntil(
      'the restore job to end',
      async () => {
        const current = await queue.queueFor('version-restore').getJob(`restore-${pair.id}`);
        const state = await current?.getState();
        return state === 'completed' || state === 'failed' ? current : undefined;
      },
      10_000,
      100,
    );
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/outside the allowed roots/);
    expect(await readdir(outside)).toEqual(['.syncengine']);
    expect(await readdir(join(outside, '.syncengine/versions/20260101T000000Z'))).toEqual(['kept.txt']);
  });

  it('fails a run whose pair the worker may not open at once, with the reason on the run and no retry', async () => {
    const outside = join(root, '..', 'outside', 'source');
    const pair = await createPair('invalid', { 'x.txt': 'x' }, { sourcePath: outside });
    const launched = await launcher.launch(pair.id, { trigger: 'manual' });
    const run = await waitForRun(launched.run!.id, 10_000);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(
      /^invalid pair configuration: the source path is refused by this worker: ".*outside.*" is outside the allowed roots/,
    );
    const job = await queue.queueFor('sync-run').getJob(run.id);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    await waitForEvent((event) => event.type === 'run.failed' && event.run.id === run.id, 2_000);
  });
});
