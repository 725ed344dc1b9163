/**
 * Runs one rclone bisync scenario against our engine on real temporary folders and
 * compares what it left with rclone's golden listings, through the mappings of
 * differences.ts. Nothing is written into the suite folder.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ignore from 'ignore';
import type { SyncOptions, SyncResult } from '../../../src/api.js';
import type { SyncEvent } from '../../../src/events.js';
import type { StateStore } from '../../../src/state-store.js';
import type { Storage } from '../../../src/storage.js';
import { type CompareContext, compareListing, diffListings } from './compare.js';
import { NOT_APPLICABLE } from './differences.js';
import {
  comparableName,
  findGoldenListing,
  type Listing,
  type ListingSuffix,
  listVersions,
  readGoldenListing,
  type VersionedFile,
  walkTree,
} from './listing.js';
import { type MappedRun, mapBisyncOptions } from './options.js';
import { parseRcloneLog, type RcloneBisyncOutcome, type RcloneLog } from './rclone-log.js';
import {
  fsPath,
  type ParsedStep,
  parseScenario,
  pinnedDates,
  type ScenarioDirs,
  type Step,
} from './scenario.js';
import {
  copyDir,
  copyFileKeepingMtime,
  copyInto,
  deleteFile,
  deleteGlob,
  fixNames,
  pinTree,
  purgeChildren,
  touch,
  touchGlob,
} from './steps.js';

/** The engine pieces the runner drives, injected so the runner stays a plain client of the API. */
export interface EngineBinding {
  sync(options: SyncOptions): Promise<SyncResult>;
  createStorage(root: string): Storage;
  createStateStore(dir: string): StateStore;
}

export type CaseStatus = 'passed' | 'mapped difference' | 'not applicable' | 'failed';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  /** Ids of differences.ts entries the case relied on. */
  mappings: string[];
  problems: string[];
  /** Reason, for not applicable cases. */
  reason?: string;
  durationMs: number;
}

/** The date rclone's suite pins every file and folder of `initial/` to. */
export const INITIAL_DATE = '2000-01-01';
const SESSION = '_testdir_path1.._testdir_path2';

/** What the runner remembers about the latest `bisync` step. */
interface RunRecord {
  index: number;
  mapped: MappedRun;
  oursSucceeded: boolean;
  ourError: string;
  rclone: RcloneBisyncOutcome | undefined;
  root1: string;
  root2: string;
  session: string;
}

function sessionFor(subdir: string | undefined): string {
  if (subdir === undefined) return SESSION;
  const tail = `_${subdir.replace(/[\s/]/g, '_')}`;
  return `_testdir_path1${tail}.._testdir_path2${tail}`;
}

class ScenarioRun {
  readonly problems: string[] = [];
  readonly mappings = new Set<string>();
  readonly dirs: ScenarioDirs;
  readonly goldenDir: string;
  readonly log: RcloneLog;
  readonly steps: ParsedStep[];
  readonly pinned: Set<string>;
  readonly conflictSuffixes: string[];
  #bisyncCount = 0;
  #listDirsCount = 0;
  #pendingTestFunc = false;
  #pendingConcurrentFunc = false;
  #last: RunRecord | null = null;
  /** Names test-func wrote during the latest run, per side. */
  #volatile: Record<1 | 2, Set<string>> = { 1: new Set(), 2: new Set() };
  #lastStepWasMoveListings = false;
  /** Files at path1/path2 that a scenario step replaced (see CompareContext.versions). */
  #overwritten: VersionedFile[] = [];
  #caseInsensitiveGolden = false;

  constructor(
    readonly name: string,
    caseDir: string,
    readonly tmp: string,
    readonly engine: EngineBinding,
  ) {
    const testdir = join(tmp, 'testdir');
    this.dirs = {
      path1: join(tmp, 'path1'),
      path2: join(tmp, 'path2'),
      testdir,
      datadir: join(testdir, 'modfiles'),
      workdir: join(tmp, 'workdir'),
      session: SESSION,
    };
    this.goldenDir = join(caseDir, 'golden');
    // Scenario data is read-only (and shared): work on copies.
    for (const part of ['initial', 'modfiles']) {
      if (existsSync(join(caseDir, part))) copyDir(join(caseDir, part), join(testdir, part), false);
    }
    mkdirSync(join(testdir, 'initial'), { recursive: true });
    mkdirSync(this.dirs.datadir, { recursive: true });
    mkdirSync(this.dirs.workdir, { recursive: true });
    pinTree(join(testdir, 'initial'), INITIAL_DATE);
    copyDir(join(testdir, 'initial'), this.dirs.path1, false);
    copyDir(join(testdir, 'initial'), this.dirs.path2, false);
    const logFile = join(this.goldenDir, 'test.log');
    this.log = parseRcloneLog(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    this.steps = parseScenario(readFileSync(join(caseDir, 'scenario.txt'), 'utf8'), this.dirs);
    this.pinned = pinnedDates(this.steps);
    const suffixes = new Set(['conflict']);
    for (const { step } of this.steps) {
      if (step.kind !== 'bisync') continue;
      for (const option of step.options) {
        if (option.name === 'conflict-suffix' && option.value) {
          for (const suffix of option.value.split(',')) suffixes.add(suffix);
        }
      }
    }
    this.conflictSuffixes = [...suffixes];
    this.#caseInsensitiveGolden = this.steps.some(
      ({ step }) => step.kind === 'bisync' && step.options.some((option) => option.name === 'fix-case'),
    );
  }

  problem(where: ParsedStep | null, message: string): void {
    this.problems.push(where ? `line ${where.line} (${where.text}): ${message}` : message);
  }

  async run(): Promise<void> {
    for (const parsed of this.steps) {
      try {
        await this.execute(parsed);
      } catch (error) {
        // Usually the echo of an earlier difference (a file the step needs is gone); go on,
        // so that the report shows every later difference too.
        this.problem(parsed, `step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.compareSnapshot(null, null);
    this.checkBackupDirs();
  }

  /** Remembers the file a step is about to replace at `target`, when it lies in path1 or path2. */
  #noteOverwrite(target: string): void {
    for (const root of [this.dirs.path1, this.dirs.path2]) {
      if (!target.startsWith(`${root}/`)) continue;
      const bytes = fsPath(target);
      if (!existsSync(bytes) || !lstatSync(bytes).isFile()) continue;
      const { size, mtimeMs } = lstatSync(bytes);
      this.#overwritten.push({ path: comparableName(target.slice(root.length + 1)), size, mtime: mtimeMs });
    }
  }

  #copyInto(src: string, dstDir: string, name?: string): void {
    const target = `${dstDir.replace(/\/$/, '')}/${name ?? src.slice(src.lastIndexOf('/') + 1)}`;
    this.#noteOverwrite(target);
    copyInto(src, dstDir, name);
  }

  async execute(parsed: ParsedStep): Promise<void> {
    const step: Step = parsed.step;
    if (step.kind !== 'test') this.#lastStepWasMoveListings = step.kind === 'move-listings';
    switch (step.kind) {
      case 'test':
        return;
      case 'copy-file':
        return this.#copyInto(step.src, step.dstDir);
      case 'copy-as': {
        const normal = (text: string) => (step.form ? text.normalize(step.form) : text);
        return this.#copyInto(step.src, normal(step.dstDir), normal(step.name));
      }
      case 'touch-glob':
        touchGlob(step.date, step.dir, step.glob);
        return;
      case 'touch-copy':
        touch(step.src, step.date);
        return this.#copyInto(step.src, step.dstDir);
      case 'delete-file':
        return deleteFile(step.path);
      case 'delete-glob':
        return deleteGlob(step.dir, step.glob);
      case 'purge-children':
        return purgeChildren(step.dir);
      case 'copy-dir':
      case 'sync-dir':
        return copyDir(step.src, step.dst, step.kind === 'sync-dir');
      case 'list-dirs':
        return this.checkListDirs(parsed, step.dir);
      case 'list-files':
        return;
      case 'copy-listings':
      case 'move-listings':
        this.compareSnapshot(parsed, step.prefix);
        // Moving rclone's listings away leaves it without prior state; ours is the state store.
        if (step.kind === 'move-listings' && this.#last)
          rmSync(this.stateDir(this.#last.session), { recursive: true, force: true });
        return;
      case 'test-func':
        this.#pendingTestFunc = true;
        return;
      case 'concurrent-func':
        this.#pendingConcurrentFunc = true;
        return;
      case 'fix-names':
        return fixNames(step.path);
      case 'bisync':
        return this.bisync(parsed, step.options);
    }
  }

  stateDir(session: string): string {
    return join(this.dirs.workdir, 'state', session);
  }

  /** rclone's test-func: 50 new files appear on each side while the run is under way. */
  #testFunc(): void {
    const source = join(this.dirs.datadir, 'file7.txt');
    for (let index = 0; index < 50; index++) {
      this.#noteOverwrite(join(this.dirs.path2, `file${index}.txt`));
      this.#noteOverwrite(join(this.dirs.path1, `file${100 - index}.txt`));
      copyFileKeepingMtime(source, join(this.dirs.path2, `file${index}.txt`));
      copyFileKeepingMtime(source, join(this.dirs.path1, `file${100 - index}.txt`));
      this.#volatile[2].add(`file${index}.txt`);
      this.#volatile[1].add(`file${100 - index}.txt`);
    }
  }

  /** rclone's concurrent-func: path2/file1.txt changes while the run is under way. */
  #concurrentFunc(): void {
    this.#noteOverwrite(join(this.dirs.path2, 'file1.txt'));
    copyFileKeepingMtime(join(this.dirs.datadir, 'file7.txt'), join(this.dirs.path2, 'file1.txt'));
  }

  async bisync(parsed: ParsedStep, options: Parameters<typeof mapBisyncOptions>[0]): Promise<void> {
    const index = this.#bisyncCount++;
    const rclone = this.log.bisyncs[index];
    const mapped = mapBisyncOptions(options);
    if (mapped.unsupportedOptions.length > 0) {
      this.problem(parsed, `options with no mapping: ${mapped.unsupportedOptions.join(', ')}`);
    }
    const session = sessionFor(mapped.subdir);
    const root1 = mapped.subdir ? join(this.dirs.path1, mapped.subdir) : this.dirs.path1;
    const root2 = mapped.subdir ? join(this.dirs.path2, mapped.subdir) : this.dirs.path2;
    let stateDir = this.stateDir(session);
    if (mapped.resync) {
      if (mapped.config.dryRun) {
        // A dry-run resync must not discard the real state: plan against an empty one.
        stateDir = join(this.dirs.workdir, 'state-dry-run', `${index}`);
      }
      rmSync(stateDir, { recursive: true, force: true });
    }
    mkdirSync(stateDir, { recursive: true });

    const before1 = walkTree(root1).files;
    const before2 = walkTree(root2).files;
    const runTestFunc = this.#pendingTestFunc;
    const runConcurrentFunc = this.#pendingConcurrentFunc;
    this.#pendingTestFunc = false;
    this.#pendingConcurrentFunc = false;
    this.#volatile = { 1: new Set(), 2: new Set() };
    let hooked = false;
    const onEvent = (event: SyncEvent) => {
      // Both sides are scanned and the plan made: the moment rclone's hooks fire.
      if (hooked || (event.type !== 'plan_ready' && event.type !== 'sync_start')) return;
      hooked = true;
      if (runTestFunc) this.#testFunc();
      if (runConcurrentFunc) this.#concurrentFunc();
    };

    let oursSucceeded = false;
    let ourError = '';
    let onlyChangedDuringTransfer = false;
    try {
      const syncOptions: SyncOptions = {
        source: this.engine.createStorage(root1),
        destination: this.engine.createStorage(root2),
        state: this.engine.createStateStore(stateDir),
        config: mapped.config,
        onEvent,
      };
      if (mapped.onConflict) syncOptions.onConflict = mapped.onConflict;
      const result = await this.engine.sync(syncOptions);
      oursSucceeded =
        result.status === 'completed' && result.errors.length === 0 && result.deferred.length === 0;
      onlyChangedDuringTransfer =
        result.status === 'completed' && result.errors.length === 0 && result.deferred.length > 0;
      ourError = [
        result.status,
        ...[...result.errors, ...result.deferred].map((error) => `${error.code}: ${error.message}`),
      ].join('; ');
    } catch (error) {
      ourError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (!hooked && (runTestFunc || runConcurrentFunc)) {
      this.problem(
        parsed,
        'the engine emitted neither plan_ready nor sync_start, so test-func/concurrent-func never ran',
      );
    }

    this.#last = { index, mapped, oursSucceeded, ourError, rclone, root1, root2, session };
    if (!rclone) {
      this.problem(parsed, "no matching bisync step in rclone's test.log");
      return;
    }
    if (rclone.succeeded && !oursSucceeded && onlyChangedDuringTransfer) {
      this.mappings.add('CHANGED-DURING-RUN');
    } else if (rclone.succeeded && !oursSucceeded) {
      this.problem(parsed, `rclone's run succeeded, ours did not: ${ourError}`);
    } else if (!rclone.succeeded && !oursSucceeded) {
      const changes = [
        ...diffListings(before1, walkTree(root1).files).map((change) => `path1: ${change}`),
        ...diffListings(before2, walkTree(root2).files).map((change) => `path2: ${change}`),
      ];
      if (changes.length > 0) this.problem(parsed, `refused run changed files: ${changes.join(', ')}`);
    } else if (!rclone.succeeded && oursSucceeded) {
      const reason = rclone.errors.join(' | ');
      const mapping = /mustn't overlap/.test(reason)
        ? 'BACKUPDIR-OVERLAP'
        : /filters file/.test(reason)
          ? 'FILTERS-CHANGED'
          : /cannot find prior Path1 or Path2 listings/.test(reason)
            ? 'LOCKOUT'
            : /all files were changed/.test(reason)
              ? 'ALL-CHANGED'
              : null;
      if (mapping) this.mappings.add(mapping);
      else this.problem(parsed, `rclone refused this run (${reason || 'no error text'}), ours ran`);
    }
  }

  /** Our listing of a root as rclone would list it: filtered by the run's ignore patterns. */
  #ourListing(root: string, patterns: string[]): Listing {
    const files = walkTree(root).files;
    if (patterns.length === 0) return files;
    const matcher = ignore().add(patterns);
    return new Map([...files].filter(([name]) => !matcher.ignores(name)));
  }

  #versions(): VersionedFile[] {
    const roots = new Set([this.dirs.path1, this.dirs.path2]);
    if (this.#last) {
      roots.add(this.#last.root1);
      roots.add(this.#last.root2);
    }
    return [...roots].flatMap(listVersions);
  }

  /**
   * Compares both trees with the golden listings of `prefix` (null: the final ones). Which
   * golden file describes the trees depends on how rclone's last run ended: `.lst` after a
   * success, `.lst-dry-new` (what was there) after a dry run, `.lst-new` (what was there)
   * after a refusal.
   */
  compareSnapshot(where: ParsedStep | null, prefix: string | null): void {
    const last = this.#last;
    if (!last) {
      this.problem(where, 'listing snapshot before any bisync');
      return;
    }
    const context: CompareContext = {
      pinnedDates: this.pinned,
      conflictSuffixes: this.conflictSuffixes,
      versions: [...this.#versions(), ...this.#overwritten],
      caseInsensitiveGolden: this.#caseInsensitiveGolden,
    };
    const read = (side: 1 | 2, suffix: ListingSuffix) => {
      const file = findGoldenListing(this.goldenDir, prefix, side, suffix, last.session);
      return file ? { file: file.slice(file.lastIndexOf('/') + 1), listing: readGoldenListing(file) } : null;
    };
    const hasEntries = (suffix: ListingSuffix) =>
      ([1, 2] as const).some((side) => (read(side, suffix)?.listing.size ?? 0) > 0);
    // After a refusal, `-new` is what rclone found when it started, unless it stopped before
    // listing (both `-new` empty): then its last good listing, `-err`, is the best record.
    const candidates: ListingSuffix[] = !last.rclone?.succeeded
      ? hasEntries('lst-new')
        ? ['lst-new']
        : ['lst-err', 'lst']
      : last.mapped.config.dryRun
        ? hasEntries('lst-dry-new')
          ? ['lst-dry-new']
          : ['lst-dry', 'lst']
        : ['lst'];
    const found = ([1, 2] as const).map((side) => {
      for (const suffix of candidates) {
        const golden = read(side, suffix);
        if (golden) return golden;
      }
      return null;
    });
    if (prefix === null && found.every((golden) => golden === null) && this.#lastStepWasMoveListings) {
      // rclone moved its final listings away; the move-listings snapshot was the last comparison.
      return;
    }
    for (const side of [1, 2] as const) {
      const golden = found[side - 1];
      if (!golden) {
        this.problem(where, `no golden listing for ${prefix ?? 'the end'} path${side}`);
        continue;
      }
      const ours = this.#ourListing(
        side === 1 ? last.root1 : last.root2,
        last.mapped.config.ignorePatterns ?? [],
      );
      const outcome = compareListing(golden.file, golden.listing, ours, context, this.#volatile[side]);
      for (const id of outcome.mappingsUsed) this.mappings.add(id);
      for (const message of outcome.problems) this.problem(where, message);
    }
  }

  /** `list-dirs DIR` against what rclone printed for the same step. */
  checkListDirs(parsed: ParsedStep, dir: string): void {
    const expected = this.log.listDirs[this.#listDirsCount++];
    if (!expected) return;
    const ours = [...walkTree(dir).dirs].sort();
    const theirs = expected.map(comparableName).sort();
    if (ours.join('\n') === theirs.join('\n')) return;
    const isRemoveEmptyDirs = this.#last?.mapped && this.#lastHadOption('remove-empty-dirs');
    if (isRemoveEmptyDirs && theirs.every((name) => ours.includes(name))) {
      this.mappings.add('EMPTY-DIRS');
      return;
    }
    this.problem(parsed, `folders: expected [${theirs.join(', ')}], got [${ours.join(', ')}]`);
  }

  #lastHadOption(name: string): boolean {
    const last = this.#last;
    if (!last) return false;
    const step = this.steps.filter(({ step }) => step.kind === 'bisync')[last.index]?.step;
    return step?.kind === 'bisync' && step.options.some((option) => option.name === name);
  }

  /** Every file rclone moved into backupdir1/2 must be in our versions area of that side. */
  checkBackupDirs(): void {
    const golden = join(this.goldenDir, 'backupdirs');
    if (!existsSync(golden)) return;
    this.mappings.add('VERSIONS-AREA');
    for (const side of [1, 2] as const) {
      const backup = join(golden, `backupdir${side}`);
      if (!existsSync(backup)) continue;
      const versions = listVersions(side === 1 ? this.dirs.path1 : this.dirs.path2);
      for (const [name, file] of walkTree(backup).files) {
        if (!versions.some((version) => version.path === name && version.size === file.size)) {
          this.problem(
            null,
            `backupdir${side}/${name} (${file.size} B) is not in path${side}'s versions area`,
          );
        }
      }
    }
  }
}

/** Runs one `test_*` case of the suite. */
export async function runScenario(
  suiteDir: string,
  name: string,
  engine: EngineBinding,
): Promise<CaseResult> {
  const started = Date.now();
  const reason = NOT_APPLICABLE[name];
  if (reason !== undefined) {
    return { name, status: 'not applicable', mappings: [], problems: [], reason, durationMs: 0 };
  }
  const tmp = mkdtempSync(join(tmpdir(), `rclone-bisync-${name}-`));
  try {
    const run = new ScenarioRun(name, join(suiteDir, name), tmp, engine);
    try {
      await run.run();
    } catch (error) {
      run.problem(null, `runner stopped: ${error instanceof Error ? error.message : String(error)}`);
    }
    const mappings = [...run.mappings].sort();
    // Stable, readable messages: no temporary folder names, no run timestamps, raw bytes as \xHH.
    const problems = run.problems.map((problem) =>
      problem
        .replaceAll(tmp, '<tmp>')
        .replace(/\d{8}T\d{6}Z/g, '<UTC ts>')
        .replace(/[\udc80-\udcff]/g, (char) => `\\x${(char.charCodeAt(0) - 0xdc00).toString(16)}`),
    );
    const status: CaseStatus =
      problems.length > 0 ? 'failed' : mappings.length > 0 ? 'mapped difference' : 'passed';
    return { name, status, mappings, problems, durationMs: Date.now() - started };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The `test_*` folders of the suite, sorted. */
export function listScenarios(suiteDir: string): string[] {
  return readdirSync(suiteDir)
    .filter((name) => name.startsWith('test_') && statSync(join(suiteDir, name)).isDirectory())
    .sort();
}
