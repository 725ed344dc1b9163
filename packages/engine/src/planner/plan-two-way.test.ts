import { describe, expect, it } from 'vitest';
import { dir, file, type Kind, planInput, scenario, summary, T0 } from '../../test/planner-fixtures.js';
import { isSyncError } from '../errors.js';
import { planSync } from './plan.js';

describe('planSync, TWO_WAY decision table (SPEC §3)', () => {
  it.each<[string, Kind, Kind, string, string]>([
    ['uploads a file created at source', 'created', 'none', 'UPLOAD_NEW', 'two-way: created / none'],
    ['downloads a file created at destination', 'none', 'created', 'DOWNLOAD_NEW', 'two-way: none / created'],
    [
      'uploads when modified at source and unchanged at destination',
      'modified',
      'unchanged',
      'UPLOAD_UPDATE',
      'two-way: modified / unchanged',
    ],
    [
      'downloads when unchanged at source and modified at destination',
      'unchanged',
      'modified',
      'DOWNLOAD_UPDATE',
      'two-way: unchanged / modified',
    ],
    [
      'deletes at destination when deleted at source and unchanged at destination',
      'deleted',
      'unchanged',
      'DELETE_DESTINATION',
      'two-way: deleted / unchanged',
    ],
    [
      'deletes at source when unchanged at source and deleted at destination',
      'unchanged',
      'deleted',
      'DELETE_SOURCE',
      'two-way: unchanged / deleted',
    ],
    [
      'forgets a path deleted on both sides',
      'deleted',
      'deleted',
      'NO_ACTION',
      'two-way: deleted / deleted (forget the path)',
    ],
    [
      'restores at source a file deleted at source and modified at destination (the edit wins)',
      'deleted',
      'modified',
      'DOWNLOAD_RESTORE',
      'two-way: deleted / modified (the edit wins over the delete)',
    ],
    [
      'restores at destination a file modified at source and deleted at destination (the edit wins)',
      'modified',
      'deleted',
      'UPLOAD_RESTORE',
      'two-way: modified / deleted (the edit wins over the delete)',
    ],
  ])('%s', (_name, source, destination, type, reason) => {
    const plan = planSync(scenario(source, destination));
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({ type, path: 'f.txt', reason });
    expect(plan.isFirstSync).toBe(false);
  });

  it('plans nothing for a path unchanged on both sides', () => {
    expect(planSync(scenario('unchanged', 'unchanged')).actions).toEqual([]);
  });

  it('records a path modified identically on both sides as synced, without a conflict', () => {
    const plan = planSync(
      scenario('modified', 'modified', {}, { source: 'same edit', destination: 'same edit' }),
    );
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({
      type: 'NO_ACTION',
      reason: 'two-way: modified / modified, identical',
      bytes: 0,
    });
    expect(plan.actions[0]?.source?.hash).toBe('hash(same edit)');
    expect(plan.actions[0]?.destination?.hash).toBe('hash(same edit)');
  });

  it('reports a conflict when both sides modified a path differently', () => {
    const plan = planSync(scenario('modified', 'modified'));
    expect(plan.actions).toHaveLength(1);
    const [action] = plan.actions;
    expect(action).toMatchObject({
      type: 'CONFLICT',
      path: 'f.txt',
      reason: 'two-way: modified / modified, different',
    });
    expect(action?.conflict?.source?.hash).toBe('hash(edited at source)');
    expect(action?.conflict?.destination?.hash).toBe('hash(edited at destination!)');
  });

  it('records a path created identically on both sides since the last sync', () => {
    const plan = planSync(scenario('created', 'created', {}, { source: 'twin', destination: 'twin' }));
    expect(plan.actions.map((a) => [a.type, a.reason])).toEqual([
      ['NO_ACTION', 'two-way: created / created, identical'],
    ]);
  });

  it('carries the bytes each transfer moves and none for deletes', () => {
    expect(planSync(scenario('modified', 'unchanged')).actions[0]?.bytes).toBe('edited at source'.length);
    expect(planSync(scenario('unchanged', 'modified')).actions[0]?.bytes).toBe(
      'edited at destination!'.length,
    );
    expect(planSync(scenario('deleted', 'unchanged')).actions[0]?.bytes).toBe(0);
  });

  it('counts files and bytes to transfer and deletes per side in the totals', () => {
    const plan = planSync(
      planInput({
        source: [file('new.txt', '12345'), file('keep.txt', 'k')],
        destination: [file('gone-at-source.txt', 'x'), file('keep.txt', 'k'), file('other.txt', '1234567')],
        lastKnown: {
          source: [file('gone-at-source.txt', 'x'), file('keep.txt', 'k')],
          destination: [file('gone-at-source.txt', 'x'), file('keep.txt', 'k')],
        },
      }),
    );
    expect(summary(plan)).toEqual([
      'UPLOAD_NEW new.txt',
      'DOWNLOAD_NEW other.txt',
      'DELETE_DESTINATION gone-at-source.txt',
    ]);
    expect(plan.totals).toEqual({ files: 2, bytes: 12, deletes: { source: 0, destination: 1 } });
  });
});

describe('planSync, TWO_WAY renames (SPEC §2, §3)', () => {
  const old = file('docs/old.txt', 'report', { mtime: T0 });
  const moved = file('archive/new.txt', 'report', { mtime: T0 });

  it('renames at destination a file renamed at source and unchanged at destination', () => {
    const plan = planSync(
      planInput({ source: [moved], destination: [old], lastKnown: { source: [old], destination: [old] } }),
    );
    expect(summary(plan)).toEqual(['RENAME_DESTINATION docs/old.txt → archive/new.txt']);
    expect(plan.actions[0]).toMatchObject({
      reason: 'two-way: renamed at source / unchanged at destination',
      bytes: 0,
      source: { path: 'archive/new.txt' },
      destination: { path: 'docs/old.txt' },
    });
  });

  it('renames at source a file renamed at destination and unchanged at source', () => {
    const plan = planSync(
      planInput({ source: [old], destination: [moved], lastKnown: { source: [old], destination: [old] } }),
    );
    expect(summary(plan)).toEqual(['RENAME_SOURCE docs/old.txt → archive/new.txt']);
    expect(plan.actions[0]?.reason).toBe('two-way: unchanged at source / renamed at destination');
  });

  it('detects a rename by backend id where there is no hash', () => {
    const before = file('a.txt', 'data', { noHash: true, id: 'inode-7' });
    const after = file('b.txt', 'data', { noHash: true, id: 'inode-7' });
    const plan = planSync(
      planInput({
        source: [after],
        destination: [file('a.txt', 'data', { noHash: true })],
        lastKnown: { source: [before], destination: [file('a.txt', 'data', { noHash: true })] },
      }),
    );
    expect(summary(plan)).toEqual(['RENAME_DESTINATION a.txt → b.txt']);
  });

  it('falls back to restore plus copy when the destination modified the renamed file', () => {
    const edited = file('docs/old.txt', 'report, edited', { mtime: T0 + 60_000 });
    const plan = planSync(
      planInput({ source: [moved], destination: [edited], lastKnown: { source: [old], destination: [old] } }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW archive/new.txt', 'DOWNLOAD_RESTORE docs/old.txt']);
  });

  it('treats an ambiguous rename (two new files with the same content) as delete plus creates', () => {
    const plan = planSync(
      planInput({
        source: [file('b.txt', 'report'), file('c.txt', 'report')],
        destination: [file('a.txt', 'report')],
        lastKnown: { source: [file('a.txt', 'report')], destination: [file('a.txt', 'report')] },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW b.txt', 'UPLOAD_NEW c.txt', 'DELETE_DESTINATION a.txt']);
  });

  it('settles the same rename on both sides by recording the new path', () => {
    const plan = planSync(
      planInput({ source: [moved], destination: [moved], lastKnown: { source: [old], destination: [old] } }),
    );
    expect(summary(plan)).toEqual(['NO_ACTION archive/new.txt', 'NO_ACTION docs/old.txt']);
  });

  it('plans a delete plus a create when rename detection is off', () => {
    const plan = planSync(
      planInput({
        source: [moved],
        destination: [old],
        lastKnown: { source: [old], destination: [old] },
        config: { detectRenames: false },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW archive/new.txt', 'DELETE_DESTINATION docs/old.txt']);
  });
});

describe('planSync, first sync (no last-known state)', () => {
  it('merges without deleting: copies one-sided files, records identical ones, settles differing ones', () => {
    const plan = planSync(
      planInput({
        source: [
          file('only-source.txt', 'a'),
          file('same.txt', 'same'),
          file('differs.txt', 'src', { mtime: T0 + 10_000 }),
        ],
        destination: [
          file('only-destination.txt', 'b'),
          file('same.txt', 'same'),
          file('differs.txt', 'dest'),
        ],
        lastKnown: null,
      }),
    );
    expect(plan.isFirstSync).toBe(true);
    expect(plan.actions.map((a) => [a.type, a.path, a.reason])).toEqual([
      ['DOWNLOAD_NEW', 'only-destination.txt', 'first sync: only at destination'],
      ['UPLOAD_NEW', 'only-source.txt', 'first sync: only at source'],
      ['CONFLICT', 'differs.txt', 'first sync: differs on both sides'],
      ['NO_ACTION', 'same.txt', 'first sync: identical on both sides'],
    ]);
    expect(plan.actions[2]?.conflict?.resolution).toBe('source');
    expect(plan.totals.deletes).toEqual({ source: 0, destination: 0 });
  });
});

describe('planSync, directories', () => {
  it('creates empty directories on the other side and records identical ones', () => {
    const plan = planSync(
      planInput({
        source: [dir('empty'), dir('both')],
        destination: [dir('both', T0 + 99_000)],
        lastKnown: null,
      }),
    );
    expect(plan.actions.map((a) => [a.type, a.path, a.isDir, a.bytes])).toEqual([
      ['UPLOAD_NEW', 'empty', true, 0],
      ['NO_ACTION', 'both', true, 0],
    ]);
    expect(plan.totals.files).toBe(0);
  });

  it('ignores directories when empty directories are not synced', () => {
    const plan = planSync(
      planInput({
        source: [dir('empty'), dir('d'), file('d/f.txt', 'x')],
        lastKnown: null,
        config: { syncEmptyDirectories: false },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_NEW d/f.txt']);
  });

  it('deletes a directory whose whole subtree was deleted on the other side, deepest first', () => {
    const tracked = [dir('d'), dir('d/e'), file('d/e/f.txt', 'x'), file('d/g.txt', 'y')];
    const plan = planSync(
      planInput({ source: [], destination: tracked, lastKnown: { source: tracked, destination: tracked } }),
    );
    expect(summary(plan)).toEqual([
      'DELETE_DESTINATION d/g.txt',
      'DELETE_DESTINATION d/e/f.txt',
      'DELETE_DESTINATION d/e',
      'DELETE_DESTINATION d',
    ]);
    expect(plan.totals.deletes).toEqual({ source: 0, destination: 2 });
  });

  it('keeps a directory deleted at source when a file below it was edited at destination', () => {
    const tracked = [dir('d'), file('d/f.txt', 'x')];
    const plan = planSync(
      planInput({
        source: [],
        destination: [dir('d'), file('d/f.txt', 'x, edited', { mtime: T0 + 60_000 })],
        lastKnown: { source: tracked, destination: tracked },
      }),
    );
    expect(plan.actions.map((a) => [a.type, a.path])).toEqual([
      ['DOWNLOAD_RESTORE', 'd'],
      ['DOWNLOAD_RESTORE', 'd/f.txt'],
    ]);
    expect(plan.actions[0]?.reason).toBe(
      'two-way: deleted / unchanged; directory kept: something below it stays',
    );
  });

  it('keeps a directory deleted at destination when a file was created in it at source', () => {
    const tracked = [dir('d')];
    const plan = planSync(
      planInput({
        source: [dir('d'), file('d/new.txt', 'n')],
        destination: [],
        lastKnown: { source: tracked, destination: tracked },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_RESTORE d', 'UPLOAD_NEW d/new.txt']);
  });

  it('reports a file on one side and a folder on the other as one conflict on a first sync, never deleting', () => {
    const plan = planSync(
      planInput({
        source: [file('x', 'a file')],
        destination: [dir('x'), file('x/inner.txt', 'i')],
        lastKnown: null,
      }),
    );
    const clash = plan.actions.find((a) => a.path === 'x');
    expect(clash).toMatchObject({
      type: 'CONFLICT',
      reason: 'first sync: type clash: file at source / folder at destination',
      conflict: { resolution: 'keep-both' },
    });
    expect(plan.actions.some((a) => a.type.startsWith('DELETE_'))).toBe(false);
  });
});

describe('planSync, determinism', () => {
  it('gives the same plan whatever order the trees were listed in', () => {
    const entries = [file('b.txt', 'b'), file('a/z.txt', 'z'), file('a b.txt', 'ab'), dir('a')];
    const forward = planSync(planInput({ source: entries, lastKnown: null }));
    const backward = planSync(planInput({ source: [...entries].reverse(), lastKnown: null }));
    expect(summary(forward)).toEqual(summary(backward));
    expect(summary(forward)).toEqual([
      'UPLOAD_NEW a',
      'UPLOAD_NEW a/z.txt',
      'UPLOAD_NEW a b.txt',
      'UPLOAD_NEW b.txt',
    ]);
  });

  it('throws HASH_UNAVAILABLE for HASH_ONLY when a file has no hash', () => {
    const input = planInput({
      source: [file('a.txt', 'a')],
      destination: [file('a.txt', 'a', { noHash: true })],
      lastKnown: null,
      config: { comparisonMode: 'HASH_ONLY' },
    });
    let error: unknown;
    try {
      planSync(input);
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error, 'HASH_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('"a.txt" at the destination');
  });
});
