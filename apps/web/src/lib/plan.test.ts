import type { PlannedActionView } from '@syncengine/contracts';
import { describe, expect, it } from 'vitest';
import { groupPlanByAction, planHasChanges } from './plan.js';

const action = (type: PlannedActionView['type'], path: string, bytes = 0): PlannedActionView => ({
  type,
  path,
  to: null,
  reason: 'test',
  bytes,
  isDir: false,
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
