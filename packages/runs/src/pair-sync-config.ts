import type { PairRecord } from '@syncengine/db';
import type { SyncConfig } from '@syncengine/engine';

/**
 * A pair's settings as the engine takes them: the one place where the API's names
 * (`comparisonMode`, `conflictResolution`, `concurrency`) become the engine's. Both stores
 * take their defaults from the engine's `PAIR_SETTING_DEFAULTS`, so nothing is defaulted here.
 */
export function pairSyncConfig(
  pair: Pick<
    PairRecord,
    'mode' | 'comparisonMode' | 'conflictResolution' | 'ignorePatterns' | 'concurrency' | 'maxDeletePercent'
  >,
  run?: { dryRun: boolean; force: boolean },
): Partial<SyncConfig> {
  return {
    mode: pair.mode,
    comparison: pair.comparisonMode,
    conflictStrategy: pair.conflictResolution,
    ignorePatterns: pair.ignorePatterns,
    transfers: pair.concurrency.transfers,
    operations: pair.concurrency.operations,
    maxDeletePercent: pair.maxDeletePercent,
    dryRun: run?.dryRun ?? false,
    force: run?.force ?? false,
  };
}
