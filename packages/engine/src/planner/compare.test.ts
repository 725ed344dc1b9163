import { describe, expect, it } from 'vitest';
import { file, planInput, scenario, T0 } from '../../test/planner-fixtures.js';
import type { ComparisonMode, ConflictStrategy, Entry, SyncMode } from '../model.js';
import { compareEntries, detectChange, isNewer } from './compare.js';
import { planSync } from './plan.js';

/**
 * Per comparison mode: a source/destination pair it holds identical, and one it holds different
 * (source newer). Modes that need no hash are shown without one: with comparable hashes, the
 * hashes decide between two changed sides (see the tests below).
 */
const PAIRS: Record<ComparisonMode, { identical: [Entry, Entry]; different: [Entry, Entry] }> = {
  HASH_THEN_MTIME: {
    identical: [file('f', 'same', { mtime: T0 + 60_000 }), file('f', 'same', { mtime: T0 })],
    different: [file('f', 'abcd', { mtime: T0 + 60_000 }), file('f', 'wxyz', { mtime: T0 })],
  },
  SIZE_ONLY: {
    identical: [
      file('f', 'abcd', { mtime: T0 + 60_000, noHash: true }),
      file('f', 'wxyz', { mtime: T0, noHash: true }),
    ],
    different: [
      file('f', 'abcde', { mtime: T0 + 60_000, noHash: true }),
      file('f', 'wxyz', { mtime: T0, noHash: true }),
    ],
  },
  HASH_ONLY: {
    identical: [file('f', 'same', { mtime: T0 + 60_000 }), file('f', 'same', { mtime: T0 })],
    different: [file('f', 'abcd', { mtime: T0 + 60_000 }), file('f', 'wxyz', { mtime: T0 + 60_000 })],
  },
  MTIME_ONLY: {
    identical: [
      file('f', 'abc', { mtime: T0 + 1_500, noHash: true }),
      file('f', 'wxyz', { mtime: T0, noHash: true }),
    ],
    different: [
      file('f', 'same', { mtime: T0 + 10_000, noHash: true }),
      file('f', 'same', { mtime: T0, noHash: true }),
    ],
  },
  SIZE_AND_MTIME: {
    identical: [
      file('f', 'abcd', { mtime: T0 + 2_000, noHash: true }),
      file('f', 'wxyz', { mtime: T0, noHash: true }),
    ],
    different: [
      file('f', 'same', { mtime: T0 + 10_000, noHash: true }),
      file('f', 'same', { mtime: T0, noHash: true }),
    ],
  },
};

const MODES = Object.keys(PAIRS) as ComparisonMode[];

/** SPEC §5 "on difference, TWO_WAY" under the default NEWEST_WINS strategy. */
const TWO_WAY_ON_DIFFERENCE: Record<ComparisonMode, 'source' | 'keep-both'> = {
  HASH_THEN_MTIME: 'source',
  SIZE_ONLY: 'keep-both',
  HASH_ONLY: 'keep-both',
  MTIME_ONLY: 'source',
  SIZE_AND_MTIME: 'source',
};

function firstSync(pair: [Entry, Entry], comparison: ComparisonMode, mode: SyncMode = 'TWO_WAY') {
  return planSync(
    planInput({
      source: [pair[0]],
      destination: [pair[1]],
      lastKnown: null,
      config: { comparisonMode: comparison, mode },
    }),
  );
}

describe('comparison modes (SPEC §5)', () => {
  it.each(MODES)('%s: two-way records a pair it holds identical as synced', (mode) => {
    const plan = firstSync(PAIRS[mode].identical, mode);
    expect(plan.actions.map((a) => a.type)).toEqual(['NO_ACTION']);
    expect(compareEntries(...PAIRS[mode].identical, mode)).toBe('identical');
  });

  it.each(MODES)(
    '%s: two-way settles a differing pair as the SPEC says (newer wins, or keep both)',
    (mode) => {
      const plan = firstSync(PAIRS[mode].different, mode);
      expect(plan.actions.map((a) => a.type)).toEqual(['CONFLICT']);
      expect(plan.actions[0]?.conflict?.resolution).toBe(TWO_WAY_ON_DIFFERENCE[mode]);
      expect(compareEntries(...PAIRS[mode].different, mode)).toBe('different');
    },
  );

  it.each(MODES)('%s: one-way records a pair it holds identical as synced', (mode) => {
    const plan = firstSync(PAIRS[mode].identical, mode, 'SOURCE_TO_DESTINATION');
    expect(plan.actions.map((a) => a.type)).toEqual(['NO_ACTION']);
  });

  it.each(MODES)('%s: one-way copies a differing pair in the sync direction', (mode) => {
    expect(
      firstSync(PAIRS[mode].different, mode, 'SOURCE_TO_DESTINATION').actions.map((a) => a.type),
    ).toEqual(['UPLOAD_UPDATE']);
    // The destination's version is older here, and still wins in DESTINATION_TO_SOURCE.
    expect(
      firstSync(PAIRS[mode].different, mode, 'DESTINATION_TO_SOURCE').actions.map((a) => a.type),
    ).toEqual(['DOWNLOAD_UPDATE']);
  });

  it.each(MODES)('%s: a change on one side only is propagated, with a last-known state', (mode) => {
    const content = { source: 'edited at source', sourceMtime: T0 + 60_000 };
    const plan = planSync(scenario('modified', 'unchanged', { comparisonMode: mode }, content));
    expect(plan.actions.map((a) => a.type)).toEqual(['UPLOAD_UPDATE']);
  });

  it('HASH_THEN_MTIME falls back to mtimes (±2 s) where a hash is missing', () => {
    const a = file('f', 'abcd', { noHash: true, mtime: T0 + 2_000 });
    expect(compareEntries(a, file('f', 'wxyz', { mtime: T0 }), 'HASH_THEN_MTIME')).toBe('identical');
    expect(compareEntries(a, file('f', 'wxyz', { mtime: T0 - 1 }), 'HASH_THEN_MTIME')).toBe('unknown');
    expect(compareEntries(a, file('f', 'abcde', { mtime: T0 }), 'HASH_THEN_MTIME')).toBe('different');
  });

  it('compares hashes only when their algorithms match', () => {
    const xxh = file('f', 'same', { mtime: T0 + 60_000 });
    const md5 = file('f', 'same', { mtime: T0, algorithm: 'md5' });
    expect(compareEntries(xxh, md5, 'HASH_ONLY')).toBe('unknown');
    expect(compareEntries(xxh, md5, 'HASH_THEN_MTIME')).toBe('unknown');
    expect(compareEntries(xxh, file('f', 'same', { mtime: T0 }), 'HASH_THEN_MTIME')).toBe('identical');
  });

  it('holds two directories identical and a file and a directory different', () => {
    const folder: Entry = { path: 'd', size: 0, mtime: T0, isDir: true };
    expect(compareEntries(folder, { ...folder, mtime: T0 + 99_000 }, 'MTIME_ONLY')).toBe('identical');
    expect(compareEntries(folder, file('d', ''), 'SIZE_ONLY')).toBe('different');
  });

  it('refuses HASH_ONLY when hashes of a path are in different algorithms', () => {
    expect(() =>
      planSync(
        planInput({
          source: [file('f', 'same')],
          destination: [file('f', 'same', { algorithm: 'md5' })],
          lastKnown: null,
          config: { comparisonMode: 'HASH_ONLY' },
        }),
      ),
    ).toThrow(/HASH_ONLY comparison cannot compare "f"/);
  });
});

describe('change detection against the last-known state (SPEC §2)', () => {
  const record = file('f', 'original', { mtime: T0 });

  it.each<[string, Entry | undefined, Entry | undefined, string]>([
    ['created when there is no record', file('f', 'x'), undefined, 'created'],
    ['deleted when the file is gone', undefined, record, 'deleted'],
    ['modified when the size changed', file('f', 'original!', { mtime: T0 }), record, 'modified'],
    [
      'unchanged when the hash is equal though the mtime moved',
      file('f', 'original', { mtime: T0 + 99_000 }),
      record,
      'unchanged',
    ],
    [
      'modified when the hash differs though size and mtime are equal',
      file('f', 'Original', { mtime: T0 }),
      record,
      'modified',
    ],
    [
      'unchanged without a hash when the mtime is within 2 s',
      file('f', 'original', { noHash: true, mtime: T0 + 2_000 }),
      record,
      'unchanged',
    ],
    [
      'modified without a hash when the mtime moved',
      file('f', 'original', { noHash: true, mtime: T0 + 2_001 }),
      record,
      'modified',
    ],
  ])('HASH_THEN_MTIME: %s', (_name, current, last, expected) => {
    expect(detectChange(current, last, 'HASH_THEN_MTIME')).toBe(expected);
  });

  it('is absent when neither the record nor the file exists', () => {
    expect(detectChange(undefined, undefined, 'SIZE_ONLY')).toBe('absent');
  });

  it('SIZE_ONLY misses a same-size edit, as the user asked', () => {
    expect(detectChange(file('f', 'ORIGINAL', { mtime: T0 + 60_000 }), record, 'SIZE_ONLY')).toBe(
      'unchanged',
    );
  });
});

describe('isNewer', () => {
  it('is true only when the mtime is more than 2 s later', () => {
    expect(isNewer(file('f', '', { mtime: T0 + 2_001 }), file('f', '', { mtime: T0 }))).toBe(true);
    expect(isNewer(file('f', '', { mtime: T0 + 2_000 }), file('f', '', { mtime: T0 }))).toBe(false);
    expect(isNewer(file('f', '', { mtime: T0 }), file('f', '', { mtime: T0 + 5_000 }))).toBe(false);
  });
});

describe('conflicts (SPEC §6)', () => {
  const conflictOf = (
    strategy: ConflictStrategy,
    comparison: ComparisonMode,
    sourceMtime: number,
    destinationMtime: number,
  ) => {
    const plan = planSync(
      scenario(
        'modified',
        'modified',
        { conflictResolution: strategy, comparisonMode: comparison },
        { sourceMtime, destinationMtime },
      ),
    );
    expect(plan.actions).toHaveLength(1);
    return plan.actions[0]!;
  };
  const sourceBytes = 'edited at source'.length;
  const destinationBytes = 'edited at destination!'.length;

  it.each<[string, ConflictStrategy, ComparisonMode, number, number, string | undefined, number]>([
    [
      'NEWEST_WINS picks the newer source',
      'NEWEST_WINS',
      'HASH_THEN_MTIME',
      T0 + 10_000,
      T0,
      'source',
      sourceBytes,
    ],
    [
      'NEWEST_WINS picks the newer destination',
      'NEWEST_WINS',
      'HASH_THEN_MTIME',
      T0,
      T0 + 10_000,
      'destination',
      destinationBytes,
    ],
    [
      'NEWEST_WINS keeps both when the mtimes are within 2 s',
      'NEWEST_WINS',
      'HASH_THEN_MTIME',
      T0 + 2_000,
      T0,
      'keep-both',
      sourceBytes + destinationBytes,
    ],
    ['NEWEST_WINS decides past 2 s', 'NEWEST_WINS', 'HASH_THEN_MTIME', T0 + 2_001, T0, 'source', sourceBytes],
    [
      'NEWEST_WINS keeps both under SIZE_ONLY, which ignores mtimes',
      'NEWEST_WINS',
      'SIZE_ONLY',
      T0 + 60_000,
      T0,
      'keep-both',
      sourceBytes + destinationBytes,
    ],
    [
      'NEWEST_WINS keeps both under HASH_ONLY, which ignores mtimes',
      'NEWEST_WINS',
      'HASH_ONLY',
      T0 + 60_000,
      T0,
      'keep-both',
      sourceBytes + destinationBytes,
    ],
    [
      'SOURCE_WINS picks the source even when older',
      'SOURCE_WINS',
      'HASH_THEN_MTIME',
      T0,
      T0 + 60_000,
      'source',
      sourceBytes,
    ],
    [
      'DESTINATION_WINS picks the destination even when older',
      'DESTINATION_WINS',
      'HASH_THEN_MTIME',
      T0 + 60_000,
      T0,
      'destination',
      destinationBytes,
    ],
    [
      'MANUAL leaves the decision to the handler',
      'MANUAL',
      'HASH_THEN_MTIME',
      T0 + 60_000,
      T0,
      undefined,
      sourceBytes + destinationBytes,
    ],
  ])('%s', (_name, strategy, comparison, sourceMtime, destinationMtime, resolution, bytes) => {
    const action = conflictOf(strategy, comparison, sourceMtime, destinationMtime);
    expect(action.type).toBe('CONFLICT');
    expect(action.conflict?.resolution).toBe(resolution);
    expect(action.conflict?.path).toBe('f.txt');
    expect(action.conflict?.source?.mtime).toBe(sourceMtime);
    expect(action.conflict?.destination?.mtime).toBe(destinationMtime);
    expect(action.bytes).toBe(bytes);
  });

  it('counts the files a conflict will transfer in the totals', () => {
    const plan = planSync(
      scenario('modified', 'modified', {}, { sourceMtime: T0, destinationMtime: T0 + 1_000 }),
    );
    expect(plan.totals).toEqual({
      files: 2,
      bytes: 'edited at source'.length + 'edited at destination!'.length,
      deletes: { source: 0, destination: 0 },
    });
  });

  it('plans a conflict for a path created differently on both sides since the last sync', () => {
    const plan = planSync(scenario('created', 'created', { conflictResolution: 'MANUAL' }));
    expect(plan.actions.map((a) => [a.type, a.reason])).toEqual([
      ['CONFLICT', 'two-way: created / created, different'],
    ]);
  });
});

describe('both sides changed, with comparable hashes', () => {
  const MODES_WITHOUT_HASHING: ComparisonMode[] = [
    'HASH_THEN_MTIME',
    'SIZE_ONLY',
    'MTIME_ONLY',
    'SIZE_AND_MTIME',
  ];

  it.each(MODES_WITHOUT_HASHING)(
    '%s: the same content with different mtimes is recorded as synced, not a conflict',
    (mode) => {
      const plan = firstSync(
        [file('f', 'same', { mtime: T0 + 60_000 }), file('f', 'same', { mtime: T0 })],
        mode,
      );
      expect(plan.actions.map((a) => a.type)).toEqual(['NO_ACTION']);
      // Modes that compare mtimes give the older side the newer mtime, so the sides agree again.
      const aligns = mode === 'MTIME_ONLY' || mode === 'SIZE_AND_MTIME';
      expect(plan.actions[0]?.setMtime).toEqual(
        aligns ? { side: 'destination', mtime: T0 + 60_000 } : undefined,
      );
    },
  );

  it.each(MODES_WITHOUT_HASHING)('%s: different content of the same size and mtime is a conflict', (mode) => {
    const plan = firstSync([file('f', 'abcd', { mtime: T0 }), file('f', 'wxyz', { mtime: T0 })], mode);
    expect(plan.actions.map((a) => a.type)).toEqual(['CONFLICT']);
  });

  it('SIZE_ONLY: both sides modified to different content of the same size is a conflict, kept both', () => {
    const record = file('f', 'old', { mtime: T0 });
    const plan = planSync(
      planInput({
        source: [file('f', 'abcd', { mtime: T0 + 60_000 })],
        destination: [file('f', 'wxyz', { mtime: T0 + 30_000 })],
        lastKnown: { source: [record], destination: [record] },
        config: { comparisonMode: 'SIZE_ONLY' },
      }),
    );
    expect(plan.actions.map((a) => [a.type, a.conflict?.resolution])).toEqual([['CONFLICT', 'keep-both']]);
  });

  it('falls back to the mode when the two hashes are in different algorithms', () => {
    const plan = firstSync(
      [file('f', 'abcd', { mtime: T0, algorithm: 'md5' }), file('f', 'wxyz', { mtime: T0 })],
      'SIZE_AND_MTIME',
    );
    expect(plan.actions.map((a) => a.type)).toEqual(['NO_ACTION']);
  });
});
