import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withUnreadableFolders } from '../../test/testing/unreadable-folders.js';
import { MemoryStorage } from '../backends/memory.js';
import { isSameOrBelow } from '../paths.js';
import { MemoryStateStore } from '../state/memory-state-store.js';
import { sync } from './sync.js';

/**
 * Random edits on both sides between two-way syncs. Some file names are also folder names
 * (`d`, `e/f`), so one side may hold a file where the other holds a folder, and a file may
 * be replaced by a folder of the same name or back. Folders may become unreadable for a
 * while (as a folder without read permission lists: see `withUnreadableFolders`; the CLI
 * tests lock real folders as `nobody`): outside them the sides still converge, nothing is
 * lost, and once readable again the next sync converges everywhere.
 */
const FILES = ['a', 'b', 'd/a', 'd/c', 'e/b', 'e/f/a', 'e/f', 'd'] as const;
const DIRS = ['d', 'e', 'e/f'] as const;

type Op =
  | { kind: 'write'; side: 0 | 1; path: number }
  | { kind: 'delete'; side: 0 | 1; path: number }
  | { kind: 'rename'; side: 0 | 1; path: number; to: number }
  | { kind: 'mkdir'; side: 0 | 1; dir: number }
  | { kind: 'rmdir'; side: 0 | 1; dir: number }
  | { kind: 'lock'; side: 0 | 1; dir: number }
  | { kind: 'unlock'; side: 0 | 1; dir: number };

const side = fc.constantFrom(0 as const, 1 as const);
const file = fc.nat({ max: FILES.length - 1 });
const dir = fc.nat({ max: DIRS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), side, path: file }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), side, path: file }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), side, path: file, to: file }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mkdir' as const), side, dir }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rmdir' as const), side, dir }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lock' as const), side, dir }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unlock' as const), side, dir }) },
);

interface World {
  sides: [MemoryStorage, MemoryStorage];
  /** Folders that cannot be read now, per side. */
  locked: [Set<string>, Set<string>];
  counter: number;
}

async function apply(world: World, step: Op): Promise<void> {
  try {
    await applyUnsafe(world, step);
  } catch {
    // The user's own edit failed (a file in the way of a folder): nothing changed.
  }
}

async function applyUnsafe(world: World, step: Op): Promise<void> {
  const storage = world.sides[step.side];
  const mtime = () => Date.UTC(2026, 0, 1) + ++world.counter * 10_000;
  switch (step.kind) {
    case 'write':
      storage.put(FILES[step.path]!, `content-${++world.counter}`, { mtime: mtime() });
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
    case 'lock':
      world.locked[step.side].add(DIRS[step.dir]!);
      return;
    case 'unlock':
      world.locked[step.side].delete(DIRS[step.dir]!);
      return;
    case 'rmdir': {
      // A user deleting a whole folder: its files, then the folder itself.
      const root = DIRS[step.dir]!;
      const below = storage
        .paths()
        .filter((path) => path === root || path.startsWith(`${root}/`))
        .reverse();
      for (const path of below) await storage.delete(path);
    }
  }
}

/**
 * The user-visible tree: paths (folders with a trailing `/`) and contents. Without the
 * folders in `leftOut`, what is below them, and the folders above them: a folder holding one
 * that was left alone is kept where its other contents were deleted, as one holding ignored
 * files is.
 */
function visible(storage: MemoryStorage, leftOut: Iterable<string> = []): Record<string, string> {
  const out: Record<string, string> = {};
  const left = [...leftOut];
  for (const path of storage.paths()) {
    if (path === '.syncengine' || path.startsWith('.syncengine/')) continue;
    if (left.some((root) => isSameOrBelow(path, root) || isSameOrBelow(root, path))) continue;
    const text = storage.getText(path);
    out[text === undefined ? `${path}/` : path] = text ?? '';
  }
  return out;
}

/** Every file content held anywhere on a side, versions area included. */
function allContents(storage: MemoryStorage): Set<string> {
  const out = new Set<string>();
  for (const path of storage.paths()) {
    const text = storage.getText(path);
    if (text !== undefined) out.add(text);
  }
  return out;
}

describe('two-way sync under random edits', () => {
  it('converges after every sync and never loses a content that existed before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        async (rounds) => {
          const world: World = {
            sides: [
              new MemoryStorage({
                description: 'source',
                now: () => Date.UTC(2026, 0, 1) + world.counter * 10_000,
              }),
              new MemoryStorage({
                description: 'destination',
                now: () => Date.UTC(2026, 0, 1) + world.counter * 10_000,
              }),
            ],
            locked: [new Set(), new Set()],
            counter: 0,
          };
          const state = new MemoryStateStore();
          const source = withUnreadableFolders(world.sides[0], world.locked[0]);
          const destination = withUnreadableFolders(world.sides[1], world.locked[1]);
          let runAt = Date.UTC(2026, 10, 26);
          const run = () => {
            runAt += 60_000;
            return sync({
              source,
              destination,
              state,
              // Random edits may delete most of a side; the guard has its own tests.
              config: { maxDeletePercent: 100 },
              clock: { now: () => runAt },
            });
          };
          for (const round of rounds) {
            for (const step of round) await apply(world, step);
            const before = new Set([...allContents(world.sides[0]), ...allContents(world.sides[1])]);
            const result = await run();
            const leftOut = [...world.locked[0], ...world.locked[1]];
            for (const error of result.errors) {
              expect(error.code).toBe('UNREADABLE');
              expect(leftOut).toContain(error.path);
            }
            expect(result.status).toBe('completed');
            expect(visible(world.sides[1], leftOut)).toEqual(visible(world.sides[0], leftOut));
            const after = new Set([...allContents(world.sides[0]), ...allContents(world.sides[1])]);
            for (const content of before) expect(after.has(content), `${content} was lost`).toBe(true);
          }
          // Everything readable again: one sync converges, and then there is nothing to do.
          world.locked[0].clear();
          world.locked[1].clear();
          const unlocked = await run();
          expect(unlocked.errors).toEqual([]);
          expect(visible(world.sides[1])).toEqual(visible(world.sides[0]));
          const settled = await run();
          expect(settled.plan.actions.filter((action) => action.type !== 'NO_ACTION')).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 100) },
    );
  }, 60_000);
});

/** Content of `size` bytes from a seed: two seeds give different contents of one size. */
const contentOf = (seed: number, size: number) =>
  `${seed}:`.padEnd(size, String.fromCharCode(97 + (seed % 26))).slice(0, size);

describe('two-way sync of same-size edits with mtimes within 2 s', () => {
  it('never takes two different contents for the same file: both are kept, on both sides', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          size: fc.integer({ min: 8, max: 4_000 }),
          // Offsets (ms) of the first run's mtime, and of each side's edit from it: the edits
          // lie within 2 s of each other, and of what was synced.
          base: fc.integer({ min: -2_000, max: 2_000 }),
          source: fc.integer({ min: -1_000, max: 1_000 }),
          destination: fc.integer({ min: -1_000, max: 1_000 }),
          onFirstSync: fc.boolean(),
        }),
        async ({ size, base, source, destination, onFirstSync }) => {
          const start = Date.UTC(2026, 0, 1);
          const sides = [
            new MemoryStorage({ description: 'source' }),
            new MemoryStorage({ description: 'destination' }),
          ];
          const state = new MemoryStateStore();
          const run = (at: number) =>
            sync({ source: sides[0]!, destination: sides[1]!, state, clock: { now: () => at } });
          if (!onFirstSync) {
            sides[0]!.put('f.txt', contentOf(1, size), { mtime: start });
            expect((await run(start + 60_000)).status).toBe('completed');
          }
          const edits = [contentOf(2, size), contentOf(3, size)];
          sides[0]!.put('f.txt', edits[0]!, { mtime: start + base + source });
          sides[1]!.put('f.txt', edits[1]!, { mtime: start + base + destination });

          const result = await run(start + 120_000);

          expect(result.errors).toEqual([]);
          expect(visible(sides[1]!)).toEqual(visible(sides[0]!));
          const held = Object.values(visible(sides[0]!));
          for (const edit of edits) expect(held, `${edit.slice(0, 8)}… was not kept`).toContain(edit);
        },
      ),
      { numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 100) },
    );
  }, 60_000);
});
