import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canReachPostgres,
  createTestDatabase,
  newPairRecord,
  requireService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../../test/testing/index.js';
import { createDatabase, type DatabaseHandle } from '../database.js';
import { createConflictRepo } from './conflict.repo.js';
import { createPairRepo } from './pair.repo.js';
import { createRunRepo } from './run.repo.js';

const hasPostgres = await requireService('Postgres', () => canReachPostgres(TEST_DATABASE_URL));

function describeRunEnd(
  name: string,
  open: () => Promise<{ handle: DatabaseHandle; drop(): Promise<void> }>,
) {
  describe(`a complete run's end on ${name}`, () => {
    let handle: DatabaseHandle;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ handle, drop } = await open());
    });
    afterAll(async () => {
      await handle?.close();
      await drop?.();
    });

    const setUp = async () => {
      const pair = await createPairRepo(handle.db).create(newPairRecord({ conflictResolution: 'MANUAL' }));
      const runs = createRunRepo(handle.db);
      const conflicts = createConflictRepo(handle.db);
      const earlier = await runs.createQueued({
        pairId: pair.id,
        trigger: 'manual',
        dryRun: false,
        force: false,
      });
      const entry = { path: 'x', size: 1, mtime: 1, isDir: false };
      const record = async (path: string) =>
        (
          await conflicts.recordDetected({
            pairId: pair.id,
            runId: earlier!.id,
            path,
            source: { ...entry, path },
            destination: { ...entry, path, size: 2 },
          })
        ).conflict;
      const pending = await record('pending.txt');
      const decided = await record('decided.txt');
      const met = await record('met.txt');
      await conflicts.resolve(decided.id, 'source', 'admin');
      await runs.transition(earlier!.id, ['queued'], 'needs_decision', { finishedAt: new Date() });
      const run = await runs.createQueued({
        pairId: pair.id,
        trigger: 'manual',
        dryRun: false,
        force: false,
      });
      await runs.transition(run!.id, ['queued'], 'running', { startedAt: new Date() });
      return { pair, runs, conflicts, run: run!, pending, decided, met };
    };

    it('ends the run and closes, in one statement, the open conflicts it no longer met: resolved by the sync unless someone decided them', async () => {
      const { pair, runs, conflicts, run, pending, decided, met } = await setUp();
      const finishedAt = new Date();
      const progress = {
        phase: 'finishing' as const,
        filesDone: 1,
        filesTotal: 1,
        bytesDone: 0,
        bytesTotal: 0,
        currentFile: null,
        rateBytesPerSecond: 0,
      };
      const stats = {
        actions: {},
        bytesUploaded: 0,
        bytesDownloaded: 0,
        conflicts: 1,
        conflictsPending: 1,
        errors: 0,
        durationMs: 5,
      };
      const ended = await runs.transitionClosingUnseen(
        run.id,
        ['queued', 'running', 'paused'],
        'needs_decision',
        { finishedAt, stats, progress },
        { pairId: pair.id, seenPaths: ['met.txt'] },
      );
      expect(ended.run).toEqual({ ...(await runs.get(run.id)), force: false });
      expect(ended.run).toMatchObject({ status: 'needs_decision', stats, progress, error: null });
      expect(ended.run?.finishedAt).toBe(finishedAt.toISOString());
      expect(ended.closed.map((conflict) => conflict.path).sort()).toEqual(['decided.txt', 'pending.txt']);
      for (const closed of ended.closed) expect(closed).toEqual(await conflicts.get(closed.id));
      expect(await conflicts.get(pending.id)).toMatchObject({
        status: 'resolved',
        resolvedBy: 'sync',
        resolvedAt: finishedAt.toISOString(),
        appliedAt: finishedAt.toISOString(),
        resolution: null,
      });
      expect(await conflicts.get(decided.id)).toMatchObject({
        status: 'resolved',
        resolution: 'source',
        resolvedBy: 'admin',
        resolvedAt: decided.resolvedAt ?? expect.any(String),
        appliedAt: finishedAt.toISOString(),
      });
      expect(await conflicts.get(met.id)).toEqual(met);
    });

    it('closes them even when the run was ended by someone else, and then moves no run', async () => {
      const { pair, runs, conflicts, run, pending } = await setUp();
      await runs.transition(run.id, ['running'], 'cancelled', { finishedAt: new Date() });
      const ended = await runs.transitionClosingUnseen(
        run.id,
        ['queued', 'running', 'paused'],
        'completed',
        { finishedAt: new Date() },
        { pairId: pair.id, seenPaths: [] },
      );
      expect(ended.run).toBeNull();
      expect((await runs.get(run.id))?.status).toBe('cancelled');
      expect(ended.closed.map((conflict) => conflict.path).sort()).toEqual([
        'decided.txt',
        'met.txt',
        'pending.txt',
      ]);
      expect((await conflicts.get(pending.id))?.resolvedBy).toBe('sync');
      expect(await conflicts.countUnappliedDecisions(pair.id)).toBe(0);
    });
  });
}

describeRunEnd('PGlite', async () => ({
  handle: await createDatabase({ inMemory: true }),
  drop: async () => {},
}));

describe.skipIf(!hasPostgres)('on Postgres', () => {
  let testDb: TestDatabase;
  describeRunEnd('Postgres', async () => {
    testDb = await createTestDatabase();
    return { handle: await createDatabase({ url: testDb.url }), drop: () => testDb.drop() };
  });
});
