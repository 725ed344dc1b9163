import type { ActionType, PlannedActionView } from '@syncengine/contracts';
import { ACTION_ORDER } from './actions.js';

/** The planned actions of one type on files, or on folders, with their count and bytes. */
export interface PlanGroup {
  type: ActionType;
  isDir: boolean;
  count: number;
  bytes: number;
  actions: PlannedActionView[];
}

/**
 * Groups a dry-run plan by action type, in execution order (renames, transfers, deletes,
 * then conflicts and unchanged paths), folders apart from files within a type. Groups
 * without actions are left out.
 */
export function groupPlanByAction(actions: readonly PlannedActionView[]): PlanGroup[] {
  const groups = new Map<string, PlanGroup>();
  for (const action of actions) {
    const key = `${action.type}:${action.isDir}`;
    let group = groups.get(key);
    if (!group) {
      group = { type: action.type, isDir: action.isDir, count: 0, bytes: 0, actions: [] };
      groups.set(key, group);
    }
    group.count += 1;
    group.bytes += action.bytes;
    group.actions.push(action);
  }
  return ACTION_ORDER.flatMap((type) =>
    [groups.get(`${type}:false`), groups.get(`${type}:true`)].filter(
      (group): group is PlanGroup => group !== undefined,
    ),
  );
}

/** True when the plan would change something (anything besides NO_ACTION). */
export function planHasChanges(groups: readonly PlanGroup[]): boolean {
  return groups.some((group) => group.type !== 'NO_ACTION' && group.count > 0);
}

/**
 * What a plan's summary line says, added up from its groups, so the two always agree, and
 * counted as the run page counts progress: an action on a folder is a folder, whatever it
 * does; unchanged paths are not counted.
 */
export interface PlanSummary {
  files: number;
  folders: number;
  deletes: number;
  renames: number;
  conflicts: number;
  bytes: number;
}

export function summarizePlan(groups: readonly PlanGroup[]): PlanSummary {
  const summary: PlanSummary = { files: 0, folders: 0, deletes: 0, renames: 0, conflicts: 0, bytes: 0 };
  for (const group of groups) {
    summary.bytes += group.bytes;
    if (group.type === 'NO_ACTION') continue;
    if (group.type === 'CONFLICT') summary.conflicts += group.count;
    else if (group.isDir) summary.folders += group.count;
    else if (group.type.startsWith('DELETE_')) summary.deletes += group.count;
    else if (group.type.startsWith('RENAME_')) summary.renames += group.count;
    else summary.files += group.count;
  }
  return summary;
}
