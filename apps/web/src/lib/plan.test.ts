import type { PlannedActionView } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { groupPlanByAction, planHasChanges, summarizePlan } from './plan.js';

const action = (
  type: PlannedActionView['type'],
  path: string,
  bytes = 0,
  isDir = false,
): PlannedActionView => ({
  type,
  path,
  to: null,
  reason: 'test',
  bytes,
  isDir,
});

describe('groupPlanByAction', () => {
  it('counts actions and sums bytes per type', () => {
    const groups = groupPlanByAction([
      action('UPLOAD_NEW', 'a.txt', 10),
      action('UPLOAD_NEW', 'b.txt', 32),
      action('DELETE_DESTINATION', 'old.txt'),
    ]);
    expect(groups.map((group) => [group.type, group.count, group.bytes])).toEqual([
      ['UPLOAD_NEW', 2, 42],
      ['DELETE_DESTINATION', 1, 0],
    ]);
    expect(groups[0]?.actions.map((item) => item.path)).toEqual(['a.txt', 'b.txt']);
  });

  it('orders groups as the executor runs them: renames, transfers, deletes, then conflicts', () => {
    const groups = groupPlanByAction([
      action('NO_ACTION', 'same.txt'),
      action('DELETE_SOURCE', 'x'),
      action('CONFLICT', 'c'),
      action('DOWNLOAD_UPDATE', 'd'),
      action('RENAME_DESTINATION', 'r'),
    ]);
    expect(groups.map((group) => group.type)).toEqual([
      'RENAME_DESTINATION',
      'DOWNLOAD_UPDATE',
      'DELETE_SOURCE',
      'CONFLICT',
      'NO_ACTION',
    ]);
  });

  it('returns no groups for an empty plan, which has no changes', () => {
    expect(groupPlanByAction([])).toEqual([]);
    expect(planHasChanges(groupPlanByAction([action('NO_ACTION', 'a')]))).toBe(false);
    expect(planHasChanges(groupPlanByAction([action('UPLOAD_NEW', 'a')]))).toBe(true);
  });
});

describe('summarizePlan', () => {
  const plan = [
    action('UPLOAD_NEW', 'album', 0, true),
    action('UPLOAD_NEW', 'album/owl.jpg', 300),
    action('UPLOAD_NEW', 'album/cat.jpg', 200),
    action('DOWNLOAD_UPDATE', 'notes.txt', 12),
    action('DELETE_DESTINATION', 'old', 0, true),
    action('DELETE_DESTINATION', 'old/a.txt'),
    action('RENAME_SOURCE', 'x.txt'),
    action('CONFLICT', 'both.txt', 40),
    action('NO_ACTION', 'same.txt'),
  ];

  it('keeps folders in groups of their own, after the files of the same action', () => {
    expect(groupPlanByAction(plan).map((group) => [group.type, group.isDir, group.count])).toEqual([
      ['RENAME_SOURCE', false, 1],
      ['UPLOAD_NEW', false, 2],
      ['UPLOAD_NEW', true, 1],
      ['DOWNLOAD_UPDATE', false, 1],
      ['DELETE_DESTINATION', false, 1],
      ['DELETE_DESTINATION', true, 1],
      ['CONFLICT', false, 1],
      ['NO_ACTION', false, 1],
    ]);
  });

  it('adds up to exactly what the groups hold: every changing action counted once, bytes summed', () => {
    const groups = groupPlanByAction(plan);
    const summary = summarizePlan(groups);
    expect(summary).toEqual({ files: 3, folders: 2, deletes: 1, renames: 1, conflicts: 1, bytes: 552 });
    const counted = summary.files + summary.folders + summary.deletes + summary.renames + summary.conflicts;
    const changing = groups.filter((group) => group.type !== 'NO_ACTION');
    expect(counted).toBe(changing.reduce((sum, group) => sum + group.count, 0));
    expect(summary.bytes).toBe(plan.reduce((sum, item) => sum + item.bytes, 0));
  });
});
