import { describe, expect, it } from 'vitest';
import { dir, file, planInput, summary, T0 } from '../../test/planner-fixtures.js';
import type { SyncConfig } from '../config.js';
import type { ConflictStrategy, Entry, Side, SyncMode } from '../model.js';
import { planSync } from './plan.js';

/**
 * The type-change cells: `x` recorded as a file (or as a folder holding `x/f`) on both
 * sides, replaced by the other type on one side, the other side unchanged or modified.
 */

const other = (side: Side): Side => (side === 'source' ? 'destination' : 'source');
const LATER = T0 + 120_000;

type Base = 'file' | 'folder';
type OtherSide = 'unchanged' | 'modified';

function typeChange(base: Base, changer: Side, otherSide: OtherSide, config: Partial<SyncConfig> = {}) {
  const record: Entry[] = base === 'file' ? [file('x', 'base')] : [dir('x'), file('x/f', 'base')];
  const changed: Entry[] =
    base === 'file'
      ? [dir('x', LATER), file('x/new', 'new', { mtime: LATER })]
      : [file('x', 'a file now', { mtime: LATER })];
  let kept: Entry[] = record;
  if (otherSide === 'modified') {
    kept =
      base === 'file'
        ? [file('x', 'edited', { mtime: T0 + 60_000 })]
        : [dir('x'), file('x/f', 'edited', { mtime: T0 + 60_000 })];
  }
  const sides = { [changer]: changed, [other(changer)]: kept } as Record<Side, Entry[]>;
  return planInput({
    source: sides.source,
    destination: sides.destination,
    lastKnown: { source: record, destination: record },
    config,
  });
}

const arrow = (base: Base) => (base === 'file' ? 'file → folder' : 'folder → file');
const oldType = (base: Base) => (base === 'file' ? 'file' : 'folder');
const subtreeOf = (base: Base) => (base === 'file' ? ['x/new'] : ['x/f']);

describe('planSync, a type change on one side with the other side unchanged (SPEC §3)', () => {
  it.each<[Base, Side, string]>([
    ['file', 'source', 'UPLOAD_UPDATE'],
    ['file', 'destination', 'DOWNLOAD_UPDATE'],
    ['folder', 'source', 'UPLOAD_UPDATE'],
    ['folder', 'destination', 'DOWNLOAD_UPDATE'],
  ])('propagates %s → other type at %s as %s, with everything below it', (base, changer, type) => {
    for (const strategy of ['NEWEST_WINS', 'SOURCE_WINS', 'DESTINATION_WINS', 'MANUAL'] as const) {
      const plan = planSync(typeChange(base, changer, 'unchanged', { conflictResolution: strategy }));
      const describe = (side: Side) =>
        side === changer ? `${arrow(base)} at ${side}` : `${oldType(base)} unchanged at ${side}`;
      expect(plan.actions).toEqual([
        expect.objectContaining({
          type,
          path: 'x',
          reason: `two-way: type clash: ${describe('source')} / ${describe('destination')}`,
          isDir: base === 'file',
          subtree: subtreeOf(base),
        }),
      ]);
    }
  });
});

describe('planSync, a type change on one side with the other side modified (SPEC §6)', () => {
  it.each<[Base, Side, ConflictStrategy, Side | undefined]>([
    ['file', 'source', 'NEWEST_WINS', 'source'],
    ['file', 'source', 'SOURCE_WINS', 'source'],
    ['file', 'source', 'DESTINATION_WINS', 'destination'],
    ['file', 'source', 'MANUAL', undefined],
    ['file', 'destination', 'NEWEST_WINS', 'destination'],
    ['file', 'destination', 'SOURCE_WINS', 'source'],
    ['folder', 'source', 'NEWEST_WINS', 'source'],
    ['folder', 'source', 'DESTINATION_WINS', 'destination'],
    ['folder', 'destination', 'NEWEST_WINS', 'destination'],
    ['folder', 'destination', 'SOURCE_WINS', 'source'],
    ['folder', 'destination', 'MANUAL', undefined],
  ])(
    '%s → other type at %s, modified at the other side, %s: one conflict settled to %s',
    (base, changer, strategy, resolution) => {
      const plan = planSync(typeChange(base, changer, 'modified', { conflictResolution: strategy }));
      expect(summary(plan)).toEqual(['CONFLICT x']);
      const action = plan.actions[0]!;
      expect(action.subtree).toEqual(subtreeOf(base));
      expect(action.conflict?.resolution).toBe(resolution);
      expect(action.reason).toBe(
        `two-way: type clash: ${changer === 'source' ? `${arrow(base)} at source / ${oldType(base)} modified at destination` : `${oldType(base)} modified at source / ${arrow(base)} at destination`}`,
      );
    },
  );

  it('counts a folder changed below it as modified, even when the folder entry is the same', () => {
    const record = [dir('x'), file('x/f', 'base')];
    const plan = planSync(
      planInput({
        source: [file('x', 'now a file', { mtime: LATER })],
        destination: [dir('x'), file('x/f', 'base'), file('x/g', 'added')],
        lastKnown: { source: record, destination: record },
        config: { conflictResolution: 'DESTINATION_WINS' },
      }),
    );
    expect(summary(plan)).toEqual(['CONFLICT x']);
    expect(plan.actions[0]).toMatchObject({
      subtree: ['x/f', 'x/g'],
      conflict: { resolution: 'destination' },
      reason: 'two-way: type clash: folder → file at source / folder modified at destination',
    });
    // The destination's folder is copied back: its two files.
    expect(plan.totals.files).toBe(2);
  });
});

describe('planSync, type clashes in one-way modes (SPEC §4: no conflicts, the authority wins)', () => {
  it.each<[SyncMode, Base, Side, OtherSide, string]>([
    ['SOURCE_TO_DESTINATION', 'file', 'source', 'unchanged', 'UPLOAD_UPDATE'],
    ['SOURCE_TO_DESTINATION', 'file', 'destination', 'unchanged', 'UPLOAD_UPDATE'],
    ['SOURCE_TO_DESTINATION', 'folder', 'destination', 'modified', 'UPLOAD_UPDATE'],
    ['SOURCE_BACKUP', 'folder', 'destination', 'unchanged', 'UPLOAD_UPDATE'],
    ['SOURCE_BACKUP', 'file', 'source', 'modified', 'UPLOAD_UPDATE'],
    ['DESTINATION_TO_SOURCE', 'file', 'source', 'unchanged', 'DOWNLOAD_UPDATE'],
    ['DESTINATION_TO_SOURCE', 'folder', 'destination', 'modified', 'DOWNLOAD_UPDATE'],
    ['DESTINATION_BACKUP', 'folder', 'source', 'unchanged', 'DOWNLOAD_UPDATE'],
    ['DESTINATION_BACKUP', 'file', 'destination', 'modified', 'DOWNLOAD_UPDATE'],
  ])('%s: %s → other type at %s, the other side %s → %s', (mode, base, changer, otherSide, type) => {
    for (const strategy of ['NEWEST_WINS', 'MANUAL'] as const) {
      const plan = planSync(typeChange(base, changer, otherSide, { mode, conflictResolution: strategy }));
      expect(summary(plan)).toEqual([`${type} x`]);
      expect(plan.actions[0]?.subtree).toEqual(subtreeOf(base));
    }
  });

  it('mirrors a clash found on a first sync, the authority winning', () => {
    const plan = planSync(
      planInput({
        source: [file('x', 'a file')],
        destination: [dir('x'), file('x/inner', 'i')],
        lastKnown: null,
        config: { mode: 'SOURCE_TO_DESTINATION' },
      }),
    );
    expect(plan.actions).toEqual([
      expect.objectContaining({
        type: 'UPLOAD_UPDATE',
        reason:
          'first sync (source-to-destination): type clash: file at source / folder at destination (source wins)',
        subtree: ['x/inner'],
      }),
    ]);
    // One file copied, the destination's one file moved to its versions area.
    expect(plan.totals).toEqual({ files: 1, bytes: 6, deletes: { source: 0, destination: 1 } });
  });
});

describe('planSync, what goes with a type change', () => {
  it('plans no action of its own below the path, and no rename into or out of it', () => {
    const record = [file('x', 'base'), file('moved', 'moving content')];
    const plan = planSync(
      planInput({
        source: [dir('x'), file('x/moved', 'moving content'), file('x/b', 'b')],
        destination: record,
        lastKnown: { source: record, destination: record },
      }),
    );
    expect(summary(plan)).toEqual(['UPLOAD_UPDATE x', 'DELETE_DESTINATION moved']);
    expect(plan.actions[0]?.subtree).toEqual(['x/b', 'x/moved']);
  });

  it('counts the folder replacing a file as its files and bytes', () => {
    const plan = planSync(typeChange('file', 'destination', 'unchanged'));
    expect(plan.totals).toEqual({ files: 1, bytes: 3, deletes: { source: 0, destination: 0 } });
  });
});

describe('planSync, paths left out of the run (PlanInput.leftOut)', () => {
  it('never deletes a folder above one left out: two-way restores it, a mirror keeps it', () => {
    // The destination's `e/f` could not be read: it and its records are left out.
    const base = {
      source: [],
      destination: [dir('e')],
      lastKnown: { source: [dir('e')], destination: [dir('e')] },
    };
    const twoWay = planSync({ ...planInput(base), leftOut: new Set(['e/f']) });
    expect(summary(twoWay)).toEqual(['DOWNLOAD_RESTORE e']);
    const mirror = planSync({
      ...planInput({ ...base, config: { mode: 'SOURCE_TO_DESTINATION' } }),
      leftOut: new Set(['e/f']),
    });
    expect(summary(mirror)).toEqual(['NO_ACTION e']);
    // Without it, the folder goes.
    expect(summary(planSync(planInput(base)))).toEqual(['DELETE_DESTINATION e']);
  });
});
