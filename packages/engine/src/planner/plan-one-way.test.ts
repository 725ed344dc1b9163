import { describe, expect, it } from 'vitest';
import { file, type Kind, planInput, scenario, T0 } from '../../test/planner-fixtures.js';
import type { SyncConfig } from '../config.js';
import type { Entry, Plan, SyncMode } from '../model.js';
import { planSync } from './plan.js';

type Row =
  | 'created at source'
  | 'created at destination'
  | 'modified at source'
  | 'modified at destination'
  | 'deleted at source'
  | 'deleted at destination'
  | 'renamed at source'
  | 'renamed at destination';

const CHANGE_ROWS: Partial<Record<Row, [Kind, Kind]>> = {
  'created at source': ['created', 'none'],
  'created at destination': ['none', 'created'],
  'modified at source': ['modified', 'unchanged'],
  'modified at destination': ['unchanged', 'modified'],
  'deleted at source': ['deleted', 'unchanged'],
  'deleted at destination': ['unchanged', 'deleted'],
};

/** `a.txt` renamed to `b.txt` on one side, unchanged `a.txt` on the other. */
function renameInput(renamed: 'source' | 'destination', config: Partial<SyncConfig>) {
  const before = file('a.txt', 'content');
  const after = file('b.txt', 'content');
  return planInput({
    source: [renamed === 'source' ? after : before],
    destination: [renamed === 'destination' ? after : before],
    lastKnown: { source: [before], destination: [before] },
    config,
  });
}

function inputFor(row: Row, mode: SyncMode) {
  if (row === 'renamed at source') return renameInput('source', { mode });
  if (row === 'renamed at destination') return renameInput('destination', { mode });
  const [source, destination] = CHANGE_ROWS[row]!;
  return scenario(source, destination, { mode });
}

const describeActions = (plan: Plan) =>
  plan.actions.map((a) => `${a.type} ${a.path}${a.to ? ` → ${a.to}` : ''} | ${a.reason}`);

/** SPEC §4, every cell: [row, expected actions as `TYPE path | reason`]. */
const TABLE: Record<Exclude<SyncMode, 'TWO_WAY'>, [Row, string[]][]> = {
  SOURCE_TO_DESTINATION: [
    ['created at source', ['UPLOAD_NEW f.txt | source-to-destination: created at source']],
    ['created at destination', ['DELETE_DESTINATION f.txt | source-to-destination: created at destination']],
    ['modified at source', ['UPLOAD_UPDATE f.txt | source-to-destination: modified at source']],
    [
      'modified at destination',
      ["UPLOAD_UPDATE f.txt | source-to-destination: modified at destination (overwrite with source's)"],
    ],
    ['deleted at source', ['DELETE_DESTINATION f.txt | source-to-destination: deleted at source']],
    ['deleted at destination', ['UPLOAD_RESTORE f.txt | source-to-destination: deleted at destination']],
    ['renamed at source', ['RENAME_DESTINATION a.txt → b.txt | source-to-destination: renamed at source']],
    [
      'renamed at destination',
      ['RENAME_DESTINATION b.txt → a.txt | source-to-destination: renamed at destination (rename back)'],
    ],
  ],
  SOURCE_BACKUP: [
    ['created at source', ['UPLOAD_NEW f.txt | source-backup: created at source']],
    ['created at destination', ['NO_ACTION f.txt | source-backup: created at destination (kept)']],
    ['modified at source', ['UPLOAD_UPDATE f.txt | source-backup: modified at source']],
    [
      'modified at destination',
      ["UPLOAD_UPDATE f.txt | source-backup: modified at destination (overwrite with source's)"],
    ],
    ['deleted at source', ['NO_ACTION f.txt | source-backup: deleted at source (backup kept)']],
    ['deleted at destination', ['UPLOAD_RESTORE f.txt | source-backup: deleted at destination']],
    [
      'renamed at source',
      [
        'UPLOAD_NEW b.txt | source-backup: renamed at source (copy to the new path, old copy kept)',
        'NO_ACTION a.txt | source-backup: renamed at source (copy to the new path, old copy kept)',
      ],
    ],
    [
      'renamed at destination',
      [
        'NO_ACTION a.txt | source-backup: renamed at destination (kept, not followed)',
        'NO_ACTION b.txt | source-backup: renamed at destination (kept, not followed)',
      ],
    ],
  ],
  DESTINATION_TO_SOURCE: [
    ['created at source', ['DELETE_SOURCE f.txt | destination-to-source: created at source']],
    ['created at destination', ['DOWNLOAD_NEW f.txt | destination-to-source: created at destination']],
    [
      'modified at source',
      ["DOWNLOAD_UPDATE f.txt | destination-to-source: modified at source (overwrite with destination's)"],
    ],
    ['modified at destination', ['DOWNLOAD_UPDATE f.txt | destination-to-source: modified at destination']],
    ['deleted at source', ['DOWNLOAD_RESTORE f.txt | destination-to-source: deleted at source']],
    ['deleted at destination', ['DELETE_SOURCE f.txt | destination-to-source: deleted at destination']],
    [
      'renamed at source',
      ['RENAME_SOURCE b.txt → a.txt | destination-to-source: renamed at source (rename back)'],
    ],
    [
      'renamed at destination',
      ['RENAME_SOURCE a.txt → b.txt | destination-to-source: renamed at destination'],
    ],
  ],
  DESTINATION_BACKUP: [
    ['created at source', ['NO_ACTION f.txt | destination-backup: created at source (kept)']],
    ['created at destination', ['DOWNLOAD_NEW f.txt | destination-backup: created at destination']],
    [
      'modified at source',
      ["DOWNLOAD_UPDATE f.txt | destination-backup: modified at source (overwrite with destination's)"],
    ],
    ['modified at destination', ['DOWNLOAD_UPDATE f.txt | destination-backup: modified at destination']],
    ['deleted at source', ['DOWNLOAD_RESTORE f.txt | destination-backup: deleted at source']],
    [
      'deleted at destination',
      ['NO_ACTION f.txt | destination-backup: deleted at destination (backup kept)'],
    ],
    [
      'renamed at source',
      [
        'NO_ACTION a.txt | destination-backup: renamed at source (kept, not followed)',
        'NO_ACTION b.txt | destination-backup: renamed at source (kept, not followed)',
      ],
    ],
    [
      'renamed at destination',
      [
        'DOWNLOAD_NEW b.txt | destination-backup: renamed at destination (copy to the new path, old copy kept)',
        'NO_ACTION a.txt | destination-backup: renamed at destination (copy to the new path, old copy kept)',
      ],
    ],
  ],
};

describe.each(Object.entries(TABLE) as [Exclude<SyncMode, 'TWO_WAY'>, [Row, string[]][]][])(
  'planSync, %s (SPEC §4)',
  (mode, rows) => {
    it.each(rows)(`plans for "%s": %j`, (row, expected) => {
      expect(describeActions(planSync(inputFor(row, mode)))).toEqual(expected);
    });
  },
);

/** Applies NO_ACTION bookkeeping the way the executor does: the path as both sides hold it now. */
function recordKept(plan: Plan, previous: { source: Entry[]; destination: Entry[] }) {
  const source = new Map(previous.source.map((e) => [e.path, e]));
  const destination = new Map(previous.destination.map((e) => [e.path, e]));
  for (const action of plan.actions) {
    expect(action.type).toBe('NO_ACTION');
    if (action.source) source.set(action.path, action.source);
    else source.delete(action.path);
    if (action.destination) destination.set(action.path, action.destination);
    else destination.delete(action.path);
  }
  return { source: [...source.values()], destination: [...destination.values()] };
}

describe('planSync, one-way modes', () => {
  it.each<SyncMode>(['SOURCE_TO_DESTINATION', 'SOURCE_BACKUP'])(
    '%s overwrites the destination when both sides modified a path, without a conflict',
    (mode) => {
      const plan = planSync(scenario('modified', 'modified', { mode }));
      expect(plan.actions.map((a) => [a.type, a.reason])).toEqual([
        [
          'UPLOAD_UPDATE',
          `${mode === 'SOURCE_BACKUP' ? 'source-backup' : 'source-to-destination'}: modified at source, modified at destination, different (source wins)`,
        ],
      ]);
    },
  );

  it.each<SyncMode>(['DESTINATION_TO_SOURCE', 'DESTINATION_BACKUP'])(
    '%s overwrites the source when both sides modified a path, without a conflict',
    (mode) => {
      const plan = planSync(scenario('modified', 'modified', { mode }));
      expect(plan.actions.map((a) => a.type)).toEqual(['DOWNLOAD_UPDATE']);
    },
  );

  it('restores a file deleted at destination and modified at source in a mirror', () => {
    const plan = planSync(scenario('modified', 'deleted', { mode: 'SOURCE_TO_DESTINATION' }));
    expect(plan.actions.map((a) => a.type)).toEqual(['UPLOAD_RESTORE']);
  });

  it('deletes a file modified at destination when the source deleted it in a mirror', () => {
    const plan = planSync(scenario('deleted', 'modified', { mode: 'SOURCE_TO_DESTINATION' }));
    expect(plan.actions.map((a) => a.type)).toEqual(['DELETE_DESTINATION']);
  });

  it('mirror first sync copies what the source has and deletes what only the destination has', () => {
    const plan = planSync(
      planInput({
        source: [file('a.txt', 'a'), file('same.txt', 's'), file('differs.txt', 'src')],
        destination: [file('extra.txt', 'e'), file('same.txt', 's'), file('differs.txt', 'dst')],
        lastKnown: null,
        config: { mode: 'SOURCE_TO_DESTINATION' },
      }),
    );
    expect(describeActions(plan)).toEqual([
      'UPLOAD_NEW a.txt | first sync (source-to-destination): only at source',
      'UPLOAD_UPDATE differs.txt | first sync (source-to-destination): on both sides, different (source wins)',
      'DELETE_DESTINATION extra.txt | first sync (source-to-destination): only at destination',
      'NO_ACTION same.txt | first sync (source-to-destination): on both sides, identical',
    ]);
  });

  it('backup first sync keeps and records what only the destination has', () => {
    const plan = planSync(
      planInput({
        source: [file('a.txt', 'a')],
        destination: [file('extra.txt', 'e')],
        lastKnown: null,
        config: { mode: 'SOURCE_BACKUP' },
      }),
    );
    expect(describeActions(plan)).toEqual([
      'UPLOAD_NEW a.txt | first sync (source-backup): only at source',
      'NO_ACTION extra.txt | first sync (source-backup): only at destination (kept)',
    ]);
    expect(plan.actions[1]).toMatchObject({ source: null, destination: { path: 'extra.txt' } });
    expect(plan.totals.deletes).toEqual({ source: 0, destination: 0 });
  });

  it('keeps tracking a backup copy so the next run plans nothing for it', () => {
    const kept = file('f.txt', 'original');
    const first = planSync(
      planInput({
        source: [],
        destination: [kept],
        lastKnown: { source: [kept], destination: [kept] },
        config: { mode: 'SOURCE_BACKUP' },
      }),
    );
    expect(first.actions[0]).toMatchObject({
      type: 'NO_ACTION',
      source: null,
      destination: { path: 'f.txt' },
    });
    const recorded = recordKept(first, { source: [kept], destination: [kept] });
    const second = planSync(
      planInput({ source: [], destination: [kept], lastKnown: recorded, config: { mode: 'SOURCE_BACKUP' } }),
    );
    expect(second.actions).toEqual([]);
  });

  it('refreshes the record of a kept backup copy edited at the destination, without copying it back', () => {
    const kept = file('f.txt', 'original');
    const plan = planSync(
      planInput({
        source: [],
        destination: [file('f.txt', 'edited in the backup', { mtime: T0 + 5_000 })],
        lastKnown: { source: [], destination: [kept] },
        config: { mode: 'SOURCE_BACKUP' },
      }),
    );
    expect(describeActions(plan)).toEqual([
      'NO_ACTION f.txt | source-backup: modified at destination (kept)',
    ]);
  });

  it('does not undo a rename in the backup on the next run', () => {
    const first = planSync(renameInput('destination', { mode: 'SOURCE_BACKUP' }));
    const recorded = recordKept(first, {
      source: [file('a.txt', 'content')],
      destination: [file('a.txt', 'content')],
    });
    expect(recorded).toEqual({ source: [file('a.txt', 'content')], destination: [file('b.txt', 'content')] });
    const second = planSync(
      planInput({
        source: [file('a.txt', 'content')],
        destination: [file('b.txt', 'content')],
        lastKnown: recorded,
        config: { mode: 'SOURCE_BACKUP' },
      }),
    );
    expect(second.actions).toEqual([]);
  });

  it('restores instead of renaming back when the source no longer holds the original unchanged', () => {
    const before = file('a.txt', 'content');
    const plan = planSync(
      planInput({
        source: [file('a.txt', 'content, edited', { mtime: T0 + 9_000 })],
        destination: [file('b.txt', 'content')],
        lastKnown: { source: [before], destination: [before] },
        config: { mode: 'SOURCE_TO_DESTINATION' },
      }),
    );
    expect(describeActions(plan)).toEqual([
      'UPLOAD_RESTORE a.txt | source-to-destination: deleted at destination',
      'DELETE_DESTINATION b.txt | source-to-destination: created at destination',
    ]);
  });

  it('never plans a conflict in a one-way mode', () => {
    for (const mode of [
      'SOURCE_TO_DESTINATION',
      'SOURCE_BACKUP',
      'DESTINATION_TO_SOURCE',
      'DESTINATION_BACKUP',
    ] as const) {
      for (const pair of [
        ['modified', 'modified'],
        ['created', 'created'],
        ['deleted', 'modified'],
        ['modified', 'deleted'],
      ] as const) {
        const plan = planSync(scenario(pair[0], pair[1], { mode }));
        expect(plan.actions.filter((a) => a.type === 'CONFLICT')).toEqual([]);
      }
    }
  });
});
