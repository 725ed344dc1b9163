import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../backends/memory.js';
import { COMPARISON_MODES, type Plan, SYNC_MODES } from '../model.js';
import { isEngineInternalPath } from '../paths.js';
import { FileStateStore } from '../state/file-state-store.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { previewSync, sync } from './sync.js';

/**
 * Incremental runs (SPEC §12) against full ones: after random edits on both sides, a run told
 * the changed paths (as a watcher reports them: each path that appeared, vanished or changed,
 * a folder standing for everything below it) plans exactly what a full run plans, under every
 * mode and comparison. The runs carried out are incremental ones, so the state they leave is
 * what the next rounds plan from.
 */
const FILES = ['a', 'b', 'd/a', 'd/c', 'e/b', 'e/f/a', 'e/f', 'd', 'g/h/i'] as const;
const DIRS = ['d', 'e', 'e/f', 'g'] as const;

type Op =
  | { kind: 'write'; side: 0 | 1; path: number; size: number }
  | { kind: 'delete'; side: 0 | 1; path: number }
  | { kind: 'rename'; side: 0 | 1; path: number; to: number }
  | { kind: 'mkdir'; side: 0 | 1; dir: number }
  | { kind: 'rmdir'; side: 0 | 1; dir: number };

const side = fc.constantFrom(0 as const, 1 as const);
const file = fc.nat({ max: FILES.length - 1 });
const dir = fc.nat({ max: DIRS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('write' as const), side, path: file, size: fc.nat({ max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), side, path: file }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rename' as const), side, path: file, to: file }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mkdir' as const), side, dir }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rmdir' as const), side, dir }) },
);

interface World {
  sides: [MemoryStorage, MemoryStorage];
  counter: number;
}

async function apply(world: World, step: Op): Promise<void> {
  const storage = world.sides[step.side];
  try {
    switch (step.kind) {
      case 'write':
        // Same-size contents are common: renames found by size and hash, edits by time.
        storage.put(FILES[step.path]!, `${++world.counter}`.padStart(4 + step.size, 'x'), {
          mtime: Date.UTC(2026, 0, 1) + world.counter * 10_000,
        });
        return;
      case 'delete':
        if (storage.getBytes(FILES[step.path]!) !== undefined) await storage.delete(FILES[step.path]!);
        return;
      case 'rename': {
        const from = FILES[step.path]!;
        const to = FILES[step.to]!;
        if (from !== to && storage.getBytes(from) !== undefined && !storage.paths().includes(to)) {
          await storage.rename(from, to);
        }
        return;
      }
      case 'mkdir':
        await storage.mkdir(DIRS[step.dir]!);
        return;
      case 'rmdir': {
        const root = DIRS[step.dir]!;
        const below = storage
          .paths()
          .filter((path) => path === root || path.startsWith(`${root}/`))
          .reverse();
        for (const path of below) await storage.delete(path);
      }
    }
  } catch {
    // The user's own edit failed (a file in the way of a folder): nothing changed.
  }
}

/** Each path with what it holds (a folder: `/`) and its time, the engine's own left out. */
async function snapshot(storage: MemoryStorage): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of storage.paths()) {
    if (isEngineInternalPath(path)) continue;
    const text = storage.getText(path);
    out.set(path, text === undefined ? '/' : `${text}@${(await storage.stat(path))?.mtime}`);
  }
  return out;
}

/** What a watcher reports: the paths that appeared, vanished or changed. */
function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [path, held] of after) if (before.get(path) !== held) changed.add(path);
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed];
}

/** Each path with its content (a folder: `/`), the engine's own left out. */
function visible(storage: MemoryStorage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of storage.paths()) {
    if (!isEngineInternalPath(path)) out[path] = storage.getText(path) ?? '/';
  }
  return out;
}

function newWorld(): World {
  const world: World = {
    sides: [
      new MemoryStorage({ description: 'source', now: () => Date.UTC(2026, 0, 1) + world.counter * 10_000 }),
      new MemoryStorage({
        description: 'destination',
        now: () => Date.UTC(2026, 0, 1) + world.counter * 10_000,
      }),
    ],
    counter: 0,
  };
  return world;
}

const comparable = (plan: Plan) =>
  plan.actions
    .map((action) => ({
      type: action.type,
      path: action.path,
      to: action.to,
      reason: action.reason,
      bytes: action.bytes,
      subtree: action.subtree,
    }))
    .sort((a, b) => (a.path + a.type < b.path + b.type ? -1 : 1));

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function stateRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-incremental-'));
  roots.push(root);
  return root;
}

describe('incremental runs', () => {
  it('plan and do what full runs do, for every mode and comparison', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SYNC_MODES),
        fc.constantFrom(...COMPARISON_MODES),
        fc.array(op, { maxLength: 8 }),
        fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (mode, comparison, base, rounds, isFiled) => {
          // Two equal worlds under the same edits: one synced by full runs, one by incremental
          // ones, whose state is in memory (loaded whole) or in files (only the part they plan from).
          const worlds = [newWorld(), newWorld()] as const;
          const states = [
            new MemoryStateStore(),
            isFiled
              ? new FileStateStore(join(await stateRoot(), 'state'), { fsync: false })
              : new MemoryStateStore(),
          ] as const;
          let runAt = Date.UTC(2026, 10, 26);
          const options = (index: 0 | 1) => ({
            source: worlds[index].sides[0],
            destination: worlds[index].sides[1],
            state: states[index],
            config: { mode, comparisonMode: comparison, maxDeletePercent: 100 },
            clock: { now: () => runAt },
          });
          for (const world of worlds) for (const step of base) await apply(world, step);
          runAt += 60_000;
          await sync(options(0));
          await sync(options(1));
          for (const round of rounds) {
            const [, world] = worlds;
            const before = [await snapshot(world.sides[0]), await snapshot(world.sides[1])] as const;
            for (const each of worlds) for (const step of round) await apply(each, step);
            const changed = [
              ...changedPaths(before[0], await snapshot(world.sides[0])),
              ...changedPaths(before[1], await snapshot(world.sides[1])),
            ];
            runAt += 60_000;
            const partial = await previewSync({ ...options(1), changedPaths: changed });
            const full = await sync(options(0));
            expect(comparable(partial)).toEqual(comparable(full.plan));
            const incremental = await sync({ ...options(1), changedPaths: changed });
            expect(comparable(incremental.plan)).toEqual(comparable(full.plan));
            expect(incremental.status).toBe(full.status);
            for (const index of [0, 1] as const) {
              expect(visible(worlds[1].sides[index])).toEqual(visible(worlds[0].sides[index]));
            }
          }
          // What the incremental runs recorded is what the full runs recorded.
          const [fullState, incrementalState] = [await states[0].load(), await states[1].load()];
          for (const side of ['source', 'destination'] as const) {
            expect([...incrementalState![side].keys()].sort()).toEqual([...fullState![side].keys()].sort());
            for (const [path, entry] of fullState![side]) {
              const { size, isDir, hash } = incrementalState![side].get(path)!;
              expect({ size, isDir, hash }, path).toEqual({
                size: entry.size,
                isDir: entry.isDir,
                hash: entry.hash,
              });
            }
          }
        },
      ),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 100) },
    );
  }, 120_000);
});
