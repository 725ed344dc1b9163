import type { ActionType, PlannedActionView } from '@syncengine/contracts';
import { ACTION_ORDER } from './actions.js';

/** The planned actions of one type, with their count and bytes. */
export interface PlanGroup {
  type: ActionType;
  count: number;
  bytes: number;
  actions: PlannedActionView[];
}

/**
 * Groups a dry-run plan by action type, in execution order (renames, transfers, deletes,
 * then conflicts and unchanged paths). Types without actions are left out.
 */
export function groupPlanByAction(actions: readonly PlannedActionView[]): PlanGroup[] {
  const groups = new Map<ActionType, PlanGroup>();
  for (const action of actions) {
    let group = groups.get(action.type);
    if (!group) {
      group = { type: action.type, count: 0, bytes: 0, actions: [] };
      groups.set(action.type, group);
    }
    group.count += 1;
    group.bytes += action.bytes;
    group.actions.push(action);
  }
  return ACTION_ORDER.flatMap((type) => {
    const group = groups.get(type);
    return group ? [group] : [];
  });
}

/** True when the plan would change something (anything besides NO_ACTION). */
export function planHasChanges(groups: readonly PlanGroup[]): boolean {
  return groups.some((group) => group.type !== 'NO_ACTION' && group.count > 0);
}
