import { execFileSync } from 'node:child_process';
import { chmod, chown, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  tree as listTree,
  makeWorkFolders,
  put,
  type ProcessRun as Run,
  runProcess,
  SYNCENGINE,
} from '../test/cli-process.js';
import type { JsonReport } from './report.js';

/**
 * The reproductions of file ↔ folder changes and unreadable folders, run as a user would:
 * the command from source in a child process, on real temporary folders.
 */
const NOBODY = 65_534;
const isRoot = process.getuid?.() === 0;

let work: string;
let src: string;
let dst: string;

/**
 * `syncengine sync src dst --state-dir …` with more arguments. `asUser`: as `nobody`, for
 * whom file permissions apply (the suite runs as root in CI, which reads any folder).
 */
function sync(args: string[], options: { asUser?: boolean } = {}): Promise<Run> {
  const full = [...SYNCENGINE, 'sync', src, dst, '--state-dir', join(work, 'state'), ...args];
  const argv =
    options.asUser && isRoot
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...full]
      : full;
  return runProcess(argv, { env: { HOME: work, XDG_STATE_HOME: join(work, 'xdg') } });
}

/** Every file and folder below root (folders as `path/`), without the engine's own folders. */
const tree = (root: string) => listTree(root, { withFolders: true });

/** The contents of every file in a side's versions area. */
async function versioned(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(await readFile(path, 'utf8'));
    }
  };
  await walk(join(root, '.syncengine', 'versions'));
  return out.sort();
}

const report = (run: Run) => JSON.parse(run.stdout) as JsonReport;

beforeEach(async () => {
  ({ work, src, dst } = await makeWorkFolders('syncengine-cli-types-', { src: 's', dst: 'd' }));
});

afterEach(async () => {
  // A locked folder is opened again first, so the cleanup can remove it.
  await chmod(join(src, 'locked'), 0o755).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('syncengine sync, a file replaced by a folder or back', { timeout: 120_000 }, () => {
  it('propagates a file replaced by a folder at the source (two-way, manual), versioning the file', async () => {
    await put(src, 'x', 'one');
    expect((await sync([])).code).toBe(0);
    await rm(join(src, 'x'));
    await put(src, 'x/f', 'one');

    const run = await sync(['--conflict', 'manual', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(report(run).pendingConflicts).toEqual([]);
    expect(await tree(dst)).toEqual({ 'x/': '', 'x/f': 'one' });
    expect(await versioned(dst)).toEqual(['one']);
    expect((await sync(['--json'])).code).toBe(0);
    expect(report(await sync(['--json'])).actions).toEqual([]);
  });

  it('propagates a folder replaced by a file, its contents going to the versions area', async () => {
    await put(src, 'x/f', 'inside');
    expect((await sync([])).code).toBe(0);
    await rm(join(src, 'x'), { recursive: true });
    await put(src, 'x', 'now a file');

    const run = await sync(['--conflict', 'manual', '--json']);
    expect(run.code).toBe(0);
    expect(await tree(dst)).toEqual({ x: 'now a file' });
    expect(await versioned(dst)).toEqual(['inside']);
    expect(report(await sync(['--json'])).actions).toEqual([]);
  });

  it('propagates a new folder holding a FIFO, and converges', async () => {
    await put(src, 'x', 'one');
    expect((await sync([])).code).toBe(0);
    await rm(join(src, 'x'));
    await put(src, 'x/f', 'one');
    execFileSync('mkfifo', [join(src, 'x', 'pipe')]);

    const run = await sync(['--json']);
    expect(run.code).toBe(0);
    expect(await tree(src)).toEqual({ 'x/': '', 'x/f': 'one', 'x/pipe': '(special)' });
    expect(await tree(dst)).toEqual({ 'x/': '', 'x/f': 'one' });
    const again = await sync(['--json']);
    expect(again.code).toBe(0);
    expect(report(again).actions).toEqual([]);
  });

  it.each([
    ['file', 'folder'],
    ['folder', 'file'],
  ] as const)(
    'mirrors a %s turned into a %s at the destination back (source-to-destination)',
    async (before, _after) => {
      if (before === 'file') await put(src, 'x', 'one');
      else await put(src, 'x/f', 'one');
      expect((await sync(['-m', 'std'])).code).toBe(0);
      await rm(join(dst, 'x'), { recursive: true });
      if (before === 'file') await put(dst, 'x/f', 'one');
      else await put(dst, 'x', 'a file');

      const run = await sync(['-m', 'std', '--json']);
      expect(run.code).toBe(0);
      expect(report(run).pendingConflicts).toEqual([]);
      expect(await tree(dst)).toEqual(await tree(src));
      expect(await versioned(dst)).toEqual([before === 'file' ? 'one' : 'a file']);
      const again = await sync(['-m', 'std', '--json']);
      expect(again.code).toBe(0);
      expect(report(again).actions).toEqual([]);
    },
  );

  it('mirrors a folder replaced by a file at the source (source-to-destination)', async () => {
    await put(src, 'x/f', 'one');
    expect((await sync(['-m', 'std'])).code).toBe(0);
    await rm(join(src, 'x'), { recursive: true });
    await put(src, 'x', 'a file');
    const run = await sync(['-m', 'std']);
    expect(run.code).toBe(0);
    expect(await tree(dst)).toEqual({ x: 'a file' });
    expect(await versioned(dst)).toEqual(['one']);
  });
});

describe('syncengine sync, a file at one side and a folder at the other on a first sync', {
  timeout: 120_000,
}, () => {
  it.each([
    ['source-wins', 'source'],
    ['destination-wins', 'destination'],
  ] as const)(
    '--conflict %s keeps the %s type at the name and the loser in its versions area',
    async (strategy, winner) => {
      await put(src, 'x', 'one');
      await put(dst, 'x/f', 'two');
      const before = { source: await tree(src), destination: await tree(dst) };
      const run = await sync(['--conflict', strategy, '--json']);
      expect(run.code).toBe(0);
      expect(await tree(src)).toEqual(before[winner]);
      expect(await tree(dst)).toEqual(before[winner]);
      expect(await versioned(winner === 'source' ? dst : src)).toEqual([winner === 'source' ? 'two' : 'one']);
    },
  );

  it('--conflict manual leaves both untouched and reports one conflict (exit 3)', async () => {
    await put(src, 'x', 'one');
    await put(dst, 'x/f', 'two');
    const run = await sync(['--conflict', 'manual', '--json']);
    expect(run.code).toBe(3);
    expect(report(run).pendingConflicts.map((conflict) => conflict.path)).toEqual(['x']);
    expect(report(run).errors).toEqual([]);
    expect(await tree(src)).toEqual({ x: 'one' });
    expect(await tree(dst)).toEqual({ 'x/': '', 'x/f': 'two' });
  });
});

describe('syncengine sync, a folder it cannot read', { timeout: 120_000 }, () => {
  /** The work folder, made usable by `nobody`: the runs below drop root's privileges. */
  async function handToNobody() {
    if (!isRoot) return;
    const all = [work, src, dst];
    for (const path of all) await chown(path, NOBODY, NOBODY);
    await chmod(work, 0o755);
  }

  async function lock(path: string) {
    await put(path, 'secret.txt', 'secret');
    if (isRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path]);
    await chmod(path, 0o000);
  }

  it('reports it, leaves it alone and syncs everything else (exit 0; 1 with --strict)', async () => {
    await put(src, 'a.txt', 'a');
    await lock(join(src, 'locked'));
    await handToNobody();

    const run = await sync(['--json'], { asUser: true });
    expect(run.code).toBe(0);
    const document = report(run);
    expect(document.errors).toEqual([
      {
        path: 'locked',
        code: 'UNREADABLE',
        message:
          'the folder locked on the source side could not be read (permission denied); it was left alone on both sides',
      },
    ]);
    expect(document.warnings.some((warning) => warning.includes('"locked"'))).toBe(true);
    expect(await tree(dst)).toEqual({ 'a.txt': 'a' });

    const strict = await sync(['--strict'], { asUser: true });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('locked: the folder locked on the source side could not be read');
  });

  it('never deletes on the other side what it could not list', async () => {
    await put(src, 'shared/kept.txt', 'kept');
    await handToNobody();
    if (isRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, src]);
    expect((await sync([], { asUser: true })).code).toBe(0);
    expect(await tree(dst)).toEqual({ 'shared/': '', 'shared/kept.txt': 'kept' });

    await chmod(join(src, 'shared'), 0o000);
    const run = await sync(['--json'], { asUser: true });
    expect(run.code).toBe(0);
    expect(report(run).actions).toEqual([]);
    expect(await tree(dst)).toEqual({ 'shared/': '', 'shared/kept.txt': 'kept' });
    await chmod(join(src, 'shared'), 0o755);
    expect((await stat(join(src, 'shared', 'kept.txt'))).isFile()).toBe(true);
    const again = await sync(['--json'], { asUser: true });
    expect(again.code).toBe(0);
    expect(report(again).actions).toEqual([]);
  });
});

describe('syncengine sync, a write blocked by an entry it skips', { timeout: 120_000 }, () => {
  it('says a symbolic link is in the way', async () => {
    await put(src, 'x', 'to copy');
    execFileSync('ln', ['-s', '/nonexistent-target', join(dst, 'x')]);
    const run = await sync(['--json']);
    expect(run.code).toBe(1);
    expect(report(run).errors.map((error) => error.message)).toEqual([
      'cannot write "x": a symbolic link is in the way there, which the sync skips and never replaces; move or remove it',
    ]);
  });
});
