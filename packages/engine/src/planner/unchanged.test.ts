import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { T0 } from '../../test/planner-fixtures.js';
import type { PlanInput } from '../api.js';
import { resolveConfig } from '../config.js';
import { COMPARISON_MODES, CONFLICT_STRATEGIES, type Entry, SYNC_MODES, type Tree } from '../model.js';
import { hashNeeds } from './hash-needs.js';
import { isUnchangedSinceLastSync, planSync } from './plan.js';

/** One recorded path: a folder, or a file with or without a hash, per side. */
const recordArb = fc.record({
  isDir: fc.boolean(),
  size: fc.nat(50),
  sourceMtime: fc.integer({ min: -10_000, max: 10_000 }),
  destinationMtime: fc.integer({ min: -10_000, max: 10_000 }),
  hasHash: fc.boolean(),
  content: fc.constantFrom('a', 'b'),
});

const NAMES = ['a', 'b', 'c', 'a/x', 'a/y', 'b/z'];

/** Both sides' records of some paths, and trees as a scan of unchanged sides gives them. */
const stateArb = fc
  .uniqueArray(fc.constantFrom(...NAMES), { minLength: 1 })
  .chain((paths) =>
    fc.tuple(fc.constant(paths), fc.array(recordArb, { minLength: paths.length, maxLength: paths.length })),
  )
  .map(([paths, records]) => {
    const lastKnown = { source: new Map() as Tree, destination: new Map() as Tree };
    const trees = { source: new Map() as Tree, destination: new Map() as Tree };
    paths.forEach((path, index) => {
      const record = records[index]!;
      for (const side of ['source', 'destination'] as const) {
        const entry: Entry = {
          path,
          size: record.isDir ? 0 : record.size,
          mtime: T0 + (side === 'source' ? record.sourceMtime : record.destinationMtime),
          isDir: record.isDir,
          id: `${side}-${path}`,
        };
        if (!record.isDir && record.hasHash) {
          entry.hash = `hash(${record.content})`;
          entry.hashAlgorithm = 'xxh3-128';
        }
        lastKnown[side].set(path, entry);
        // Files are their records; folders are listed afresh, with a new mtime.
        trees[side].set(path, record.isDir ? { ...entry, mtime: entry.mtime + 5_000 } : entry);
      }
    });
    return { lastKnown, trees };
  });

describe('isUnchangedSinceLastSync', () => {
  it('holds only where planSync plans nothing and hashNeeds asks for nothing, in every mode', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.constantFrom(...SYNC_MODES),
        fc.constantFrom(...COMPARISON_MODES.filter((mode) => mode !== 'HASH_ONLY')),
        fc.constantFrom(...CONFLICT_STRATEGIES),
        fc.boolean(),
        ({ lastKnown, trees }, mode, comparison, conflictStrategy, detectRenames) => {
          const input: PlanInput = {
            ...trees,
            lastKnown,
            config: resolveConfig({
              mode,
              comparisonMode: comparison,
              conflictResolution: conflictStrategy,
              detectRenames,
            }),
          };
          expect(isUnchangedSinceLastSync(input)).toBe(true);
          expect(planSync(input).actions).toEqual([]);
          expect(hashNeeds(input)).toEqual({ source: [], destination: [] });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('does not hold once anything differs from the records', () => {
    fc.assert(
      fc.property(
        stateArb,
        fc.nat(),
        fc.constantFrom('copy', 'delete', 'add', 'other-side'),
        (state, pick, change) => {
          const { lastKnown, trees } = state;
          const paths = [...trees.source.keys()];
          const path = paths[pick % paths.length]!;
          const entry = trees.source.get(path)!;
          if (change === 'copy') trees.source.set(path, { ...entry, id: 'another inode' });
          if (change === 'delete') trees.source.delete(path);
          if (change === 'add')
            trees.destination.set('new', { path: 'new', size: 1, mtime: T0, isDir: false });
          if (change === 'other-side') lastKnown.destination.delete(path);
          const input: PlanInput = { ...trees, lastKnown, config: resolveConfig({}) };
          expect(isUnchangedSinceLastSync(input)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never holds on a first sync or under HASH_ONLY', () => {
    const entry: Entry = { path: 'f', size: 1, mtime: T0, isDir: false, hash: 'h', hashAlgorithm: 'md5' };
    const tree: Tree = new Map([['f', entry]]);
    const state = { source: tree, destination: new Map(tree) };
    expect(isUnchangedSinceLastSync({ ...state, lastKnown: null, config: resolveConfig({}) })).toBe(false);
    const lastKnown = { source: tree, destination: tree };
    expect(isUnchangedSinceLastSync({ ...state, lastKnown, config: resolveConfig({}) })).toBe(true);
    expect(
      isUnchangedSinceLastSync({
        ...state,
        lastKnown,
        config: resolveConfig({ comparisonMode: 'HASH_ONLY' }),
      }),
    ).toBe(false);
  });
});
