import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkFolders, put, type ProcessRun as Run, runSyncengine, tree } from '../test/cli-process.js';
import { bandwidthParser } from './cli.js';
import type { JsonReport } from './report.js';

// The command runs from source in a child process, exactly as `pnpm syncengine` runs it,
// on real temporary folders.

let work: string;
let src: string;
let dst: string;

const syncengine = (args: string[]) => runSyncengine(args, { env: { XDG_STATE_HOME: join(work, 'state') } });

const report = (run: Run) => JSON.parse(run.stdout) as JsonReport;
const actionsOf = (run: Run) =>
  report(run)
    .actions.map((a) => `${a.action} ${a.path}${a.to ? ` ${a.to}` : ''}`)
    .sort();

beforeEach(async () => {
  ({ work, src, dst } = await makeWorkFolders('syncengine-cli-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

// Each case starts one to three Node processes; a loaded machine needs more than the default 5 s.
describe('syncengine sync', { timeout: 30_000 }, () => {
  it('merges both folders on a first two-way sync and prints only the JSON document', async () => {
    await put(src, 'docs/a.txt', 'from source');
    await put(dst, 'b.txt', 'from destination');

    const run = await syncengine(['sync', src, dst, '--json']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(actionsOf(run)).toEqual(['DOWNLOAD_NEW b.txt', 'UPLOAD_NEW docs', 'UPLOAD_NEW docs/a.txt']);
    const { stats } = report(run);
    expect(stats).toMatchObject({ UPLOAD_NEW: 2, DOWNLOAD_NEW: 1, conflicts: 0, errors: 0 });
    expect(stats.bytesUploaded).toBe('from source'.length);
    expect(stats.bytesDownloaded).toBe('from destination'.length);
    expect(typeof stats.durationMs).toBe('number');
    const expected = { 'docs/a.txt': 'from source', 'b.txt': 'from destination' };
    expect(await tree(src)).toEqual(expected);
    expect(await tree(dst)).toEqual(expected);
    // The pair's state lives under $XDG_STATE_HOME, not in either folder.
    expect(await readdir(join(work, 'state', 'syncengine', 'pairs'))).toHaveLength(1);
  });

  it('carries edits, deletes and renames both ways on later runs, then reports nothing to do', async () => {
    await put(src, 'keep.txt', 'v1');
    await put(src, 'old-name.txt', 'renamed content');
    await put(src, 'gone.txt', 'bye');
    await put(src, 'x.txt', 'x');
    expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);

    await put(dst, 'keep.txt', 'v2 from destination', new Date(Date.now() + 10_000));
    await rm(join(src, 'gone.txt'));
    await rm(join(src, 'old-name.txt'));
    await put(src, 'new-name.txt', 'renamed content');
    await put(dst, 'created-at-destination.txt', 'new');
    const run = await syncengine(['sync', src, dst, '--json']);

    expect(run.code).toBe(0);
    expect(actionsOf(run)).toEqual([
      'DELETE_DESTINATION gone.txt',
      'DOWNLOAD_NEW created-at-destination.txt',
      'DOWNLOAD_UPDATE keep.txt',
      'RENAME_DESTINATION old-name.txt new-name.txt',
    ]);
    const converged = {
      'keep.txt': 'v2 from destination',
      'new-name.txt': 'renamed content',
      'created-at-destination.txt': 'new',
      'x.txt': 'x',
    };
    expect(await tree(src)).toEqual(converged);
    expect(await tree(dst)).toEqual(converged);

    const again = await syncengine(['sync', src, dst]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Already in sync/);
  });

  it('describes the plan with --dry-run and changes nothing on disk', async () => {
    await put(src, 'a.txt', 'a');
    await put(dst, 'b.txt', 'b');

    const run = await syncengine(['sync', src, dst, '--dry-run', '--json']);

    expect(run.code).toBe(0);
    expect(report(run).dryRun).toBe(true);
    expect(actionsOf(run)).toEqual(['DOWNLOAD_NEW b.txt', 'UPLOAD_NEW a.txt']);
    expect(report(run).stats).toMatchObject({ UPLOAD_NEW: 1, DOWNLOAD_NEW: 1, bytesUploaded: 1 });
    expect(await tree(src)).toEqual({ 'a.txt': 'a' });
    expect(await tree(dst)).toEqual({ 'b.txt': 'b' });
    expect(existsSync(join(work, 'state', 'syncengine', 'pairs'))).toBe(false);
  });

  it('leaves ignored paths alone on both sides', async () => {
    await put(src, 'a.txt', 'a');
    await put(src, 'scratch.tmp', 'tmp');
    await put(src, 'build/out.js', 'out');
    await put(dst, 'cache.tmp', 'tmp at destination');

    const run = await syncengine(['sync', src, dst, '--ignore', '*.tmp', '--ignore', 'build/', '--json']);

    expect(run.code).toBe(0);
    expect(actionsOf(run)).toEqual(['UPLOAD_NEW a.txt']);
    expect(await tree(dst)).toEqual({ 'a.txt': 'a', 'cache.tmp': 'tmp at destination' });
    expect(await tree(src)).toEqual({ 'a.txt': 'a', 'scratch.tmp': 'tmp', 'build/out.js': 'out' });
  });

  it('exits 3 and changes neither side when manual conflicts cannot be asked without a terminal', async () => {
    await put(src, 'both.txt', 'source version');
    await put(dst, 'both.txt', 'destination version!');

    const run = await syncengine(['sync', src, dst, '--conflict', 'manual', '--json']);

    expect(run.code).toBe(3);
    expect(report(run).pendingConflicts).toEqual([{ path: 'both.txt' }]);
    expect(report(run).stats.conflicts).toBe(1);
    expect(await tree(src)).toEqual({ 'both.txt': 'source version' });
    expect(await tree(dst)).toEqual({ 'both.txt': 'destination version!' });
  });

  it('exits 4 and deletes nothing when a run would delete more than --max-delete, until --force', async () => {
    for (const name of ['1', '2', '3', '4']) await put(src, `${name}.txt`, name);
    expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
    for (const name of ['1', '2', '3']) await rm(join(src, `${name}.txt`));

    const stopped = await syncengine(['sync', src, dst, '--max-delete', '50']);
    expect(stopped.code).toBe(4);
    expect(stopped.stderr).toMatch(/--force/);
    expect(Object.keys(await tree(dst)).sort()).toEqual(['1.txt', '2.txt', '3.txt', '4.txt']);

    const forced = await syncengine(['sync', src, dst, '--max-delete', '50', '--force', '--quiet']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('');
    expect(await tree(dst)).toEqual({ '4.txt': '4' });
  });

  it('copies at most --bwlimit bytes per second, all transfers together', async () => {
    // 96 KiB at 32 KiB/s: at least (96 - 8) / 32 s, a quarter of a second's worth going ahead.
    for (const name of ['a', 'b', 'c']) await put(src, `${name}.bin`, name.repeat(32 * 1024));
    const started = performance.now();
    const run = await syncengine(['sync', src, dst, '--bwlimit', '32K', '--json']);
    const elapsed = performance.now() - started;

    expect(run.code).toBe(0);
    expect(report(run).stats.bytesUploaded).toBe(96 * 1024);
    expect(elapsed).toBeGreaterThanOrEqual(((96 - 8) / 32) * 1000);
    expect(await tree(dst)).toEqual(await tree(src));
  });

  it('refuses to sync against a destination folder that vanished after an earlier sync', async () => {
    await put(src, 'precious.txt', 'keep me');
    expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
    await rm(dst, { recursive: true });

    const run = await syncengine(['sync', src, dst]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/destination folder .* does not exist.*unmounted/);
    expect(await tree(src)).toEqual({ 'precious.txt': 'keep me' });
    expect(existsSync(dst)).toBe(false);
  });

  it('refuses a source inside the destination whose name starts with two dots', async () => {
    await mkdir(join(dst, '..inner'));
    await put(join(dst, '..inner'), 'a.txt', 'a');

    const run = await syncengine(['sync', join(dst, '..inner'), dst]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/source .*\.\.inner is inside the destination/);
    expect(await tree(dst)).toEqual({ '..inner/a.txt': 'a' });
  });

  it.each([
    [['sync', 'SRC', 'DST', '--mode', 'sideways'], /sync mode "sideways"/],
    [['sync', 'SRC', 'DST', '--transfers', '0'], /--transfers/],
    [['sync', 'SRC', 'DST', '--bwlimit', 'fast'], /--bwlimit.*expected a rate such as 512K/],
    [['sync', 'SRC', 'DST', '--bwlimit', '512B'], /--bwlimit.*from 1K to 2G per second/],
    [['sync', 'MISSING', 'DST'], /source folder .*missing.* does not exist/],
    [['sync', 'SRC', 'SRC/inner'], /destination .* is inside the source/],
    [['sync', 'SRC'], /missing required argument 'destination'/],
  ])('exits 2 naming the problem for bad input: %j', async (args, message) => {
    const resolved = args.map((arg) =>
      arg === 'SRC'
        ? src
        : arg === 'DST'
          ? dst
          : arg === 'MISSING'
            ? join(work, 'missing')
            : arg.replace('SRC', src),
    );
    const run = await syncengine(resolved);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(await tree(dst)).toEqual({});
  });
});

describe('--bwlimit', () => {
  it('reads rates as rsync and rclone do: binary units, a plain number in KiB', () => {
    expect(bandwidthParser('512K')).toBe(512 * 1024);
    expect(bandwidthParser('10M')).toBe(10 * 1024 ** 2);
    expect(bandwidthParser('1.5MiB')).toBe(1.5 * 1024 ** 2);
    expect(bandwidthParser('1g/s')).toBe(1024 ** 3);
    expect(bandwidthParser('2048B')).toBe(2048);
    expect(bandwidthParser('100')).toBe(100 * 1024);
    expect(() => bandwidthParser('10 mbit')).toThrow(/expected a rate/);
    expect(() => bandwidthParser('0.5K')).toThrow(/from 1K to 2G/);
    expect(() => bandwidthParser('2G')).toThrow(/from 1K to 2G/);
  });
});

describe('syncengine plan and versions', { timeout: 30_000 }, () => {
  it('prints the plan as a table with reasons and changes nothing', async () => {
    await put(src, 'a.txt', 'a');

    const run = await syncengine(['plan', src, dst]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ACTION +PATH +SIZE +REASON/);
    expect(run.stdout).toMatch(/UPLOAD_NEW +a\.txt +1 B +first sync: only at source/);
    expect(await tree(dst)).toEqual({});
  });

  it('lists the version a sync kept of an overwritten file and restores it', async () => {
    await put(src, 'doc.txt', 'first draft');
    expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
    await put(dst, 'doc.txt', 'second draft', new Date(Date.now() + 10_000));
    expect((await syncengine(['sync', src, dst, '--quiet'])).code).toBe(0);
    expect(await tree(src)).toEqual({ 'doc.txt': 'second draft' });

    const list = await syncengine(['versions', 'list', src, '--json']);
    expect(list.code).toBe(0);
    const { versions } = JSON.parse(list.stdout) as { versions: Array<{ path: string; size: number }> };
    expect(versions).toEqual([expect.objectContaining({ path: 'doc.txt', size: 'first draft'.length })]);

    const restore = await syncengine(['versions', 'restore', src, 'doc.txt']);
    expect(restore.code).toBe(0);
    expect(await readFile(join(src, 'doc.txt'), 'utf8')).toBe('first draft');
  });
});

describe('syncengine --help', { timeout: 30_000 }, () => {
  it('documents every sync option and the exit codes', async () => {
    const run = await syncengine(['sync', '--help']);
    expect(run.code).toBe(0);
    for (const option of [
      '--mode',
      '--compare',
      '--conflict',
      '--state-dir',
      '--ignore',
      '--transfers',
      '--operations',
      '--max-delete',
      '--bwlimit',
      '--force',
      '--dry-run',
      '--json',
      '--quiet',
    ]) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stdout).toMatch(/4 +stopped by the max-delete guard/);
  });

  it('lists the server commands, and pairs run documents its exit codes', async () => {
    const run = await syncengine(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['login', 'logout', 'pairs', 'conflicts', 'versions']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const pairsRun = await syncengine(['pairs', 'run', '--help']);
    expect(pairsRun.stdout).toContain('--wait');
    expect(pairsRun.stdout).toMatch(/3 +the run completed, but conflicts remain undecided/);
  });
});
