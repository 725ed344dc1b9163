import type { PairRecord } from '@syncengine/db';
import type { SyncConfig } from '@syncengine/engine';

/**
 * A pair's settings as the engine takes them. `comparisonMode` and `conflictResolution` keep
 * their names; only `concurrency` is spread into the engine's `transfers` and `operations`.
 * Both stores take their defaults from the engine's `PAIR_SETTING_DEFAULTS`, so nothing is
 * defaulted here.
 */
export function pairSyncConfig(
  pair: Pick<
    PairRecord,
    | 'mode'
    | 'comparisonMode'
    | 'conflictResolution'
    | 'ignorePatterns'
    | 'concurrency'
    | 'maxDeletePercent'
    | 'bandwidthLimit'
  >,
  run?: { dryRun: boolean; force: boolean },
): Partial<SyncConfig> {
  return {
    mode: pair.mode,
    comparisonMode: pair.comparisonMode,
    conflictResolution: pair.conflictResolution,
    ignorePatterns: pair.ignorePatterns,
    transfers: pair.concurrency.transfers,
    operations: pair.concurrency.operations,
    maxDeletePercent: pair.maxDeletePercent,
    bandwidthLimit: pair.bandwidthLimit,
    dryRun: run?.dryRun ?? false,
    force: run?.force ?? false,
  };
}
