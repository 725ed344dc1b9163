import { CreatePairSchema } from '@syncengine/contracts';
import { DEFAULT_CONFIG, resolveConfig } from '@syncengine/engine';
import { describe, expect, it } from 'vitest';
import { pairSyncConfig } from './pair-sync-config.js';

const locations = {
  source: { type: 'local', path: '/srv/a' },
  destination: { type: 'local', path: '/srv/b' },
};

describe('pairSyncConfig', () => {
  it("gives the engine its own defaults for a pair saved with the API's defaults", () => {
    const pair = CreatePairSchema.parse({ name: 'p', ...locations });
    expect(resolveConfig(pairSyncConfig(pair))).toEqual(DEFAULT_CONFIG);
  });

  it('hands every setting a pair stores to the engine under its name there', () => {
    const pair = CreatePairSchema.parse({
      name: 'p',
      ...locations,
      mode: 'SOURCE_BACKUP',
      comparisonMode: 'SIZE_ONLY',
      conflictResolution: 'MANUAL',
      ignorePatterns: ['*.tmp'],
      concurrency: { transfers: 3, operations: 7 },
      maxDeletePercent: 20,
      bandwidthLimit: 65_536,
    });
    expect(pairSyncConfig(pair, { dryRun: true, force: true })).toEqual({
      mode: 'SOURCE_BACKUP',
      comparisonMode: 'SIZE_ONLY',
      conflictResolution: 'MANUAL',
      ignorePatterns: ['*.tmp'],
      transfers: 3,
      operations: 7,
      maxDeletePercent: 20,
      bandwidthLimit: 65_536,
      dryRun: true,
      force: true,
    });
  });
});
