import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncResult } from '../api.js';
import { MemoryStorage } from '../backends/memory.js';
import { SyncController } from '../controller.js';
import { SyncError } from '../errors.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import type { StateStore } from '../state-store.js';
import type { Storage } from '../storage.js';
import { sync } from './sync.js';

const T0 = Date.UTC(2026, 0, 1);
const NAMES = ['a', 'b', 'c', 'd/e', 'd/f', 'g/h/i'] as const;

/** A pair that was in sync, then edited on both sides: deterministic for a given edit list. */
interface Scenario {
  editSource: number[];
  editDestination: number[];
  deleteSource: number[];
  addDestination: number[];
  renameSource: number[];
}

interface World {
  source: MemoryStorage;
  destination: MemoryStorage;
  state: MemoryStateStore;
}

async function build(scenario: Scenario): Promise<World> {
  let tick = T0;
  const now = () => tick;
  /** A later mtime for each write. */
  const later = () => {
    tick += 10_000;
    return tick;
  };
  const world: World = {
    source: new MemoryStorage({ description: 'source', now }),
    destination: new MemoryStorage({ description: 'destination', now }),
    state: new MemoryStateStore(),
  };
  for (const name of NAMES) world.source.put(name, `base ${name}`, { mtime: later() });
  await sync({ ...world, clock: { now: () => T0 } });
  for (const index of scenario.editSource)
    world.source.put(NAMES[index]!, `src ${index}`, { mtime: later() });
  for (const index of scenario.editDestination) {
    world.destination.put(NAMES[index]!, `dst ${index}`, { mtime: later() });
  }
  for (const index of scenario.deleteSource) await world.source.delete(NAMES[index]!);
  for (const index of scenario.addDestination) {
    world.destination.put(`new/${index}`, `added ${index}`, { mtime: later() });
  }
  for (const index of scenario.renameSource) {
    const from = NAMES[index]!;
    if (world.source.getBytes(from) !== undefined) await world.source.rename(from, `moved-${index}`);
  }
  return world;
}

function visible(storage: MemoryStorage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of storage.paths()) {
    if (path.startsWith('.syncengine')) continue;
    out[path] = storage.getText(path) ?? '/';
  }
  return out;
}

function everything(world: World): Set<string> {
  const out = new Set<string>();
  for (const storage of [world.source, world.destination]) {
    for (const path of storage.paths()) {
      const text = storage.getText(path);
      if (text !== undefined) out.add(text);
    }
  }
  return out;
}

/** Work a run did: actions carried out and bytes moved. */
function work(result: SyncResult): { actions: number; bytes: number } {
  const actions = Object.values(result.stats.actions).reduce((sum, count) => sum + (count ?? 0), 0);
  return { actions, bytes: result.stats.bytesUploaded + result.stats.bytesDownloaded };
}

function failingWriteAt(inner: Storage, failAt: number): Storage {
  let calls = 0;
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'write') {
        return async (...args: Parameters<Storage['write']>) => {
          if (++calls === failAt) {
            for await (const _ of args[1]) {
              // consume what was sent, as a backend that fails at the end would
            }
            throw new SyncError('PERMISSION', 'write refused');
          }
          return target.write(...args);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const indices = fc.uniqueArray(fc.nat({ max: NAMES.length - 1 }), { maxLength: 3 });
const scenario: fc.Arbitrary<Scenario> = fc.record({
  editSource: indices,
  editDestination: indices,
  deleteSource: indices,
  addDestination: indices,
  renameSource: indices,
});

describe('interrupted syncs', () => {
  it('resume after a cancel or a failed write at any point: converged, nothing lost, nothing moved twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario,
        fc.nat({ max: 10 }),
        fc.constantFrom('cancel' as const, 'failed write' as const, 'direction' as const),
        async (edits, stopAt, how) => {
          const config = { maxDeletePercent: 100, transfers: 2, operations: 2 };
          const clock = { now: () => T0 + 3_600_000 };
          const baselineWorld = await build(edits);
          const baseline = await sync({ ...baselineWorld, config, clock });
          expect(baseline.status).toBe('completed');

          const world = await build(edits);
          const before = everything(world);
          const controller = new SyncController();
          let completed = 0;
          const interrupted = await sync({
            ...world,
            ...(how === 'cancel'
              ? {}
              : how === 'failed write'
                ? { destination: failingWriteAt(world.destination, stopAt + 1) }
                : { source: failingWriteAt(world.source, stopAt + 1) }),
            controller,
            config,
            clock,
            onEvent: (event) => {
              if (how === 'cancel' && event.type === 'action_complete' && ++completed === stopAt)
                controller.cancel();
            },
          });
          const resumed = await sync({ ...world, config, clock: { now: () => T0 + 7_200_000 } });

          expect(resumed.status).toBe('completed');
          expect(visible(world.destination)).toEqual(visible(world.source));
          expect(visible(world.source)).toEqual(visible(baselineWorld.source));
          const after = everything(world);
          for (const content of before) expect(after.has(content), `${content} was lost`).toBe(true);
          // No full resync: the two runs together did what one uninterrupted run did.
          const done = work(interrupted);
          const rest = work(resumed);
          expect(done.bytes + rest.bytes).toBe(work(baseline).bytes);
          expect(done.actions + rest.actions).toBe(work(baseline).actions);
        },
      ),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 60) },
    );
  });

  it('resumes from the per-action records when a run dies before its final save', async () => {
    const world = await build({
      editSource: [0, 1],
      editDestination: [2],
      deleteSource: [],
      addDestination: [0, 1],
      renameSource: [],
    });
    const crashing: StateStore = {
      load: () => world.state.load(),
      update: (changes) => world.state.update(changes),
      loadMetadata: () => world.state.loadMetadata(),
      saveMetadata: (metadata) => world.state.saveMetadata(metadata),
      save: async () => {
        throw new Error('power lost');
      },
    };
    await expect(sync({ ...world, state: crashing })).rejects.toThrow('power lost');
    const resumed = await sync(world);
    expect(resumed.status).toBe('completed');
    // Every completed action was recorded: not even bookkeeping is left to plan.
    expect(resumed.plan.actions).toEqual([]);
    expect(visible(world.destination)).toEqual(visible(world.source));
  });
});
