/**
 * rclone's 28 bisync scenarios against our engine. Each scenario is one test; the
 * per-case table goes to stdout and to RESULTS.md beside this file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStorage } from '@syncengine/storage-local';
import { afterAll, describe, expect, it } from 'vitest';
import * as engine from '../../../src/index.js';
import { resultsMarkdown, resultsTable } from './results.js';
import { type CaseResult, type EngineBinding, listScenarios, runScenario } from './runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../../..');
/** CI keeps `shared/` beside the clone, read-only. */
const suiteDir = resolve(repoRoot, '../shared/peer-suites/rclone-bisync');

const SCENARIOS = [
  'test_all_changed',
  'test_backupdir',
  'test_basic',
  'test_changes',
  'test_check_access',
  'test_check_access_filters',
  'test_check_filename',
  'test_check_sync',
  'test_compare_all',
  'test_concurrent',
  'test_createemptysrcdirs',
  'test_dry_run',
  'test_equal',
  'test_ext_paths',
  'test_extended_filenames',
  'test_filters',
  'test_filtersfile_checks',
  'test_ignorelistingchecksum',
  'test_max_delete_path1',
  'test_max_delete_path2_force',
  'test_nomodtime',
  'test_normalization',
  'test_rclone_args',
  'test_resolve',
  'test_resync',
  'test_resync_modes',
  'test_rmdirs',
  'test_volatile',
];

/**
 * Cases expected to fail because of a genuine engine gap (reported to the engine's
 * owners), each with the reason. Filled only with gaps that the engine must close.
 */
const KNOWN_ENGINE_GAPS: Record<string, string> = {};

/** The engine pieces, looked up at run time so this file also runs while parts are missing. */
function bindEngine(): EngineBinding | null {
  const api = engine as unknown as Record<string, unknown>;
  const sync = api.sync;
  const FileStateStore = api.FileStateStore;
  if (typeof sync !== 'function' || typeof FileStateStore !== 'function') {
    return null;
  }
  type Ctor<T> = new (root: string, options?: Record<string, unknown>) => T;
  return {
    sync: sync as EngineBinding['sync'],
    createStorage: (root) => new LocalStorage(root, { fsync: false }),
    createStateStore: (dir) =>
      new (FileStateStore as Ctor<ReturnType<EngineBinding['createStateStore']>>)(dir),
  };
}

const binding = bindEngine();
const results: CaseResult[] = [];

describe.skipIf(!binding || !existsSync(suiteDir))('rclone bisync scenario suite', () => {
  it('finds the 28 scenarios of the suite', () => {
    expect(listScenarios(suiteDir)).toEqual(SCENARIOS);
  });

  for (const name of SCENARIOS) {
    const gap = KNOWN_ENGINE_GAPS[name];
    const test = gap === undefined ? it : it.fails;
    test(`${name} ends as rclone's golden listings say`, { timeout: 60_000 }, async () => {
      const result = await runScenario(suiteDir, name, binding as EngineBinding);
      if (gap !== undefined && result.status === 'failed') result.reason = gap;
      results.push(result);
      expect(result.problems, result.problems.join('\n')).toEqual([]);
    });
  }

  afterAll(() => {
    if (results.length === 0) return;
    results.sort((a, b) => (a.name < b.name ? -1 : 1));
    console.log(`\nrclone bisync suite\n${resultsTable(results)}\n`);
    if (results.length === SCENARIOS.length)
      writeFileSync(join(here, 'RESULTS.md'), resultsMarkdown(results));
  });
});
