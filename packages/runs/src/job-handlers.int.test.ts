import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreatePairSchema } from '@syncengine/contracts';
import {
  createConflictRepo,
  createDatabase,
  createKeptVersionRepo,
  createPairRepo,
  createRunActionRepo,
  createRunRepo,
  type DatabaseHandle,
  PairLockLostError,
  PostgresStateStore,
} from '@syncengine/db';
import {
  canReachPostgres,
  createTestDatabase,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
  withClient,
} from '@syncengine/db/testing';
import { applyConflictDecisions, previewSync, sync } from '@syncengine/engine';
import { createPathGuard, openStorage } from '@syncengine/locations';
import { createSecretBox } from '@syncengine/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEventBus } from './bus.js';
import { createInProcessQueue } from './in-process-queue.js';
import { createJobHandlers, type JobHandlerDeps } from './job-handlers.js';
import { JobTimeoutError } from './job-queue.js';
import { createRunLauncher } from './launcher.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

describe.skipIf(!hasPostgres)('the job handlers, on a fresh Postgres database', () => {
  let testDb: TestDatabase;
  let database: DatabaseHandle;
  let root: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await createDatabase({ url: testDb.url });
    root = await mkdtemp(join(tmpdir(), 'se-job-handlers-'));
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** The job handlers on the test database, with the real engine and repositories, local paths under `root`; `deps` replaces any of them. */
  const handlersWith = (deps: Partial<JobHandlerDeps> & Pick<JobHandlerDeps, 'bus' | 'launcher'>) => {
    const { db } = database;
    return createJobHandlers({
      db,
      pairs: createPairRepo(db),
      runs: createRunRepo(db),
      runActions: createRunActionRepo(db),
      keptVersions: createKeptVersionRepo(db),
      conflicts: createConflictRepo(db),
      secrets: createSecretBox('a test secret key that is long enough'),
      paths: createPathGuard([root]),
      openStorage: (location) => openStorage(location),
      engine: { sync, applyConflictDecisions, previewSync },
      ...deps,
    });
  };

  it('loads and decrypts the pair of a sync-run once, runs it, and writes the progress of a short run with its end', async () => {
    const { db } = database;
    const pairRepo = createPairRepo(db);
    const runRepo = createRunRepo(db);
    const counts = { pairLoads: 0, decryptions: 0, progressWrites: 0 };
    const runs = {
      ...runRepo,
      setProgress: (...args: Parameters<typeof runRepo.setProgress>) => {
        counts.progressWrites += 1;
        return runRepo.setProgress(...args);
      },
    };
    const pairs = {
      get: (id: string) => {
        counts.pairLoads += 1;
        return pairRepo.get(id);
      },
    };
    const box = createSecretBox('a test secret key that is long enough');
    const secrets = {
      open: (location: Parameters<typeof box.open>[0]) => {
        counts.decryptions += 1;
        return box.open(location);
      },
    };
    const source = join(root, 'source');
    const destination = join(root, 'destination');
    await mkdir(source);
    await mkdir(destination);
    await writeFile(join(source, 'a.txt'), 'alpha');
    const input = CreatePairSchema.parse({
      name: 'once',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
    });
    const pair = await pairRepo.create({ ...input, source: input.source, destination: input.destination });
    const bus = createInProcessEventBus();
    const queue = createInProcessQueue();
    const launcher = createRunLauncher({ runs, queue, bus });
    const jobs = handlersWith({
      pairs,
      runs,
      bus,
      launcher,
      secrets,
      // Longer than the run, whatever the machine's load.
      options: { progressWriteIntervalMs: 600_000 },
    });
    try {
      const { run } = await launcher.launch(pair.id, { trigger: 'manual' });
      await jobs.handlers['sync-run'](
        { runId: run!.id, pairId: pair.id },
        { signal: new AbortController().signal },
      );
      const ended = await runs.get(run!.id);
      expect(ended?.status).toBe('completed');
      expect(ended?.progress).toMatchObject({ phase: 'finishing', filesDone: 1, filesTotal: 1 });
      expect(await readFile(join(destination, 'a.txt'), 'utf8')).toBe('alpha');
      // Shorter than the time between two progress writes: none but the run's end.
      expect(counts).toEqual({ pairLoads: 1, decryptions: 2, progressWrites: 0 });
    } finally {
      jobs.close();
      await queue.close();
      await bus.close();
    }
  });

  it('previews a pair confined like a run, and stops a preview whose time is up without a plan', async () => {
    const { db } = database;
    const pairs = createPairRepo(db);
    const runs = createRunRepo(db);
    const allowed = join(root, 'preview');
    const source = join(allowed, 'source');
    await mkdir(source, { recursive: true });
    await mkdir(join(allowed, 'destination'));
    await mkdir(join(root, 'elsewhere'));
    await writeFile(join(source, 'a.txt'), 'alpha');
    const createPair = (destination: string) => {
      const input = CreatePairSchema.parse({
        name: 'previewed',
        source: { type: 'local', path: source },
        destination: { type: 'local', path: destination },
      });
      return pairs.create({ ...input, source: input.source, destination: input.destination });
    };
    const pair = await createPair(join(allowed, 'destination'));
    const outside = await createPair(join(root, 'elsewhere'));
    const bus = createInProcessEventBus();
    const queue = createInProcessQueue();
    const jobs = handlersWith({
      pairs,
      runs,
      bus,
      launcher: createRunLauncher({ runs, queue, bus }),
      paths: createPathGuard([allowed]),
    });
    const preview = jobs.handlers['plan-preview'];
    try {
      // Its destination lies outside the allowed roots of this process.
      expect(await preview({ pairId: outside.id }, { signal: new AbortController().signal })).toMatchObject({
        isPlanned: false,
        cause: 'path',
        field: 'destination.path',
      });
      const answer = await preview({ pairId: pair.id }, { signal: new AbortController().signal });
      expect(answer).toMatchObject({ isPlanned: true, changeCount: 1 });

      const timedOut = new AbortController();
      timedOut.abort(new JobTimeoutError('time is up'));
      await expect(preview({ pairId: pair.id }, { signal: timedOut.signal })).rejects.toThrow('time is up');
      expect(await readFile(join(source, 'a.txt'), 'utf8')).toBe('alpha');
    } finally {
      jobs.close();
      await queue.close();
      await bus.close();
    }
  });

  it('applies conflict decisions fenced by the pair lock: a worker whose lock a newer run took records nothing and leaves the run active', async () => {
    const { db } = database;
    const pairs = createPairRepo(db);
    const runs = createRunRepo(db);
    const conflicts = createConflictRepo(db);
    const source = join(root, 'fenced', 'source');
    const destination = join(root, 'fenced', 'destination');
    await mkdir(source, { recursive: true });
    await mkdir(destination, { recursive: true });
    await writeFile(join(source, 'both.txt'), 'the source version');
    await writeFile(join(destination, 'both.txt'), 'the destination version!');
    const input = CreatePairSchema.parse({
      name: 'fenced',
      source: { type: 'local', path: source },
      destination: { type: 'local', path: destination },
      conflictResolution: 'MANUAL',
    });
    const pair = await pairs.create({ ...input, source: input.source, destination: input.destination });
    const bus = createInProcessEventBus();
    const queue = createInProcessQueue();
    const launcher = createRunLauncher({ runs, queue, bus });
    const jobs = handlersWith({ pairs, runs, conflicts, bus, launcher });
    const run = (runId: string, lockEpoch: number) =>
      jobs.handlers['sync-run'](
        { runId, pairId: pair.id },
        { signal: new AbortController().signal, lockEpoch },
      );
    try {
      const setEpoch = (epoch: number) =>
        withClient(testDb.url, (client) =>
          client.query(
            `insert into pair_metadata (pair_id, lock_epoch) values ($1, $2)
             on conflict (pair_id) do update set lock_epoch = $2`,
            [pair.id, epoch],
          ),
        );
      await setEpoch(1);
      const first = await launcher.launch(pair.id, { trigger: 'manual' });
      await run(first.run!.id, 1);
      expect((await runs.get(first.run!.id))?.status).toBe('needs_decision');
      const [pending] = await conflicts.list({ pairId: pair.id, status: 'pending' });
      expect(await conflicts.resolve(pending!.id, 'source', 'admin')).not.toBeNull();
      const before = await new PostgresStateStore(db, pair.id).load();

      // A newer run took the lock (epoch 2) while this worker still runs with epoch 1.
      await setEpoch(2);
      const applying = await launcher.launch(pair.id, { trigger: 'conflict-resolution' });
      await expect(run(applying.run!.id, 1)).rejects.toBeInstanceOf(PairLockLostError);
      expect((await runs.get(applying.run!.id))?.status).toBe('running');
      expect((await conflicts.get(pending!.id))?.appliedAt).toBeNull();
      expect(await new PostgresStateStore(db, pair.id).load()).toEqual(before);
    } finally {
      jobs.close();
      await queue.close();
      await bus.close();
    }
  });
});
