import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dir, file, HASH, T0 } from '../../test/planner-fixtures.js';
import type { PlanInput } from '../api.js';
import { resolveConfig } from '../config.js';
import {
  COMPARISON_MODES,
  type ComparisonMode,
  type Entry,
  type LastKnownState,
  type Plan,
  type Side,
  SYNC_MODES,
  type SyncMode,
  type Tree,
} from '../model.js';
import { compareEntries } from './compare.js';
import { hashNeeds, inheritHashes } from './hash-needs.js';
import { conflictFileName } from './names.js';
import { planSync } from './plan.js';

/**
 * Plans, carries the plan out on in-memory trees the way the executor does (recording
 * each completed action in the last-known state), and plans again: the second plan must
 * be empty and the sides must agree as the mode promises.
 */

const LEAVES = ['a', 'b', 'c', 'd/e', 'd/f', 'd/g/h'];
const CONTENTS = ['x', 'y', 'xy', 'yy', 'xyz'];

type SideOp =
  | { kind: 'keep' }
  | { kind: 'write'; content: string }
  | { kind: 'delete' }
  | { kind: 'rename'; to: string }
  /** A file replaced by a folder of the same name holding one file. */
  | { kind: 'retype'; content: string };

const other = (side: Side): Side => (side === 'source' ? 'destination' : 'source');

/** Adds the parent directories every file needs, as a real file system has them. */
function withParents(tree: Tree): Tree {
  for (const path of [...tree.keys()]) {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const parent = path.slice(0, slash);
      if (!tree.has(parent)) tree.set(parent, dir(parent));
    }
  }
  return tree;
}

/** An entry listed without its hash keeps the true one here, for hashing on demand and for checks. */
type Hidden = Entry & { content?: string };
const trueHash = (entry: Entry) => entry.hash ?? (entry as Hidden).content;

/** What the orchestrator does before planning: reuse recorded hashes, then hash what the planner asks for. */
function hashAsAsked(input: PlanInput): void {
  inheritHashes(input.source, input.lastKnown?.source);
  inheritHashes(input.destination, input.lastKnown?.destination);
  const needs = hashNeeds(input);
  for (const side of ['source', 'destination'] as const) {
    for (const path of needs[side]) {
      const entry = input[side].get(path)!;
      entry.hash = trueHash(entry);
      entry.hashAlgorithm = HASH;
    }
  }
}

/** Whole-side changes on top of the per-leaf operations. */
interface SideExtras {
  removeFolder: boolean;
  /** The folder `d` (with everything in it) replaced by a file `d`. */
  folderToFile: string | null;
  makeEmptyFolder: boolean;
  /** The side lists no hashes (a backend that has none, before hashing). */
  dropHashes: boolean;
}

function applyOps(base: Tree, ops: SideOp[], extras: SideExtras, clock: number): Tree {
  const tree: Tree = new Map([...base].map(([path, entry]) => [path, { ...entry }]));
  LEAVES.forEach((path, index) => {
    const op = ops[index]!;
    const current = tree.get(path);
    if (op.kind === 'write') tree.set(path, file(path, op.content, { mtime: clock + index * 1_000 }));
    else if (op.kind === 'retype' && current && !current.isDir) {
      tree.set(path, dir(path, clock + index * 1_000));
      tree.set(`${path}/in`, file(`${path}/in`, op.content, { mtime: clock + index * 1_000 }));
    } else if (op.kind === 'delete') tree.delete(path);
    else if (op.kind === 'rename' && current && !current.isDir && !tree.has(op.to)) {
      tree.delete(path);
      tree.set(op.to, { ...current, path: op.to });
    }
  });
  withParents(tree);
  if (extras.removeFolder) {
    for (const path of [...tree.keys()]) if (path === 'd' || path.startsWith('d/')) tree.delete(path);
  }
  if (extras.makeEmptyFolder && !tree.has('k')) tree.set('k', dir('k', clock));
  if (extras.folderToFile !== null && !extras.removeFolder && tree.get('d')?.isDir) {
    for (const path of [...tree.keys()]) if (path === 'd' || path.startsWith('d/')) tree.delete(path);
    tree.set('d', file('d', extras.folderToFile, { mtime: clock + 50_000 }));
  }
  if (extras.dropHashes) {
    for (const entry of tree.values()) {
      if (entry.hash !== undefined) (entry as Hidden).content = entry.hash;
      delete entry.hash;
      delete entry.hashAlgorithm;
    }
  }
  return tree;
}

function copyEntry(entry: Entry, path: string): Entry {
  return { ...entry, path };
}

/** Executes a plan the way the executor does; returns the new last-known state. */
function execute(plan: Plan, trees: Record<Side, Tree>, lastKnown: LastKnownState | null): LastKnownState {
  const state: LastKnownState = {
    source: new Map(lastKnown?.source),
    destination: new Map(lastKnown?.destination),
  };
  const record = (path: string) => {
    for (const side of ['source', 'destination'] as const) {
      const entry = trees[side].get(path);
      if (entry) state[side].set(path, entry);
      else state[side].delete(path);
    }
  };
  const copy = (from: Side, path: string) => {
    const entry = trees[from].get(path)!;
    trees[other(from)].set(path, copyEntry(entry, path));
    withParents(trees[other(from)]);
  };
  const remove = (side: Side, path: string) => {
    const entry = trees[side].get(path);
    if (entry?.isDir) {
      for (const below of trees[side].keys()) {
        if (below.startsWith(`${path}/`)) throw new Error(`deleting non-empty directory ${path} at ${side}`);
      }
    }
    trees[side].delete(path);
  };
  /** A type change: the loser's entry and everything below it goes, the winner's comes across. */
  const replaceType = (from: Side, path: string, subtree: string[]) => {
    const to = other(from);
    for (const below of [path, ...subtree]) {
      trees[to].delete(below);
      const entry = trees[from].get(below);
      if (entry) trees[to].set(below, copyEntry(entry, below));
    }
    for (const below of [path, ...subtree]) record(below);
  };
  const byStage = (stage: (type: string) => boolean) => plan.actions.filter((a) => stage(a.type));
  for (const action of plan.actions) {
    if (!action.subtree) continue;
    const resolution = action.conflict?.resolution;
    if (action.type.startsWith('UPLOAD_') || resolution === 'source')
      replaceType('source', action.path, action.subtree);
    else if (action.type.startsWith('DOWNLOAD_') || resolution === 'destination')
      replaceType('destination', action.path, action.subtree);
    else if (resolution === 'keep-both') {
      // The file takes its conflict name on both sides; the folder goes across.
      const fileSide: Side = trees.source.get(action.path)?.isDir ? 'destination' : 'source';
      const loser = trees[fileSide].get(action.path)!;
      const renamed = conflictFileName(action.path, T0, fileSide);
      trees.source.set(renamed, copyEntry(loser, renamed));
      trees.destination.set(renamed, copyEntry(loser, renamed));
      trees[fileSide].delete(action.path);
      replaceType(other(fileSide), action.path, action.subtree);
      record(renamed);
    }
  }
  for (const action of byStage((type) => type.startsWith('RENAME_'))) {
    const side: Side = action.type === 'RENAME_SOURCE' ? 'source' : 'destination';
    const entry = trees[side].get(action.path)!;
    expect(trees[side].has(action.to!)).toBe(false);
    trees[side].delete(action.path);
    trees[side].set(action.to!, copyEntry(entry, action.to!));
    withParents(trees[side]);
    record(action.path);
    record(action.to!);
  }
  for (const action of byStage((type) => /^(UPLOAD|DOWNLOAD)_/.test(type) || type === 'CONFLICT')) {
    if (action.subtree) continue;
    if (action.type.startsWith('UPLOAD_')) copy('source', action.path);
    else if (action.type.startsWith('DOWNLOAD_')) copy('destination', action.path);
    else {
      const resolution = action.conflict?.resolution;
      if (resolution === 'source') copy('source', action.path);
      else if (resolution === 'destination') copy('destination', action.path);
      else if (resolution === 'keep-both') {
        const loser = trees.destination.get(action.path)!;
        const renamed = conflictFileName(action.path, T0, 'destination');
        trees.destination.set(renamed, copyEntry(loser, renamed));
        trees.source.set(renamed, copyEntry(loser, renamed));
        copy('source', action.path);
        record(renamed);
      } else continue;
    }
    record(action.path);
  }
  for (const action of byStage((type) => type.startsWith('DELETE_'))) {
    remove(action.type === 'DELETE_SOURCE' ? 'source' : 'destination', action.path);
    record(action.path);
  }
  for (const action of byStage((type) => type === 'NO_ACTION')) record(action.path);
  return state;
}

const contentArb = fc.constantFrom(...CONTENTS);
const opArb: fc.Arbitrary<SideOp> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'keep' as const }) },
  { weight: 2, arbitrary: contentArb.map((content) => ({ kind: 'write' as const, content })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...LEAVES).map((to) => ({ kind: 'rename' as const, to })) },
  { weight: 1, arbitrary: contentArb.map((content) => ({ kind: 'retype' as const, content })) },
);
const opsArb = fc.array(opArb, { minLength: LEAVES.length, maxLength: LEAVES.length });
const extrasArb: fc.Arbitrary<SideExtras> = fc.record({
  removeFolder: fc.boolean(),
  folderToFile: fc.option(contentArb, { nil: null, freq: 4 }),
  makeEmptyFolder: fc.boolean(),
  dropHashes: fc.boolean(),
});
const baseArb = fc
  .array(fc.option(contentArb, { nil: undefined }), { minLength: LEAVES.length, maxLength: LEAVES.length })
  .map((contents) => {
    const tree: Tree = new Map();
    LEAVES.forEach((path, index) => {
      const content = contents[index];
      // Spaced mtimes: two different contents never share size and mtime by accident.
      if (content !== undefined) tree.set(path, file(path, content, { mtime: T0 + index * 10_000 }));
    });
    return withParents(tree);
  });

const CONVERGING: ComparisonMode[] = ['HASH_THEN_MTIME', 'HASH_ONLY', 'SIZE_AND_MTIME'];

function assertModePromise(mode: SyncMode, comparison: ComparisonMode, trees: Record<Side, Tree>) {
  const same = (path: string) => {
    const source = trees.source.get(path);
    const destination = trees.destination.get(path);
    if (!source || !destination) return false;
    const withHash = (entry: Entry): Entry =>
      entry.isDir ? entry : { ...entry, hash: trueHash(entry), hashAlgorithm: HASH };
    const [a, b] = [withHash(source), withHash(destination)];
    // The same bytes are in sync whatever the mode (a pair found equal by hash keeps its mtimes).
    if (!a.isDir && !b.isDir && a.size === b.size && a.hash === b.hash) return true;
    return compareEntries(a, b, comparison) === 'identical';
  };
  const authority: Side =
    mode === 'SOURCE_TO_DESTINATION' || mode === 'SOURCE_BACKUP' ? 'source' : 'destination';
  if (mode === 'TWO_WAY' || mode === 'SOURCE_TO_DESTINATION' || mode === 'DESTINATION_TO_SOURCE') {
    expect([...trees.source.keys()].sort()).toEqual([...trees.destination.keys()].sort());
    for (const path of trees.source.keys()) expect(same(path), path).toBe(true);
  } else if (comparison !== 'SIZE_AND_MTIME') {
    // A backup holds every file of the authoritative side, though a file renamed inside
    // the backup stays under its new name (SPEC §4: "renamed at destination: NO_ACTION").
    const held = new Set([...trees[other(authority)].values()].map(trueHash));
    for (const entry of trees[authority].values()) {
      if (!entry.isDir) expect(held.has(trueHash(entry)), entry.path).toBe(true);
    }
  }
}

describe('planSync, carried out and planned again', () => {
  it('reaches a state where the next plan is empty and both sides agree as the mode promises', () => {
    fc.assert(
      fc.property(
        baseArb,
        opsArb,
        opsArb,
        fc.constantFrom(...SYNC_MODES),
        fc.constantFrom(...COMPARISON_MODES),
        fc.constantFrom('NEWEST_WINS', 'SOURCE_WINS', 'DESTINATION_WINS' as const),
        fc.boolean(),
        extrasArb,
        extrasArb,
        (
          base,
          sourceOps,
          destinationOps,
          mode,
          comparison,
          conflictStrategy,
          isFirstSync,
          sourceExtras,
          destinationExtras,
        ) => {
          const trees: Record<Side, Tree> = {
            source: applyOps(base, sourceOps, sourceExtras, T0 + 100_000),
            destination: applyOps(base, destinationOps, destinationExtras, T0 + 200_000),
          };
          const lastKnown: LastKnownState | null = isFirstSync
            ? null
            : { source: new Map(base), destination: new Map(base) };
          const config = resolveConfig({
            mode,
            comparisonMode: comparison,
            conflictResolution: conflictStrategy,
          });
          const input = { source: trees.source, destination: trees.destination, lastKnown, config };
          hashAsAsked(input);
          const lacksHashes = [...trees.source.values(), ...trees.destination.values()].some(
            (entry) => !entry.isDir && entry.hash === undefined,
          );
          if (lacksHashes && comparison === 'HASH_ONLY') {
            expect(() => planSync(input)).toThrow(/HASH_ONLY comparison needs a content hash/);
            return;
          }
          const plan = planSync(input);
          if (!isFirstSync || mode !== 'TWO_WAY') {
            // Only the first two-way sync is promised never to delete.
          } else {
            expect(plan.actions.filter((a) => a.type.startsWith('DELETE_'))).toEqual([]);
          }
          const recorded = execute(plan, trees, lastKnown);
          const next = { source: trees.source, destination: trees.destination, lastKnown: recorded, config };
          hashAsAsked(next);
          const again = planSync(next);
          expect(again.actions.map((a) => `${a.type} ${a.path} ${a.reason}`)).toEqual([]);
          if (CONVERGING.includes(comparison)) assertModePromise(mode, comparison, trees);
        },
      ),
      { numRuns: 1_500, seed: 20_261_126 },
    );
  });
});
