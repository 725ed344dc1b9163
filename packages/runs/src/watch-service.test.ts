import type { BusEvent } from '@syncengine/contracts';
import type { PairRecord, RunRecord } from '@syncengine/db';
import { MemoryStorage } from '@syncengine/engine';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEventBus } from './bus.js';
import type { LaunchResult } from './launcher.js';
import { createInProcessWatchLeases, type WatchLeases } from './watch-leases.js';
import { createWatchService, type WatchService } from './watch-service.js';

const LEASE_MS = 300;

/** A watched pair between two memory storages (polled sides: no notifications to set up). */
const watchedPair = (overrides: Partial<PairRecord> = {}) =>
  ({
    id: '00000000-0000-4000-8000-000000000001',
    name: 'watched',
    enabled: true,
    source: { type: 'local', path: '/source' },
    destination: { type: 'local', path: '/destination' },
    watch: { enabled: true, debounceMs: 50, rescanMinutes: 60, pollSeconds: 60 },
    ...overrides,
  }) as PairRecord;

/** Two processes' watch services sharing one set of leases, one pair and one bus. */
function twoProcesses(options: { openSide?: () => Promise<MemoryStorage> } = {}) {
  let pair: PairRecord | null = watchedPair();
  const leases = createInProcessWatchLeases();
  const bus = createInProcessEventBus();
  const events: BusEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const launches: { holder: string; changedPaths: readonly string[] | undefined }[] = [];
  const services: WatchService[] = [];
  /** While set, `a` cannot reach the leases (Redis down for it): its lease runs out. */
  let isACutOff = false;
  const start = async (holder: string) => {
    const ownLeases: WatchLeases = {
      ...leases,
      acquire: async (...args) => {
        if (holder === 'a' && isACutOff) throw new Error('connection lost');
        return leases.acquire(...args);
      },
      renew: async (...args) => {
        if (holder === 'a' && isACutOff) throw new Error('connection lost');
        return leases.renew(...args);
      },
    };
    const service = createWatchService({
      holder,
      leases: ownLeases,
      leaseMs: LEASE_MS,
      pairs: {
        get: async () => pair,
        listWatched: async () => (pair?.enabled && pair.watch.enabled ? [pair] : []),
      },
      // Every run has ended by the time it is read.
      runs: { get: async (id) => ({ id, status: 'completed' }) as RunRecord },
      launcher: {
        launch: async (pairId, options): Promise<LaunchResult> => {
          launches.push({ holder, changedPaths: options.changedPaths });
          return { run: { id: `run-${launches.length}`, pairId } as RunRecord };
        },
      },
      bus,
      openSide: options.openSide ?? (async () => new MemoryStorage()),
      lastKnown: async () => new Map(),
      log: { info: () => {}, warn: () => {} },
    });
    services.push(service);
    await service.start();
    return service;
  };
  return {
    leases,
    bus,
    events,
    launches,
    services,
    start,
    cutOffA: () => {
      isACutOff = true;
    },
    setPair: (next: PairRecord | null) => {
      pair = next;
    },
  };
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

describe('watch service', () => {
  it('lets one process watch a pair; another takes it over once the holder loses its lease', async () => {
    const world = twoProcesses();
    cleanup = async () => {
      for (const service of world.services) await service.close();
    };
    const pairId = watchedPair().id;
    const a = await world.start('a');
    const b = await world.start('b');
    expect(a.watching()).toEqual([pairId]);
    expect(b.watching()).toEqual([]);
    expect(await world.leases.holder(pairId)).toBe('a');
    await vi.waitFor(() => expect(world.launches).toEqual([{ holder: 'a', changedPaths: undefined }]));
    await vi.waitFor(async () => expect((await world.leases.getState(pairId))?.watchedBy).toBe('a'));

    // a cannot renew: it stops watching at once; its lease runs out and b takes the pair.
    world.cutOffA();
    await vi.waitFor(() => expect(a.watching()).toEqual([]), { timeout: 2_000 });
    await vi.waitFor(() => expect(b.watching()).toEqual([pairId]), { timeout: 2_000 });
    expect(await world.leases.holder(pairId)).toBe('b');
    await vi.waitFor(() => expect(world.launches.map((launch) => launch.holder)).toEqual(['a', 'b']));
    // a, cut off, does not take the pair back.
    expect(a.watching()).toEqual([]);
  });

  it('stops a watch and gives its lease up when the pair is no longer watched, and says so', async () => {
    const world = twoProcesses();
    cleanup = async () => {
      for (const service of world.services) await service.close();
    };
    const pairId = watchedPair().id;
    const a = await world.start('a');
    expect(a.watching()).toEqual([pairId]);
    world.setPair(
      watchedPair({ watch: { enabled: false, debounceMs: 50, rescanMinutes: 60, pollSeconds: 60 } }),
    );
    await world.bus.publish({ type: 'pair.deleted', pairId });
    await vi.waitFor(() => expect(a.watching()).toEqual([]));
    expect(await world.leases.holder(pairId)).toBeNull();
    expect(await world.leases.getState(pairId)).toBeNull();
    expect(world.events).toContainEqual(
      expect.objectContaining({
        type: 'watch.state',
        pairId,
        watch: expect.objectContaining({ isWatching: false }),
      }),
    );
  });

  it('restarts a watch whose settings changed, even when the change was not announced', async () => {
    const world = twoProcesses();
    cleanup = async () => {
      for (const service of world.services) await service.close();
    };
    const pairId = watchedPair().id;
    const a = await world.start('a');
    await vi.waitFor(() => expect(world.launches).toHaveLength(1));
    world.setPair(
      watchedPair({ watch: { enabled: true, debounceMs: 500, rescanMinutes: 60, pollSeconds: 60 } }),
    );
    // The restarted watch starts with a full run of its own.
    await vi.waitFor(() => expect(world.launches).toHaveLength(2), { timeout: 2_000 });
    expect(a.watching()).toEqual([pairId]);
    expect(await world.leases.holder(pairId)).toBe('a');
  });

  it('says in the watch state why a pair cannot be watched, until it can', async () => {
    let isMissing = true;
    const world = twoProcesses({
      openSide: async () => {
        if (isMissing) throw new Error('the folder /source does not exist');
        return new MemoryStorage();
      },
    });
    cleanup = async () => {
      for (const service of world.services) await service.close();
    };
    const pairId = watchedPair().id;
    const a = await world.start('a');
    expect(a.watching()).toEqual([]);
    const problem = expect.stringContaining('the folder /source does not exist');
    expect(await world.leases.getState(pairId)).toMatchObject({ isWatching: false, problem });
    expect(world.events).toContainEqual({
      type: 'watch.state',
      pairId,
      watch: expect.objectContaining({ isWatching: false, problem }),
    });
    // Still said after the retries at the next renewals.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(await world.leases.getState(pairId)).toMatchObject({ isWatching: false, problem });

    isMissing = false;
    await vi.waitFor(() => expect(a.watching()).toEqual([pairId]), { timeout: 2_000 });
    await vi.waitFor(async () =>
      expect(await world.leases.getState(pairId)).toMatchObject({ isWatching: true, problem: null }),
    );
  });

  it('gives every lease up on close, for another process to watch at once', async () => {
    const world = twoProcesses();
    const pairId = watchedPair().id;
    const a = await world.start('a');
    expect(await world.leases.holder(pairId)).toBe('a');
    await a.close();
    expect(await world.leases.holder(pairId)).toBeNull();
    const b = await world.start('b');
    cleanup = () => b.close();
    expect(b.watching()).toEqual([pairId]);
  });
});
