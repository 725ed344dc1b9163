import { describe, expect, it } from 'vitest';
import { dir, file, planInput, summary, T0 } from '../../test/planner-fixtures.js';
import { isSyncError } from '../errors.js';
import { detectChange } from './compare.js';
import { assertHashesAvailable, planSync } from './plan.js';

describe('planSync, renames that fall back to delete plus create', () => {
  const old = file('a.txt', 'content');
  const moved = file('b.txt', 'content');

  it('does not rename over a different file at the new path: a conflict there, a delete of the old path', () => {
    const plan = planSync(
      planInput({
        source: [moved],
        destination: [old, file('b.txt', 'something else', { mtime: T0 + 5_000 })],
        lastKnown: { source: [old], destination: [old] },
      }),
    );
    expect(summary(plan)).toEqual(['CONFLICT b.txt', 'DELETE_DESTINATION a.txt']);
  });

  it('does not match by backend id when the mtime moved (renamed and edited)', () => {
    const before = file('a.txt', 'data', { noHash: true, id: 'inode-7' });
    const after = file('b.txt', 'DATA', { noHash: true, id: 'inode-7', mtime: T0 + 60_000 });
    const plan = planSync(
      planInput({
        source: [after],
        destination: [file('a.txt', 'data', { noHash: true })],
        lastKnown: { source: [before], destination: [file('a.txt', 'data', { noHash: true })] },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW b.txt', 'DELETE_DESTINATION a.txt']);
  });

  it('does not rename under MTIME_ONLY when the new file has another mtime', () => {
    const plan = planSync(
      planInput({
        source: [file('b.txt', 'content', { mtime: T0 + 60_000 })],
        destination: [old],
        lastKnown: { source: [old], destination: [old] },
        config: { comparisonMode: 'MTIME_ONLY' },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW b.txt', 'DELETE_DESTINATION a.txt']);
  });

  it('applies renames on both sides in one plan when they do not touch each other', () => {
    const x = file('x.txt', 'xx');
    const plan = planSync(
      planInput({
        source: [moved, x],
        destination: [old, file('y.txt', 'xx')],
        lastKnown: { source: [old, x], destination: [old, x] },
      }),
    );
    expect(summary(plan)).toEqual(['RENAME_DESTINATION a.txt → b.txt', 'RENAME_SOURCE x.txt → y.txt']);
  });

  it('moves the files of a renamed folder and removes the emptied old folder', () => {
    const tracked = [dir('old'), file('old/1.txt', 'one'), file('old/2.txt', 'two')];
    const plan = planSync(
      planInput({
        source: [dir('new'), file('new/1.txt', 'one'), file('new/2.txt', 'two')],
        destination: tracked,
        lastKnown: { source: tracked, destination: tracked },
      }),
    );
    expect(summary(plan)).toEqual([
      'RENAME_DESTINATION old/1.txt → new/1.txt',
      'RENAME_DESTINATION old/2.txt → new/2.txt',
      'UPLOAD_NEW new',
      'DELETE_DESTINATION old',
    ]);
    expect(plan.totals).toEqual({ files: 0, bytes: 0, deletes: { source: 0, destination: 0 } });
  });
});

describe('planSync, type clashes', () => {
  it('leaves a two-way type clash to the handler under MANUAL', () => {
    const plan = planSync(
      planInput({
        source: [dir('x')],
        destination: [file('x', 'f')],
        lastKnown: null,
        config: { conflictResolution: 'MANUAL' },
      }),
    );
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]?.type).toBe('CONFLICT');
    expect(plan.actions[0]?.conflict).not.toHaveProperty('resolution');
    expect(plan.actions[0]?.reason).toBe('first sync: type clash: folder at source / file at destination');
  });

  it('reports a type clash even when empty directories are not synced', () => {
    const plan = planSync(
      planInput({
        source: [dir('x')],
        destination: [file('x', 'f')],
        lastKnown: null,
        config: { syncEmptyDirectories: false },
      }),
    );
    expect(summary(plan)).toEqual(['CONFLICT x']);
  });
});

describe('assertHashesAvailable', () => {
  it('accepts HASH_ONLY when every file has a hash in the same algorithm', () => {
    expect(() =>
      assertHashesAvailable(
        planInput({
          source: [file('a', 'a'), dir('d')],
          destination: [file('a', 'b')],
          config: { comparisonMode: 'HASH_ONLY' },
        }),
      ),
    ).not.toThrow();
  });

  it('names the path and side of the first file without a hash', () => {
    let error: unknown;
    try {
      assertHashesAvailable(
        planInput({
          source: [file('docs/a.txt', 'a', { noHash: true })],
          config: { comparisonMode: 'HASH_ONLY' },
        }),
      );
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error, 'HASH_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('"docs/a.txt" at the source');
  });

  it('never throws for other comparison modes', () => {
    expect(() =>
      assertHashesAvailable(
        planInput({
          source: [file('a', 'a', { noHash: true })],
          config: { comparisonMode: 'HASH_THEN_MTIME' },
        }),
      ),
    ).not.toThrow();
  });
});

describe('detectChange with a record that has no hash', () => {
  it('falls back to size and mtime under HASH_ONLY', () => {
    const record = file('f', 'abc', { noHash: true });
    expect(detectChange(file('f', 'abc'), record, 'HASH_ONLY')).toBe('unchanged');
    expect(detectChange(file('f', 'abc', { mtime: T0 + 60_000 }), record, 'HASH_ONLY')).toBe('modified');
  });
});

describe('a folder kept on one side', () => {
  it.each(['TWO_WAY', 'SOURCE_TO_DESTINATION', 'SOURCE_BACKUP'] as const)(
    '%s: a folder recorded and present on one side only is neither deleted again nor copied back',
    (mode) => {
      const plan = planSync(
        planInput({
          source: [],
          destination: [dir('kept')],
          lastKnown: { source: [], destination: [dir('kept')] },
          config: { mode },
        }),
      );
      expect(plan.actions).toEqual([]);
    },
  );
});
