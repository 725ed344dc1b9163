import type { Side } from '../model.js';
import { messageOf, type RunContext, SIDES } from './run-context.js';

/**
 * Removes the temporary files of interrupted earlier runs, reporting how many per side;
 * one that cannot be removed is reported and left for a later run. Returns how many went.
 */
export async function removeLeftovers(
  { storages, emit, warn }: RunContext,
  leftovers: Record<Side, string[]>,
): Promise<number> {
  let total = 0;
  for (const side of SIDES) {
    let count = 0;
    for (const path of leftovers[side]) {
      try {
        await storages[side].delete(path);
        count++;
      } catch (error) {
        warn(`could not remove the temporary file ${path} on the ${side} side: ${messageOf(error)}`, path);
      }
    }
    if (count > 0) emit({ type: 'temporary_files_removed', side, count });
    total += count;
  }
  return total;
}
