import { tmpdir } from 'node:os';
import type { PairRecord } from '@syncengine/db';
import { createPathGuard } from '@syncengine/locations';
import { createInProcessEventBus } from '@syncengine/runs';
import { createSecretBox } from '@syncengine/secrets';
import { describe, expect, it } from 'vitest';
import { createPairService } from './pair.service.js';

const record = (name: string): PairRecord => ({
  id: crypto.randomUUID(),
  name,
  source: { type: 'local', path: '/srv/a' },
  destination: { type: 'local', path: '/srv/b' },
  mode: 'TWO_WAY',
  comparisonMode: 'HASH_THEN_MTIME',
  conflictResolution: 'NEWEST_WINS',
  ignorePatterns: [],
  concurrency: { transfers: 5, operations: 10 },
  maxDeletePercent: 50,
  bandwidthLimit: null,
  schedule: null,
  enabled: true,
  watch: { enabled: false, debounceMs: 1_000, rescanMinutes: 60, pollSeconds: 60 },
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T10:00:00.000Z',
  lastRun: null,
});

/** A pair service over a table in memory, counting the reads of the whole list. */
function setUp(options: { listCacheTtlMs?: number; clock?: number } = {}) {
  let clock = options.clock ?? 1_000_000;
  const table: PairRecord[] = [record('first')];
  let reads = 0;
  const bus = createInProcessEventBus();
  const service = createPairService({
    pairs: {
      list: async () => {
        reads += 1;
        return table.map((pair) => ({ ...pair }));
      },
      get: async (id) => table.find((pair) => pair.id === id) ?? null,
      create: async () => {
        throw new Error('not used');
      },
      update: async (id, patch) => {
        const pair = table.find((candidate) => candidate.id === id);
        if (!pair) return null;
        Object.assign(pair, patch);
        return { ...pair };
      },
      delete: async () => false,
    },
    runs: { activeForPair: async () => null },
    queue: { upsertSchedule: async () => {}, removeSchedule: async () => {} },
    bus,
    paths: createPathGuard([tmpdir()]),
    secrets: createSecretBox(undefined),
    listCacheTtlMs: options.listCacheTtlMs ?? 1_000,
    now: () => clock,
  });
  return {
    service,
    bus,
    table,
    reads: () => reads,
    now: () => clock,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('the list of pairs', () => {
  it('is read once for the requests within the cache time, then again', async () => {
    const t = setUp();
    await Promise.all([t.service.list(), t.service.list(), t.service.list()]);
    await t.service.list();
    expect(t.reads()).toBe(1);
    t.advance(1_000);
    await t.service.list();
    expect(t.reads()).toBe(2);
  });

  it('is read again at once after a change of this server, or one announced on the bus', async () => {
    const t = setUp();
    const [pair] = await t.service.list();
    await t.service.update(pair!.id, { name: 'renamed' });
    expect((await t.service.list()).map((listed) => listed.name)).toEqual(['renamed']);

    // A run finished elsewhere: the row changed behind this server, then the event came.
    t.table[0]!.lastRun = {
      id: crypto.randomUUID(),
      status: 'completed',
      queuedAt: '2026-12-04T10:01:00.000Z',
      finishedAt: '2026-12-04T10:01:01.000Z',
    };
    expect((await t.service.list())[0]!.lastRun).toBeNull();
    await t.bus.publish({ type: 'run.paused', runId: crypto.randomUUID(), pairId: pair!.id });
    expect((await t.service.list())[0]!.lastRun?.status).toBe('completed');
    expect(t.reads()).toBe(3);
  });

  it('is not kept from a read that a change overtook', async () => {
    const t = setUp();
    const before = t.service.list();
    t.table[0]!.name = 'changed while reading';
    await t.bus.publish({ type: 'pair.deleted', pairId: crypto.randomUUID() });
    await before;
    expect((await t.service.list())[0]!.name).toBe('changed while reading');
  });

  it('answers the same list while nothing changed, and makes it again once a scheduled run is due', async () => {
    const t = setUp({ listCacheTtlMs: 600_000, clock: Date.now() });
    const first = await t.service.list();
    expect(await t.service.list()).toBe(first);
    await t.bus.publish({ type: 'pair.deleted', pairId: crypto.randomUUID() });
    const afterChange = await t.service.list();
    expect(afterChange).not.toBe(first);
    expect(afterChange).toEqual(first);

    t.table[0]!.schedule = '* * * * *';
    await t.bus.publish({ type: 'pair.deleted', pairId: crypto.randomUUID() });
    const scheduled = await t.service.list();
    const nextRunAt = Date.parse(scheduled[0]!.nextRunAt!);
    t.advance(nextRunAt - t.now() - 1);
    expect(await t.service.list()).toBe(scheduled);
    t.advance(1);
    // Still within the time the read is kept, but the time it gave has passed.
    expect(await t.service.list()).not.toBe(scheduled);
    expect(t.reads()).toBe(3);
  });

  it('ignores progress and action events', async () => {
    const t = setUp();
    await t.service.list();
    const ref = { runId: crypto.randomUUID(), pairId: t.table[0]!.id };
    await t.bus.publish({
      type: 'run.progress',
      ...ref,
      progress: { phase: 'transferring', done: 1, total: 2, bytesDone: 0, bytesTotal: 0 },
    } as never);
    await t.service.list();
    expect(t.reads()).toBe(1);
  });
});
