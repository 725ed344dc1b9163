import type { SyncRunError } from '../api.js';
import type { SyncConfig } from '../config.js';
import { SyncError } from '../errors.js';
import { canHashLocally } from '../hash.js';
import type { HashAlgorithm, Plan, Side } from '../model.js';
import type { Storage } from '../storage.js';
import type { Prepared } from './prepare.js';
import { SIDES } from './run-context.js';

/**
 * Refuses comparison modes the backends cannot honour, naming the backend, and returns the
 * hash algorithm both sides offer (null when they share none).
 */
export function checkCapabilities(
  config: SyncConfig,
  storages: Readonly<Record<Side, Storage>>,
): HashAlgorithm | null {
  const { source, destination } = storages;
  const common = source.capabilities.hashAlgorithms.filter((algorithm) =>
    destination.capabilities.hashAlgorithms.includes(algorithm),
  );
  if (config.comparisonMode === 'HASH_ONLY' && common.length === 0) {
    const lacking = SIDES.filter((side) => storages[side].capabilities.hashAlgorithms.length === 0);
    const who =
      lacking.length > 0
        ? lacking.map((side) => `${side} ${storages[side].description} offers no content hashes`).join('; ')
        : `${source.description} offers ${source.capabilities.hashAlgorithms.join(', ')} and ${destination.description} offers ${destination.capabilities.hashAlgorithms.join(', ')}`;
    throw new SyncError('HASH_UNAVAILABLE', `HASH_ONLY needs a hash algorithm both sides offer: ${who}`);
  }
  if (config.comparisonMode === 'MTIME_ONLY' || config.comparisonMode === 'SIZE_AND_MTIME') {
    for (const side of SIDES) {
      if (storages[side].capabilities.mtimePrecisionMs === null) {
        throw new SyncError(
          'INVALID_CONFIG',
          `${config.comparisonMode} needs modification times, and the ${side} ${storages[side].description} keeps none`,
        );
      }
    }
  }
  return common.find(canHashLocally) ?? common[0] ?? null;
}

/** The max-delete guard: the violation, or null when the plan stays within the limit. */
export function maxDeleteViolation(
  config: SyncConfig,
  plan: Plan,
  { trees, sideFiles }: Pick<Prepared, 'trees' | 'sideFiles'>,
): SyncRunError | null {
  if (config.force) return null;
  for (const side of SIDES) {
    const type = side === 'source' ? 'DELETE_SOURCE' : 'DELETE_DESTINATION';
    const deletes = plan.actions.filter(
      (action) => action.type === type && !(action.isDir ?? trees[side].get(action.path)?.isDir),
    ).length;
    if (deletes === 0) continue;
    let files = 0;
    for (const entry of trees[side].values()) if (!entry.isDir) files++;
    if (sideFiles) files = Math.max(files, sideFiles[side]);
    if (files === 0) continue;
    const percent = (deletes / files) * 100;
    if (percent > config.maxDeletePercent) {
      return {
        code: 'MAX_DELETE',
        message: `stopped before changing anything: the run would delete ${deletes} of ${files} files (${percent.toFixed(1)} %) on the ${side} side, above maxDeletePercent ${config.maxDeletePercent} %; use force to run anyway`,
      };
    }
  }
  return null;
}
