/**
 * SPEC §3 (TWO_WAY) through the `syncengine` command, local folder ↔ each remote backend
 * (SFTP on OpenSSH, S3 on s3rver, WebDAV on `rclone serve webdav`), against real servers on
 * 127.0.0.1. The command runs from source in a child process, as a user runs it; the remote
 * side is changed through the same URL parser and storage opener the command uses.
 *
 * Every decision-table cell has its own file (`cNN-…`), so one sequence per backend covers
 * the whole table: set up, first sync (the last-known state), change every file as its cell
 * says, second sync, then each cell checks its file(s) in the `--json` report, on both sides
 * and in the versions areas. A third sync must then find nothing to do.
 *
 * mtimes: local files get explicit mtimes; remote ones get the mtime the backend reports
 * (SFTP keeps seconds, S3 keeps them in metadata, `rclone serve webdav` keeps only the upload
 * time). Cells that need two sides "equally new" copy the remote's reported mtime to the
 * local file; cells that need one side newer put a minute or more between them. Every edit
 * changes the file's size, so edits are seen whatever hashes a backend offers.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActionType, type Storage, VERSIONS_DIR } from '@syncengine/engine';
import { listAll, readAll, writeText } from '@syncengine/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessRun as Run, runSyncengine } from '../test/cli-process.js';
import { REMOTE_BACKENDS, type RemoteBackend, type RemoteServer } from '../test/testing/remote-servers.js';
import type { JsonReport } from './report.js';

if (process.env.REQUIRE_SERVICES === '1') {
  for (const backend of REMOTE_BACKENDS) {
    if (backend.missing) throw new Error(`REQUIRE_SERVICES=1 but ${backend.missing}`);
  }
}

/** Runs `syncengine ARGS` from source in a child process. */
function syncengine(args: string[], env: Record<string, string>): Promise<Run> {
  return runSyncengine(args, {
    env: {
      ...env,
      // Credentials come only from the options and variables each server names.
      SSH_AUTH_SOCK: undefined,
      AWS_PROFILE: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_ENDPOINT_URL: undefined,
    },
  });
}

function reportOf(run: Run): JsonReport {
  try {
    return JSON.parse(run.stdout) as JsonReport;
  } catch {
    throw new Error(`no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** 2025-01-01: baseline files are old, so any edit made now is newer. */
const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

type Side = 'source' | 'destination';

/** What a cell's setup and change steps can do to the two sides. */
interface Sides {
  putLocal(path: string, content: string, mtime: number): Promise<void>;
  /** Writes a remote file (with `mtime` where the backend keeps one) and returns the mtime it reports. */
  putRemote(path: string, content: string, mtime?: number): Promise<number>;
  deleteLocal(path: string): Promise<void>;
  deleteRemote(path: string): Promise<void>;
  renameLocal(from: string, to: string): Promise<void>;
  renameRemote(from: string, to: string): Promise<void>;
}

interface Cell {
  /** The test name: the table cell and what must come of it. */
  name: string;
  /** The cell's file; every file of the cell (renamed, conflict copies) starts with its `cNN-` prefix. */
  path: string;
  /** Content both sides hold after the first sync. */
  baseline?: string;
  /** Where the baseline is put before the first sync, which copies it across. Default: source. */
  baselineAt?: Side;
  /** The change between the first and the second sync. */
  change(sides: Sides, path: string): Promise<void>;
  /** The action the second sync reports for the path; null when it reports none. */
  action: { action: ActionType; to?: string; resolution?: string } | null;
  /**
   * The cell's files on both sides after the second sync; conflict copies are named with
   * `<ts>` in place of their UTC timestamp.
   */
  final: Record<string, string>;
  /** The version that must have been kept, and on which side. */
  kept?: { side: Side; content: string };
}

const base = (path: string) => `${path}: as both sides had it after the first sync\n`;

const CELLS: Cell[] = [
  {
    name: 'created at source: UPLOAD_NEW copies it to the destination',
    path: 'c01-new-source.txt',
    change: (s, p) => s.putLocal(p, 'created at source\n', T0 + MINUTE),
    action: { action: 'UPLOAD_NEW' },
    final: { 'c01-new-source.txt': 'created at source\n' },
  },
  {
    name: 'created at destination: DOWNLOAD_NEW copies it to the source',
    path: 'c02-new-destination.txt',
    change: async (s, p) => {
      await s.putRemote(p, 'created at destination\n');
    },
    action: { action: 'DOWNLOAD_NEW' },
    final: { 'c02-new-destination.txt': 'created at destination\n' },
  },
  {
    name: 'created on both sides, identical: nothing to do',
    path: 'c03-new-both-identical.txt',
    change: async (s, p) => {
      const mtime = await s.putRemote(p, 'the same new file on both sides\n');
      await s.putLocal(p, 'the same new file on both sides\n', mtime);
    },
    action: null,
    final: { 'c03-new-both-identical.txt': 'the same new file on both sides\n' },
  },
  {
    name: 'created on both sides, different, destination newer: CONFLICT settled for the destination, source copy kept as a version',
    path: 'c04-new-both-destination-newer.txt',
    change: async (s, p) => {
      await s.putLocal(p, 'new at source, older\n', T0);
      await s.putRemote(p, 'new at destination, and newer\n');
    },
    action: { action: 'CONFLICT', resolution: 'destination' },
    final: { 'c04-new-both-destination-newer.txt': 'new at destination, and newer\n' },
    kept: { side: 'source', content: 'new at source, older\n' },
  },
  {
    name: 'created on both sides, different, source newer: CONFLICT settled for the source, destination copy kept as a version',
    path: 'c05-new-both-source-newer.txt',
    change: async (s, p) => {
      const mtime = await s.putRemote(p, 'new at destination, older\n');
      await s.putLocal(p, 'new at source, and a minute newer\n', mtime + MINUTE);
    },
    action: { action: 'CONFLICT', resolution: 'source' },
    final: { 'c05-new-both-source-newer.txt': 'new at source, and a minute newer\n' },
    kept: { side: 'destination', content: 'new at destination, older\n' },
  },
  {
    name: 'created on both sides, different, same mtime: CONFLICT keeps both, the destination copy under its conflict name',
    path: 'c06-new-both-same-mtime.txt',
    change: async (s, p) => {
      const mtime = await s.putRemote(p, 'new at destination, same time\n');
      await s.putLocal(p, 'new at source, at the same time\n', mtime);
    },
    action: { action: 'CONFLICT', resolution: 'keep-both' },
    final: {
      'c06-new-both-same-mtime.txt': 'new at source, at the same time\n',
      'c06-new-both-same-mtime.conflict-<ts>-destination.txt': 'new at destination, same time\n',
    },
  },
  {
    name: 'modified at source: UPLOAD_UPDATE, the old destination copy kept as a version',
    path: 'c07-modified-source.txt',
    baseline: base('c07-modified-source.txt'),
    change: (s, p) => s.putLocal(p, 'edited at source\n', Date.now()),
    action: { action: 'UPLOAD_UPDATE' },
    final: { 'c07-modified-source.txt': 'edited at source\n' },
    kept: { side: 'destination', content: base('c07-modified-source.txt') },
  },
  {
    name: 'modified at destination: DOWNLOAD_UPDATE, the old source copy kept as a version',
    path: 'c08-modified-destination.txt',
    baseline: base('c08-modified-destination.txt'),
    baselineAt: 'destination',
    change: async (s, p) => {
      await s.putRemote(p, 'edited at destination\n');
    },
    action: { action: 'DOWNLOAD_UPDATE' },
    final: { 'c08-modified-destination.txt': 'edited at destination\n' },
    kept: { side: 'source', content: base('c08-modified-destination.txt') },
  },
  {
    name: 'modified on both sides, identically: nothing to do',
    path: 'c09-modified-both-identical.txt',
    baseline: base('c09-modified-both-identical.txt'),
    change: async (s, p) => {
      const mtime = await s.putRemote(p, 'the same edit on both sides\n');
      await s.putLocal(p, 'the same edit on both sides\n', mtime);
    },
    action: null,
    final: { 'c09-modified-both-identical.txt': 'the same edit on both sides\n' },
  },
  {
    name: 'modified on both sides, differently, destination newer: CONFLICT settled for the destination, source edit kept as a version',
    path: 'c10-modified-both-destination-newer.txt',
    baseline: base('c10-modified-both-destination-newer.txt'),
    change: async (s, p) => {
      await s.putLocal(p, 'edited at source, earlier\n', T0 + 60 * MINUTE);
      await s.putRemote(p, 'edited at destination, later on\n');
    },
    action: { action: 'CONFLICT', resolution: 'destination' },
    final: { 'c10-modified-both-destination-newer.txt': 'edited at destination, later on\n' },
    kept: { side: 'source', content: 'edited at source, earlier\n' },
  },
  {
    name: 'modified on both sides, differently, source newer: CONFLICT settled for the source, destination edit kept as a version',
    path: 'c11-modified-both-source-newer.txt',
    baseline: base('c11-modified-both-source-newer.txt'),
    baselineAt: 'destination',
    change: async (s, p) => {
      const mtime = await s.putRemote(p, 'edited at destination, earlier\n');
      await s.putLocal(p, 'edited at source, a minute later\n', mtime + MINUTE);
    },
    action: { action: 'CONFLICT', resolution: 'source' },
    final: { 'c11-modified-both-source-newer.txt': 'edited at source, a minute later\n' },
    kept: { side: 'destination', content: 'edited at destination, earlier\n' },
  },
  {
    name: 'deleted at source: DELETE_DESTINATION, the destination copy kept as a version',
    path: 'c12-deleted-source.txt',
    baseline: base('c12-deleted-source.txt'),
    change: (s, p) => s.deleteLocal(p),
    action: { action: 'DELETE_DESTINATION' },
    final: {},
    kept: { side: 'destination', content: base('c12-deleted-source.txt') },
  },
  {
    name: 'deleted at destination: DELETE_SOURCE, the source copy kept as a version',
    path: 'c13-deleted-destination.txt',
    baseline: base('c13-deleted-destination.txt'),
    baselineAt: 'destination',
    change: (s, p) => s.deleteRemote(p),
    action: { action: 'DELETE_SOURCE' },
    final: {},
    kept: { side: 'source', content: base('c13-deleted-destination.txt') },
  },
  {
    name: 'deleted on both sides: nothing to do, the path is forgotten',
    path: 'c14-deleted-both.txt',
    baseline: base('c14-deleted-both.txt'),
    change: async (s, p) => {
      await s.deleteLocal(p);
      await s.deleteRemote(p);
    },
    action: null,
    final: {},
  },
  {
    name: 'deleted at source, modified at destination: DOWNLOAD_RESTORE, the edit wins',
    path: 'c15-deleted-source-modified-destination.txt',
    baseline: base('c15-deleted-source-modified-destination.txt'),
    baselineAt: 'destination',
    change: async (s, p) => {
      await s.deleteLocal(p);
      await s.putRemote(p, 'edited at destination after all\n');
    },
    action: { action: 'DOWNLOAD_RESTORE' },
    final: { 'c15-deleted-source-modified-destination.txt': 'edited at destination after all\n' },
  },
  {
    name: 'modified at source, deleted at destination: UPLOAD_RESTORE, the edit wins',
    path: 'c16-modified-source-deleted-destination.txt',
    baseline: base('c16-modified-source-deleted-destination.txt'),
    change: async (s, p) => {
      await s.putLocal(p, 'edited at source after all\n', Date.now());
      await s.deleteRemote(p);
    },
    action: { action: 'UPLOAD_RESTORE' },
    final: { 'c16-modified-source-deleted-destination.txt': 'edited at source after all\n' },
  },
  {
    name: 'renamed at source: RENAME_DESTINATION moves the destination copy',
    path: 'c17-renamed-source.txt',
    baseline: base('c17-renamed-source.txt'),
    baselineAt: 'destination',
    change: (s, p) => s.renameLocal(p, 'c17-renamed-source.moved.txt'),
    action: { action: 'RENAME_DESTINATION', to: 'c17-renamed-source.moved.txt' },
    final: { 'c17-renamed-source.moved.txt': base('c17-renamed-source.txt') },
  },
  {
    name: 'renamed at destination: RENAME_SOURCE moves the source copy',
    path: 'c18-renamed-destination.txt',
    baseline: base('c18-renamed-destination.txt'),
    change: (s, p) => s.renameRemote(p, 'c18-renamed-destination.moved.txt'),
    action: { action: 'RENAME_SOURCE', to: 'c18-renamed-destination.moved.txt' },
    final: { 'c18-renamed-destination.moved.txt': base('c18-renamed-destination.txt') },
  },
  {
    name: 'unchanged on both sides: nothing to do',
    path: 'c19-unchanged.txt',
    baseline: base('c19-unchanged.txt'),
    baselineAt: 'destination',
    change: async () => undefined,
    action: null,
    final: { 'c19-unchanged.txt': base('c19-unchanged.txt') },
  },
];

/** Cells that fail on a backend because of a known bug, with the bug. */
const KNOWN_BUGS: Partial<Record<RemoteBackend['name'], Record<string, string>>> = {};

const prefixOf = (path: string) => path.slice(0, path.indexOf('-') + 1);
const CONFLICT_STAMP = /\.conflict-\d{8}T\d{6}Z-/;

/** Every file below a local folder, outside the engine's own folders, as `path → content`. */
async function localFiles(root: string, under = ''): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string, prefix: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (under === '' && (entry.name === '.syncengine' || entry.name === '.sync_state')) continue;
      if (entry.isDirectory()) await walk(join(dir, entry.name), rel);
      else files[rel] = await readFile(join(dir, entry.name), 'utf8');
    }
  };
  await walk(join(root, under), under);
  return files;
}

/** Every file of a storage outside the engine's folder, or only in its versions area. */
async function remoteFiles(storage: Storage, area: 'files' | 'versions'): Promise<Record<string, string>> {
  const include =
    area === 'files'
      ? (path: string) => !path.startsWith('.syncengine')
      : (path: string) =>
          path === '.syncengine' || path === VERSIONS_DIR || path.startsWith(`${VERSIONS_DIR}/`);
  const files: Record<string, string> = {};
  for (const entry of await listAll(storage, include)) {
    if (!entry.isDir && include(entry.path)) {
      files[entry.path] = (await readAll(storage, entry.path)).toString('utf8');
    }
  }
  return files;
}

/** The cell's files, conflict timestamps replaced by `<ts>`. */
function filesOfCell(files: Record<string, string>, cell: Cell): Record<string, string> {
  const prefix = prefixOf(cell.path);
  return Object.fromEntries(
    Object.entries(files)
      .filter(([path]) => path.startsWith(prefix))
      .map(([path, content]) => [path.replace(CONFLICT_STAMP, '.conflict-<ts>-'), content]),
  );
}

/** Contents kept in a versions area for the cell's path (`.syncengine/versions/<UTC time>/<path>`). */
function versionsOfCell(versions: Record<string, string>, cell: Cell): string[] {
  const pattern = new RegExp(`^${VERSIONS_DIR}/[^/]+/${cell.path.replaceAll('.', '\\.')}$`);
  return Object.entries(versions)
    .filter(([path]) => pattern.test(path))
    .map(([, content]) => content);
}

interface Outcome {
  second: Run;
  report: JsonReport;
  files: Record<Side, Record<string, string>>;
  versions: Record<Side, Record<string, string>>;
}

describe.each(REMOTE_BACKENDS)('syncengine sync, two-way, local ↔ $name', (backend) => {
  const isAvailable = backend.missing === null;
  const bugs = KNOWN_BUGS[backend.name] ?? {};
  let work: string;
  let server: RemoteServer | undefined;
  let remote: Storage | undefined;
  let localRoot: string;
  let args: string[];
  let outcome: Outcome;
  let sides: Sides;

  const run = (extra: string[] = []) => syncengine([...args, ...extra], server?.env ?? {});

  beforeAll(async () => {
    if (!isAvailable) return;
    work = await mkdtemp(join(tmpdir(), `syncengine-cli-${backend.name}-`));
    server = await backend.start();
    const root = `pair-${Date.now()}`;
    remote = await server.open(root);
    localRoot = join(work, 'local');
    await mkdir(localRoot);
    args = [
      'sync',
      localRoot,
      server.url(root),
      '--json',
      '--state-dir',
      join(work, 'state'),
      ...server.cliArgs,
    ];
    const far = remote;
    sides = {
      async putLocal(path, content, mtime) {
        const file = join(localRoot, path);
        await writeFile(file, content);
        await utimes(file, mtime / 1000, mtime / 1000);
      },
      async putRemote(path, content, mtime = Date.now()) {
        await writeText(far, path, content, mtime);
        const entry = await far.stat(path);
        if (!entry) throw new Error(`${path} is missing right after it was written`);
        return entry.mtime;
      },
      deleteLocal: (path) => rm(join(localRoot, path)),
      deleteRemote: (path) => far.delete(path),
      renameLocal: (from, to) => rename(join(localRoot, from), join(localRoot, to)),
      renameRemote: (from, to) => far.rename(from, to),
    };

    const merged: string[] = [];
    for (const cell of CELLS) {
      if (cell.baseline === undefined) continue;
      if (cell.baselineAt === 'destination') {
        await sides.putRemote(cell.path, cell.baseline, T0);
        merged.push(`DOWNLOAD_NEW ${cell.path}`);
      } else {
        await sides.putLocal(cell.path, cell.baseline, T0);
        merged.push(`UPLOAD_NEW ${cell.path}`);
      }
    }
    // The first sync merges: each one-sided file is copied across.
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const copied = reportOf(first).actions.map((record) => `${record.action} ${record.path}`);
    expect(copied.sort()).toEqual(merged.sort());

    for (const cell of CELLS) await cell.change(sides, cell.path);
    const second = await run();
    outcome = {
      second,
      report: reportOf(second),
      files: { source: await localFiles(localRoot), destination: await remoteFiles(far, 'files') },
      versions: {
        source: await localFiles(localRoot, VERSIONS_DIR),
        destination: await remoteFiles(far, 'versions'),
      },
    };
  }, 180_000);

  afterAll(async () => {
    await remote?.close?.();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(!isAvailable)('ends the run with every change carried out: exit code 0, no errors', () => {
    expect(outcome.report.errors).toEqual([]);
    expect(outcome.report.pendingConflicts).toEqual([]);
    expect(outcome.report.status).toBe('completed');
    expect(outcome.second.code, outcome.second.stderr).toBe(0);
  });

  describe.each(CELLS)('$path', (cell) => {
    const bug = bugs[cell.path];
    const test = !isAvailable ? it.skip : bug ? it.fails : it;
    test(bug ? `${cell.name} (known bug: ${bug})` : cell.name, () => {
      const prefix = prefixOf(cell.path);
      const reported = outcome.report.actions
        .filter((record) => record.path.startsWith(prefix) || record.to?.startsWith(prefix))
        .map(({ action, path, to, resolution }) => ({
          action,
          path,
          ...(to === undefined ? {} : { to }),
          ...(resolution === undefined ? {} : { resolution }),
        }));
      expect(reported).toEqual(cell.action ? [{ path: cell.path, ...cell.action }] : []);
      expect(filesOfCell(outcome.files.source, cell), 'source').toEqual(cell.final);
      expect(filesOfCell(outcome.files.destination, cell), 'destination').toEqual(cell.final);
      if (cell.kept) {
        expect(
          versionsOfCell(outcome.versions[cell.kept.side], cell),
          `${cell.kept.side} versions`,
        ).toContain(cell.kept.content);
      }
    });
  });

  it.skipIf(!isAvailable)(
    'finds nothing left to do on the next run',
    async () => {
      const third = await run();
      expect(third.code, third.stderr).toBe(0);
      expect(reportOf(third).actions).toEqual([]);
    },
    60_000,
  );

  it.skipIf(!isAvailable)(
    'leaves a conflict untouched and pending with --conflict manual off a terminal: exit code 3',
    async () => {
      const path = 'c19-unchanged.txt';
      await sides.putLocal(path, 'c19 edited at source, in conflict\n', Date.now());
      await sides.putRemote(path, 'c19 edited at destination, in conflict too\n');
      const manual = await run(['--conflict', 'manual']);
      expect(manual.code, manual.stderr).toBe(3);
      const report = reportOf(manual);
      expect(report.pendingConflicts).toEqual([{ path }]);
      expect(report.actions).toEqual([expect.objectContaining({ action: 'CONFLICT', path })]);
      expect(manual.stderr).toContain(path);
      expect((await localFiles(localRoot))[path]).toBe('c19 edited at source, in conflict\n');
      expect((await remoteFiles(remote as Storage, 'files'))[path]).toBe(
        'c19 edited at destination, in conflict too\n',
      );
    },
    60_000,
  );
});
