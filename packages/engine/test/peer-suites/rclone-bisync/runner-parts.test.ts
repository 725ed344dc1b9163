import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/model.js';
import { type CompareContext, compareListing, ourConflictBase, rcloneConflictBase } from './compare.js';
import { type Listing, parseGoldenListing, walkTree } from './listing.js';
import { mapBisyncOptions } from './options.js';
import { parseRcloneLog } from './rclone-log.js';
import {
  byteChar,
  fsPath,
  parseScenario,
  pinnedDates,
  type ScenarioDirs,
  ScenarioSyntaxError,
} from './scenario.js';
import { copyDir, purgeChildren, touchGlob } from './steps.js';

const dirs: ScenarioDirs = {
  path1: '/t/path1',
  path2: '/t/path2',
  datadir: '/t/test/modfiles',
  testdir: '/t/test',
  workdir: '/t/work',
  session: '_testdir_path1.._testdir_path2',
};

describe('scenario parsing', () => {
  it('expands folder and in-token placeholders and skips comments and blank lines', () => {
    const steps = parseScenario(
      [
        '# comment',
        '',
        'copy-as {datadir/}file1.txt {path1/}sub{spc}dir a{tab}b{eol}c{chr:19}{chr:81}',
        'delete-file {path2/}subdir{/}RCLONE_TEST',
        'copy-as {datadir/}x {workdir/} {session}.path1.lst',
      ].join('\n'),
      dirs,
    );
    expect(steps.map((parsed) => parsed.line)).toEqual([3, 4, 5]);
    expect(steps[0]?.step).toEqual({
      kind: 'copy-as',
      src: '/t/test/modfiles/file1.txt',
      dstDir: '/t/path1/sub dir',
      name: `a\tb\nc\u0019${byteChar(0x81)}`,
    });
    expect(steps[1]?.step).toEqual({ kind: 'delete-file', path: '/t/path2/subdir/RCLONE_TEST' });
    expect(steps[2]?.step).toMatchObject({ name: '_testdir_path1.._testdir_path2.path1.lst' });
  });

  it('parses bisync options with and without values, and collects the pinned dates', () => {
    const steps = parseScenario('touch-glob 2001-01-02 {path1/} file*\nbisync resync max-delete=60', dirs);
    expect(steps[1]?.step).toEqual({
      kind: 'bisync',
      options: [{ name: 'resync' }, { name: 'max-delete', value: '60' }],
    });
    expect([...pinnedDates(steps)].sort()).toEqual(['2000-01-01', '2001-01-02']);
  });

  it('rejects unknown steps and wrong argument counts, naming the line', () => {
    expect(() => parseScenario('frobnicate x', dirs)).toThrow(/line 1: unknown step/);
    expect(() => parseScenario('\ncopy-file onlyone', dirs)).toThrow(ScenarioSyntaxError);
  });

  it('turns escaped bytes back into raw bytes for the file system', () => {
    expect(fsPath(`a${byteChar(0x81)}é`)).toEqual(Buffer.from([0x61, 0x81, 0xc3, 0xa9]));
  });
});

describe('golden listings and rclone logs', () => {
  it('parses sizes, mtimes and Go-quoted names', () => {
    const listing = parseGoldenListing(
      [
        '# bisync listing v1 from test',
        '-      109 - - 2000-01-01T00:00:00.000000000+0000 "RCLONE_TEST"',
        '-       19 md5:abc - 2001-01-02T00:00:00.000000000+0000 "dir/raw_\\x81_\\u200d_\\"q\\".txt"',
      ].join('\n'),
    );
    expect(listing.get('RCLONE_TEST')).toEqual({ size: 109, mtime: Date.parse('2000-01-01T00:00:00Z') });
    expect(listing.get(`dir/raw_${byteChar(0x81)}_\u200d_"q".txt`)).toEqual({
      size: 19,
      mtime: Date.parse('2001-01-02T00:00:00Z'),
    });
  });

  it('reads each bisync outcome and each list-dirs output from test.log', () => {
    const log = parseRcloneLog(
      [
        '\u001b[36m(01)  :\u001b[0m \u001b[34mbisync resync\u001b[0m',
        'INFO  : Bisync successful',
        '(02)  : bisync check-access',
        'ERROR : Bisync critical error: check file check failed',
        '(03)  : list-dirs {path1/}',
        'subdir/ - filename hash: 86ae37b338459868804e9697025ba4c2',
        '(04)  : test done',
      ].join('\n'),
    );
    expect(log.bisyncs).toEqual([
      { step: 'bisync resync', succeeded: true, errors: [] },
      {
        step: 'bisync check-access',
        succeeded: false,
        errors: ['Bisync critical error: check file check failed'],
      },
    ]);
    expect(log.listDirs).toEqual([['subdir']]);
  });
});

describe('listing comparison', () => {
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`);
  const context = (versions: CompareContext['versions'] = []): CompareContext => ({
    pinnedDates: new Set(['2000-01-01', '2001-01-02', '2001-03-04']),
    conflictSuffixes: ['conflict', 'path', '.path'],
    versions,
  });
  const listing = (entries: Array<[string, number, string]>): Listing =>
    new Map(entries.map(([name, size, date]) => [name, { size, mtime: day(date) }]));

  it('recognises rclone and our conflict copy names', () => {
    expect(rcloneConflictBase('file5.txt.conflict2', ['conflict'])).toBe('file5.txt');
    expect(rcloneConflictBase('file1.txt..path1', ['path', '.path'])).toBe('file1.txt');
    expect(rcloneConflictBase('file1.copy1.txt', ['conflict'])).toBeNull();
    expect(ourConflictBase('d/file5.conflict-20261126T042800Z-destination.txt')).toBe('d/file5.txt');
    expect(ourConflictBase('.bashrc.conflict-20261126T042800Z-source')).toBe('.bashrc');
  });

  it('reports a missing file, a size difference and a pinned mtime difference, but not an unpinned one', () => {
    const golden = listing([
      ['a', 1, '2000-01-01'],
      ['b', 2, '2000-01-01'],
      ['c', 3, '2001-01-02'],
      ['d', 4, '2023-05-05'],
    ]);
    const ours = listing([
      ['b', 5, '2000-01-01'],
      ['c', 3, '2001-03-04'],
      ['d', 4, '2024-01-01'],
      ['e', 1, '2000-01-01'],
    ]);
    const { problems } = compareListing('x', golden, ours, context());
    expect(problems).toEqual([
      'x: a: expected 1 B, 2000-01-01T00:00:00.000Z, got missing',
      'x: b: expected 2 B, 2000-01-01T00:00:00.000Z, got 5 B, 2000-01-01T00:00:00.000Z',
      'x: c: expected 3 B, 2001-01-02T00:00:00.000Z, got 3 B, 2001-03-04T00:00:00.000Z',
      'x: unexpected e (1 B, 2000-01-01T00:00:00.000Z)',
    ]);
  });

  it("maps rclone's two conflict copies onto our live file and the loser in the versions area", () => {
    const golden = listing([
      ['file5.txt.conflict1', 39, '2001-03-04'],
      ['file5.txt.conflict2', 39, '2001-01-02'],
    ]);
    const ours = listing([['file5.txt', 39, '2001-03-04']]);
    const kept = compareListing(
      'x',
      golden,
      ours,
      context([{ path: 'file5.txt', size: 39, mtime: day('2001-01-02') }]),
    );
    expect(kept).toEqual({ problems: [], mappingsUsed: new Set(['CONFLICT-COPIES']) });
    const lost = compareListing('x', golden, ours, context());
    expect(lost.problems).toEqual([
      "x: rclone's conflict copy file5.txt.conflict2 (39 B, 2001-01-02T00:00:00.000Z) is neither our file5.txt, our conflict copy of it, nor in a versions area",
    ]);
  });

  it('accepts our keep-both copy for a conflict copy, and flags a conflict copy nobody expected', () => {
    const golden = listing([
      ['f.txt.conflict1', 3, '2001-03-04'],
      ['f.txt.conflict2', 4, '2001-01-02'],
      ['g.txt', 1, '2000-01-01'],
    ]);
    const ours = listing([
      ['f.txt', 3, '2001-03-04'],
      ['f.conflict-20261126T042800Z-destination.txt', 4, '2001-01-02'],
      ['g.txt', 1, '2000-01-01'],
      ['h.conflict-20261126T042800Z-source.txt', 1, '2000-01-01'],
    ]);
    expect(compareListing('x', golden, ours, context()).problems).toEqual([
      'x: unexpected conflict copy h.conflict-20261126T042800Z-source.txt (1 B, 2000-01-01T00:00:00.000Z)',
    ]);
  });
});

describe('bisync option mapping', () => {
  const entry = (size: number, mtime: number): Entry => ({ path: 'f', size, mtime, isDir: false });

  it('maps resync to a first sync where path1 wins, and the default run to keep-both conflicts', async () => {
    expect(mapBisyncOptions([{ name: 'resync' }])).toMatchObject({
      resync: true,
      config: {
        conflictResolution: 'SOURCE_WINS',
        comparisonMode: 'SIZE_AND_MTIME',
        syncEmptyDirectories: false,
      },
    });
    const plain = mapBisyncOptions([]);
    expect(plain.config.conflictResolution).toBe('MANUAL');
    await expect(
      plain.onConflict?.({ path: 'f', source: entry(1, 0), destination: entry(2, 0) }),
    ).resolves.toBe('keep-both');
  });

  it('decides larger, smaller and older through the manual handler, keeping both on a tie', async () => {
    const conflict = { path: 'f', source: entry(10, 5_000), destination: entry(20, 1_000) };
    const decide = (rule: string) =>
      mapBisyncOptions([{ name: 'conflict-resolve', value: rule }]).onConflict?.(conflict);
    await expect(decide('larger')).resolves.toBe('destination');
    await expect(decide('smaller')).resolves.toBe('source');
    await expect(decide('older')).resolves.toBe('destination');
    const tie = mapBisyncOptions([{ name: 'conflict-resolve', value: 'larger' }]).onConflict?.({
      path: 'f',
      source: entry(3, 0),
      destination: entry(3, 9_000),
    });
    await expect(tie).resolves.toBe('keep-both');
    expect(mapBisyncOptions([{ name: 'conflict-resolve', value: 'path2' }]).config.conflictResolution).toBe(
      'DESTINATION_WINS',
    );
  });

  it('maps comparison, safety and folder options, and names options it cannot map', () => {
    const mapped = mapBisyncOptions([
      { name: 'size-only' },
      { name: 'max-delete', value: '60' },
      { name: 'force' },
      { name: 'dry-run' },
      { name: 'check-access' },
      { name: 'check-filename', value: '.chk_file' },
      { name: 'create-empty-src-dirs' },
      { name: 'ignore-listing-checksum' },
      { name: 'bogus' },
    ]);
    expect(mapped.config).toMatchObject({
      comparisonMode: 'SIZE_ONLY',
      maxDeletePercent: 60,
      force: true,
      dryRun: true,
      accessCheckFiles: ['.chk_file'],
      syncEmptyDirectories: true,
    });
    expect(mapped.ignoredOptions).toEqual(['ignore-listing-checksum']);
    expect(mapped.unsupportedOptions).toEqual(['bogus']);
    expect(mapBisyncOptions([{ name: 'check-access' }]).config.accessCheckFiles).toEqual(['RCLONE_TEST']);
    expect(mapBisyncOptions([{ name: 'checksum' }]).config.comparisonMode).toBe('HASH_ONLY');
    expect(mapBisyncOptions([{ name: 'ignore-size' }]).config.comparisonMode).toBe('MTIME_ONLY');
  });
});

describe('file steps', () => {
  let tmp = '';
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('touches matching entries, mirrors folders keeping mtimes, and leaves the engine folder alone', () => {
    tmp = mkdtempSync(join(tmpdir(), 'rclone-steps-'));
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    mkdirSync(join(a, 'sub'), { recursive: true });
    mkdirSync(join(b, '.syncengine'), { recursive: true });
    writeFileSync(join(a, 'file1.txt'), 'x');
    writeFileSync(join(a, 'other.md'), 'y');
    writeFileSync(join(a, 'sub', 'deep.txt'), 'z');
    writeFileSync(join(b, 'stale.txt'), 'old');
    expect(touchGlob('2001-01-02', a, 'file*').sort()).toEqual(['file1.txt']);
    copyDir(a, b, true);
    expect(readdirSync(b).sort()).toEqual(['.syncengine', 'file1.txt', 'other.md', 'sub']);
    expect(statSync(join(b, 'file1.txt')).mtime.toISOString()).toBe('2001-01-02T00:00:00.000Z');
    expect(walkTree(b).dirs).toEqual(new Set(['sub']));
    purgeChildren(b);
    expect(readdirSync(b)).toEqual(['.syncengine']);
  });
});
