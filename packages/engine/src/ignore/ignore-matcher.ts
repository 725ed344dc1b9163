import ignore, { type Ignore } from 'ignore';
import { isSyncError, SyncError } from '../errors.js';
import {
  baseName,
  IGNORE_FILE_NAME,
  isEngineInternalPath,
  joinPath,
  normalizeRelativePath,
  parentPath,
} from '../paths.js';
import type { Storage } from '../storage.js';

export interface IgnoreMatcherOptions {
  /** The pair's gitignore-syntax patterns; they apply from the root, before the root `.syncignore`. */
  patterns?: readonly string[];
  /** The SOURCE storage, where `.syncignore` files are read (root and nested folders). */
  storage?: Storage;
  /**
   * `eager` (default): before returning, read every `.syncignore` in folders that are not
   * themselves ignored, with one listing pass that stats only folders and `.syncignore`
   * files. `lazy`: read only the root's; call `loadDirectory()` / `addIgnoreFile()` as
   * folders are met.
   */
  nested?: 'eager' | 'lazy';
  /** Match case-insensitively (default false, like git on Linux). */
  ignoreCase?: boolean;
  signal?: AbortSignal;
}

/** Why a path is (not) ignored: the rule that decided, and where it came from. */
export interface IgnoreVerdict {
  ignored: boolean;
  /** The deciding pattern (for a re-included path, the `!` pattern). */
  pattern?: string;
  /** `patterns` (the pair's list), the `.syncignore` path that held the rule, or `internal`. */
  source?: string;
}

/**
 * Decides which paths a sync leaves alone (SPEC §7). Paths are relative to the root,
 * normalised. The engine's own paths are always ignored.
 */
export interface IgnoreMatcher {
  isIgnored(path: string, isDir: boolean): boolean;
  /** The reason behind `isIgnored`. */
  explain(path: string, isDir: boolean): IgnoreVerdict;
  /** `!isIgnored`, bound, usable as `ListOptions.include` on either side. */
  readonly include: (path: string, isDir: boolean) => boolean;
  /** Reads `<dir>/.syncignore` from the storage if there is one (at most once per folder). */
  loadDirectory(dir: string): Promise<void>;
  /** Adds the rules of `<dir>/.syncignore` from text already read. */
  addIgnoreFile(dir: string, content: string): void;
  /** The `.syncignore` files loaded so far. */
  readonly ignoreFiles: readonly string[];
}

interface Level {
  dir: string;
  rules: Ignore;
  lines: readonly string[];
  source: string;
}

/** Strips a UTF-8 BOM and splits lines; `ignore` handles comments, blanks and escapes. */
function patternLines(content: string): string[] {
  return content.replace(/^\uFEFF/, '').split(/\r?\n/);
}

function relativeTo(path: string, dir: string): string {
  return dir === '' ? path : path.slice(dir.length + 1);
}

class Matcher implements IgnoreMatcher {
  /** Rules per folder ('' = root, with the pair's patterns first). */
  private readonly levels = new Map<string, Level[]>();
  private readonly loaded = new Set<string>();
  /** `.syncignore` reads under way, by folder. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly files: string[] = [];
  /** Verdicts for folders, since every path below a folder asks about it. */
  private readonly dirCache = new Map<string, boolean>();
  readonly include = (path: string, isDir: boolean): boolean => !this.isIgnored(path, isDir);

  constructor(
    patterns: readonly string[],
    private readonly storage: Storage | undefined,
    private readonly ignoreCase: boolean,
  ) {
    if (patterns.length > 0) this.addLevel('', patterns, 'patterns');
  }

  get ignoreFiles(): readonly string[] {
    return this.files;
  }

  private addLevel(dir: string, lines: readonly string[], source: string): void {
    const rules = ignore({ ignorecase: this.ignoreCase, allowRelativePaths: true }).add(lines);
    const list = this.levels.get(dir) ?? [];
    list.push({ dir, rules, lines, source });
    this.levels.set(dir, list);
    this.dirCache.clear();
  }

  addIgnoreFile(dir: string, content: string): void {
    const folder = normalizeRelativePath(dir, { allowRoot: true });
    this.loaded.add(folder);
    const file = joinPath(folder, IGNORE_FILE_NAME);
    if (!this.files.includes(file)) this.files.push(file);
    this.addLevel(folder, patternLines(content), file);
  }

  loadDirectory(dir: string): Promise<void> {
    const folder = normalizeRelativePath(dir, { allowRoot: true });
    if (!this.storage) return Promise.resolve();
    // A load still under way is shared: whoever asks next waits until its rules are in.
    const pending = this.pending.get(folder);
    if (pending) return pending;
    if (this.loaded.has(folder)) return Promise.resolve();
    this.loaded.add(folder);
    const load = this.readIgnoreFile(this.storage, folder).finally(() => this.pending.delete(folder));
    this.pending.set(folder, load);
    return load;
  }

  private async readIgnoreFile(storage: Storage, folder: string): Promise<void> {
    const file = joinPath(folder, IGNORE_FILE_NAME);
    let content: string;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.read(file)) chunks.push(Buffer.from(chunk as Uint8Array));
      content = Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (isSyncError(error, 'NOT_FOUND') || isSyncError(error, 'CONFLICT')) return;
      throw error;
    }
    this.addIgnoreFile(folder, content);
  }

  isIgnored(path: string, isDir: boolean): boolean {
    if (path === '') return false;
    if (isEngineInternalPath(path)) return true;
    // No patterns and no .syncignore anywhere: nothing else is ignored.
    if (this.levels.size === 0) return false;
    if (isDir) {
      const cached = this.dirCache.get(path);
      if (cached !== undefined) return cached;
    }
    const parent = parentPath(path);
    const ignored = (parent !== '' && this.isIgnored(parent, true)) || this.decide(path, isDir).ignored;
    if (isDir) this.dirCache.set(path, ignored);
    return ignored;
  }

  explain(path: string, isDir: boolean): IgnoreVerdict {
    if (path !== '' && isEngineInternalPath(path)) return { ignored: true, source: 'internal' };
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const ancestor = segments.slice(0, i).join('/');
      if (isEngineInternalPath(ancestor)) return { ignored: true, source: 'internal' };
      const verdict = this.decide(ancestor, true, true);
      if (verdict.ignored) return verdict;
    }
    return path === '' ? { ignored: false } : this.decide(path, isDir, true);
  }

  /** Applies the levels from the root down; the deepest level with an opinion wins. */
  private decide(path: string, isDir: boolean, withPattern = false): IgnoreVerdict {
    let verdict: IgnoreVerdict = { ignored: false };
    const visit = (dir: string) => {
      const levels = this.levels.get(dir);
      if (!levels) return;
      const rel = relativeTo(path, dir);
      const subject = isDir ? `${rel}/` : rel;
      for (const level of levels) {
        const result = level.rules.test(subject);
        if (result.ignored) verdict = { ignored: true, pattern: result.rule?.pattern, source: level.source };
        else if (result.unignored) {
          verdict = { ignored: false, source: level.source };
          if (withPattern) verdict.pattern = findNegation(level, subject, this.ignoreCase);
        }
      }
    };
    visit('');
    let dir = '';
    const segments = path.split('/');
    for (let i = 0; i < segments.length - 1; i++) {
      dir = joinPath(dir, segments[i]!);
      visit(dir);
    }
    return verdict;
  }

  /** Reads every `.syncignore` in folders that are not ignored. */
  async loadAll(signal: AbortSignal | undefined): Promise<void> {
    if (!this.storage) return;
    await this.loadDirectory('');
    const include = (path: string, isDir: boolean) =>
      isDir
        ? !this.isIgnored(path, true)
        : baseName(path) === IGNORE_FILE_NAME && !this.isIgnored(path, false);
    for await (const entry of this.storage.list({ include, ...(signal ? { signal } : {}) })) {
      if (entry.isDir || baseName(entry.path) !== IGNORE_FILE_NAME) continue;
      const dir = parentPath(entry.path);
      if (dir !== '') await this.loadDirectory(dir);
    }
  }
}

/** The negated pattern that re-included `subject` (the `ignore` package reports only ignoring rules). */
function findNegation(level: Level, subject: string, ignoreCase: boolean): string | undefined {
  let found: string | undefined;
  for (const line of level.lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('!')) continue;
    if (ignore({ ignorecase: ignoreCase, allowRelativePaths: true }).add(trimmed.slice(1)).ignores(subject)) {
      found = trimmed;
    }
  }
  return found;
}

/**
 * Builds the matcher for a pair: its patterns plus the `.syncignore` files of the source.
 * A missing root is not an error here (the scan reports it).
 */
export async function createIgnoreMatcher(options: IgnoreMatcherOptions = {}): Promise<IgnoreMatcher> {
  const matcher = new Matcher(options.patterns ?? [], options.storage, options.ignoreCase ?? false);
  try {
    if (options.nested === 'lazy') await matcher.loadDirectory('');
    else await matcher.loadAll(options.signal);
  } catch (error) {
    if (!isSyncError(error, 'NOT_FOUND')) throw error;
  }
  return matcher;
}

/**
 * Pure check of one path against a pattern list, for "test a path" boxes and the API.
 * A trailing `/` marks a folder. Invalid paths throw `SyncError('INVALID_PATH')`.
 */
export function testIgnorePatterns(
  patterns: readonly string[],
  path: string,
  isDir?: boolean,
): IgnoreVerdict {
  const folder = isDir ?? path.endsWith('/');
  const normalized = normalizeRelativePath(path);
  if (normalized === '') throw new SyncError('INVALID_PATH', 'empty path');
  const matcher = new Matcher(patterns, undefined, false);
  return matcher.explain(normalized, folder);
}
