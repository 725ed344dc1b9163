import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalStorage } from '@syncengine/storage-local';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { SyncConfig } from '../config.js';
import { COMPARISON_MODES, type LastKnownState, type Plan, SYNC_MODES } from '../model.js';
import { FileStateStore } from '../state/file-state-store.js';
import type { StateChange, StateStore, SyncMetadata } from '../state-store.js';
import type { FolderChanges, ListingDigest } from '../storage.js';
import { sync } from './sync.js';

/**
 * Runs scoped by the folder digests against full runs: after random edits on both sides of
 * a pair whose last run recorded its folder digests, a run that lists and plans only the
 * folders that differ plans and does exactly what a full run does on an equal pair, and
 * records the same state, under every mode and comparison: whether it loads only the part
 * of the state it plans from (a file store) or the whole state (a store that cannot load part).
 */
const FILES = ['a', 'd', 'd/a', 'd/c', 'e/b', 'e/f/a', 'e/f/g', 'e/f', 'g/h/i', 'g/h/j'] as const;
const DIRS = ['d', 'e', 'e/f', 'g', 'g/h'] as const;

type Op =
  | { kind: 'write'; side: 0 | 1; path: number; size: number }
  | { kind: 'delete'; side: 0 | 1; path: number }
  | { kind: 'rename'; side: 0 | 1; path: number; to: number }
  | { kind: 'mkdir'; side: 0 | 1; dir: number }
  | { kind: 'rmdir'; side: 0 | 1; dir: number }
  | { kind: 'retype'; side: 0 | 1; path: number };

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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retype' as const), side, path: file }) },
);

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** A local storage that records what its folder-digest walks found. */
class ObservedStorage extends LocalStorage {
  found: (FolderChanges | null)[] = [];
  override async changedFoldersSince(
    digest: ListingDigest,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<FolderChanges | null> {
    const changes = await super.changedFoldersSince(digest, options);
    this.found.push(changes);
    return changes;
  }
}

/**
 * The same state files with no `loadPart`: a scoped run loads and saves the whole state, as
 * with any store that cannot load part of it.
 */
class WholeStateStore implements StateStore {
  readonly #files: FileStateStore;

  constructor(files: FileStateStore) {
    this.#files = files;
  }

  load() {
    return this.#files.load();
  }

  save(state: LastKnownState) {
    return this.#files.save(state);
  }

  update(changes: StateChange[]) {
    return this.#files.update(changes);
  }

  keepsUpdates() {
    return this.#files.keepsUpdates();
  }

  loadMetadata() {
    return this.#files.loadMetadata();
  }

  saveMetadata(metadata: SyncMetadata) {
    return this.#files.saveMetadata(metadata);
  }
}

interface World {
  roots: [string, string];
  sides: [LocalStorage, LocalStorage];
  state: StateStore;
}

async function newWorld(scoped: boolean, whole = false): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'syncengine-folder-scope-'));
  roots.push(root);
  const paths: [string, string] = [join(root, 'src'), join(root, 'dst')];
  for (const path of paths) await mkdir(path);
  const make = (path: string) => {
    const storage = scoped ? new ObservedStorage(path) : new LocalStorage(path);
    // The full runs' pair cannot tell which folders changed: it lists both trees whole.
    if (!scoped) Object.defineProperty(storage, 'changedFoldersSince', { value: undefined });
    return storage;
  };
  return {
    roots: paths,
    sides: [make(paths[0]), make(paths[1])],
    state: whole
      ? new WholeStateStore(new FileStateStore(join(root, 'state'), { fsync: false }))
      : new FileStateStore(join(root, 'state'), { fsync: false }),
  };
}

let counter = 0;

async function apply(world: World, step: Op, stamp: number): Promise<void> {
  const root = world.roots[step.side];
  const at = (path: string) => join(root, path);
  const kind = async (path: string) => (await stat(at(path)).catch(() => null)) ?? null;
  try {
    switch (step.kind) {
      case 'write': {
        const path = FILES[step.path]!;
        if ((await kind(path))?.isDirectory()) return;
        await mkdir(dirname(at(path)), { recursive: true });
        await writeFile(at(path), `${stamp}`.padStart(4 + step.size, 'x'));
        await utimes(at(path), stamp / 1000, stamp / 1000);
        return;
      }
      case 'delete': {
        const path = FILES[step.path]!;
        if ((await kind(path))?.isFile()) await rm(at(path));
        return;
      }
      case 'rename': {
        const from = FILES[step.path]!;
        const to = FILES[step.to]!;
        if (from === to || !(await kind(from))?.isFile() || (await kind(to)) !== null) return;
        await mkdir(dirname(at(to)), { recursive: true });
        await rename(at(from), at(to));
        return;
      }
      case 'mkdir':
        await mkdir(at(DIRS[step.dir]!), { recursive: true });
        return;
      case 'rmdir': {
        const path = DIRS[step.dir]!;
        if ((await kind(path))?.isDirectory()) await rm(at(path), { recursive: true });
        return;
      }
      case 'retype': {
        // A file becomes a folder (holding a file), a folder a file.
        const path = FILES[step.path]!;
        const found = await kind(path);
        if (!found) return;
        await rm(at(path), { recursive: true });
        if (found.isFile()) {
          await mkdir(at(path));
          await writeFile(at(join(path, 'z')), `${stamp}`);
          await utimes(at(join(path, 'z')), stamp / 1000, stamp / 1000);
        } else {
          await writeFile(at(path), `${stamp}`);
          await utimes(at(path), stamp / 1000, stamp / 1000);
        }
      }
    }
  } catch {
    // The user's own edit failed (a file in the way of a folder): nothing changed.
  }
}

/** Each path with its content (a folder: `/`), the engine's own left out. */
async function visible(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name).slice(root.length + 1);
    if (path.startsWith('.syncengine')) continue;
    out[path] = entry.isDirectory() ? '/' : await readFile(join(root, path), 'utf8');
  }
  return out;
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

/** The recorded state, each record as what both pairs share (not times or ids). */
async function recorded(state: StateStore) {
  const loaded = await state.load();
  const out: Record<string, Record<string, string>> = {};
  for (const name of ['source', 'destination'] as const) {
    out[name] = Object.fromEntries(
      [...(loaded?.[name] ?? new Map())].map(([path, entry]) => [
        path,
        `${entry.isDir ? 'dir' : entry.size}:${entry.hash ?? ''}`,
      ]),
    );
  }
  return out;
}

describe('runs scoped by the folder digests', () => {
  it('plan, do and record what full runs do, for every mode and comparison', async () => {
    let scopedRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SYNC_MODES),
        fc.constantFrom(...COMPARISON_MODES),
        fc.array(op, { maxLength: 10 }),
        fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        async (mode, comparison, base, rounds) => {
          // Two equal pairs under the same edits: one synced by full runs, one scoped where it can be.
          const worlds = [await newWorld(false), await newWorld(true), await newWorld(true, true)] as const;
          const config: Partial<SyncConfig> = { mode, comparisonMode: comparison, maxDeletePercent: 100 };
          // Every pair's run of a round starts at the same time: conflict copies and versions
          // are named after it.
          let runAt = Date.now();
          const run = (world: World) =>
            sync({
              source: world.sides[0],
              destination: world.sides[1],
              state: world.state,
              config,
              clock: { now: () => runAt },
            });
          for (const step of base) {
            counter += 1;
            for (const world of worlds) await apply(world, step, Date.UTC(2026, 0, 1) + counter * 10_000);
          }
          for (const world of worlds) await run(world);
          for (const round of rounds) {
            runAt += 60_000;
            // A run after the last one (mostly with nothing to do) records the folder digests
            // the next run starts from.
            const settled = [await run(worlds[0]), await run(worlds[1]), await run(worlds[2])];
            expect(comparable(settled[1]!.plan)).toEqual(comparable(settled[0]!.plan));
            expect(comparable(settled[2]!.plan)).toEqual(comparable(settled[0]!.plan));
            for (const step of round) {
              counter += 1;
              for (const world of worlds) await apply(world, step, Date.UTC(2026, 0, 1) + counter * 10_000);
            }
            runAt += 60_000;
            const observed = worlds[1].sides as [ObservedStorage, ObservedStorage];
            for (const storage of observed) storage.found = [];
            const full = await run(worlds[0]);
            const scoped = await run(worlds[1]);
            const wholeScoped = await run(worlds[2]);
            if (observed.every((storage) => storage.found.some((found) => found !== null))) scopedRuns++;
            for (const [index, result] of [scoped, wholeScoped].entries()) {
              const world = worlds[index + 1]!;
              expect(comparable(result.plan)).toEqual(comparable(full.plan));
              expect(result.status).toBe(full.status);
              for (const side of [0, 1] as const) {
                expect(await visible(world.roots[side])).toEqual(await visible(worlds[0].roots[side]));
              }
              expect(await recorded(world.state)).toEqual(await recorded(worlds[0].state));
            }
            // All record folder digests for the next run, or none, counting the same entries.
            const prints = (await Promise.all(worlds.map((world) => world.state.loadMetadata()))).map(
              (metadata) => {
                const print = metadata?.treeFingerprint;
                return print && [print.source.entries, print.destination.entries];
              },
            );
            expect(prints[1]).toEqual(prints[0]);
            expect(prints[2]).toEqual(prints[0]);
          }
        },
      ),
      {
        numRuns: Number(process.env.SYNC_PROPERTY_RUNS ?? 40),
        examples: process.env.EX ? [JSON.parse(process.env.EX)] : [],
      },
    );
    // The scoped path was taken, not only the full one.
    expect(scopedRuns).toBeGreaterThan(Number(process.env.SYNC_PROPERTY_RUNS ?? 40) / 4);
  }, 240_000);
});
